/** ShcChunkAssembler: order, duplicates, conflicts (index collisions), expiry and bounds. */
import { describe, expect, it } from "vitest";
import { ShcChunkAssembler } from "../../src/verify/index.js";
import { readShc } from "./support/shc.js";

const parts = [0, 1, 2].map((i) => readShc(`example-02-f-qr-code-numeric-value-${i}.txt`));
const whole = "shc:/" + parts.map((p) => p.replace(/^shc:\/\d+\/\d+\//, "")).join("");

describe("ShcChunkAssembler", () => {
  it("a non-chunked card is complete at once", () => {
    const single = readShc("example-00-f-qr-code-numeric-value-0.txt");
    expect(new ShcChunkAssembler().add(single, 0)).toEqual({ status: "complete", text: single });
  });

  it("assembles in any order; a chunk seen twice (same frame again) is not counted twice", () => {
    const a = new ShcChunkAssembler();
    expect(a.add(parts[1]!, 0)).toEqual({ status: "pending", have: 1, total: 3 });
    expect(a.add(parts[1]!, 10)).toEqual({ status: "pending", have: 1, total: 3 });
    expect(a.add(parts[2]!, 20)).toEqual({ status: "pending", have: 2, total: 3 });
    expect(a.add(parts[0]!, 30)).toEqual({ status: "complete", text: whole });
    expect(a.pending).toBe(0);
  });

  it("index collision (same index, other digits: another card) restarts the group", () => {
    const a = new ShcChunkAssembler();
    a.add(parts[0]!, 0);
    a.add(parts[1]!, 0);
    const other = "shc:/2/3/" + "56".repeat(20);
    expect(a.add(other, 5)).toEqual({ status: "pending", have: 1, total: 3 });
    // The first card comes back: its chunk 2 collides again, and the group holds only that card's chunks.
    expect(a.add(parts[1]!, 6)).toEqual({ status: "pending", have: 1, total: 3 });
    a.add(parts[0]!, 7);
    expect(a.add(parts[2]!, 8)).toEqual({ status: "complete", text: whole });
  });

  it("chunks older than maxAgeMs are dropped", () => {
    const a = new ShcChunkAssembler({ maxAgeMs: 1000 });
    a.add(parts[0]!, 0);
    a.add(parts[1]!, 500);
    expect(a.add(parts[2]!, 2000)).toEqual({ status: "pending", have: 1, total: 3 });
  });

  it("bounded: at most maxPending groups, at most 8 chunks, bad headers are errors", () => {
    const a = new ShcChunkAssembler({ maxPending: 2 });
    a.add("shc:/1/2/5656", 0);
    a.add("shc:/1/3/5656", 0);
    a.add("shc:/1/4/5656", 0);
    expect(a.pending).toBe(2);
    expect(a.add("shc:/1/9/5656", 0)).toEqual({ status: "error", reason: "SIZE_LIMIT" });
    expect(a.add("shc:/4/3/5656", 0)).toEqual({ status: "error", reason: "NUMERIC_INVALID" });
    expect(a.add("shc:/1/3/565", 0)).toEqual({ status: "error", reason: "NUMERIC_INVALID" });
    expect(a.add("shc:/1/1/5656", 0)).toEqual({ status: "error", reason: "NUMERIC_INVALID" });
  });
});
