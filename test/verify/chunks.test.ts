/** ShcChunkAssembler: order, duplicates, two cards of one size (index collisions), rejected splices, expiry and bounds. */
import { describe, expect, it } from "vitest";
import { ShcChunkAssembler } from "../../src/verify/index.js";
import { readShc } from "./support/shc.js";

const parts = [0, 1, 2].map((i) => readShc(`example-02-f-qr-code-numeric-value-${i}.txt`));
const whole = "shc:/" + parts.map((p) => p.replace(/^shc:\/\d+\/\d+\//, "")).join("");

describe("ShcChunkAssembler", () => {
  it("a non-chunked card is complete at once", () => {
    const single = readShc("example-00-f-qr-code-numeric-value-0.txt");
    expect(new ShcChunkAssembler().add(single, 0)).toEqual({ status: "complete", text: single, parts: [single], ambiguous: false });
  });

  it("assembles in any order; a chunk seen twice (same frame again) is not counted twice", () => {
    const a = new ShcChunkAssembler();
    expect(a.add(parts[1]!, 0)).toEqual({ status: "pending", have: 1, total: 3 });
    expect(a.add(parts[1]!, 10)).toEqual({ status: "pending", have: 1, total: 3 });
    expect(a.add(parts[2]!, 20)).toEqual({ status: "pending", have: 2, total: 3 });
    expect(a.add(parts[0]!, 30)).toEqual({ status: "complete", text: whole, parts: [parts[0], parts[1], parts[2]], ambiguous: false });
    expect(a.pending).toBe(0);
  });

  it("index collision (same index, other digits: another card): both are candidates, the newest complete the card, which is then ambiguous", () => {
    const a = new ShcChunkAssembler();
    a.add(parts[0]!, 0);
    a.add(parts[1]!, 0);
    const other = "shc:/2/3/" + "56".repeat(20);
    expect(a.add(other, 5)).toEqual({ status: "pending", have: 2, total: 3 });
    // The first card's chunk 2 is seen again, after the other one: it is the newer.
    expect(a.add(parts[1]!, 6)).toEqual({ status: "pending", have: 2, total: 3 });
    expect(a.add(parts[2]!, 8)).toEqual({ status: "complete", text: whole, parts: [parts[0], parts[1], parts[2]], ambiguous: true });
  });

  it("a frame's chunks are all taken in first; a rejected splice is not offered again while its chunks are in view, the other combinations are", () => {
    const a = new ShcChunkAssembler({ maxAgeMs: 1000 });
    const [a1, a2, b1, b2] = ["shc:/1/2/1111", "shc:/2/2/2222", "shc:/1/2/3333", "shc:/2/2/4444"];
    // Read A1 B1 B2 A2: the newest of each position are B1 and A2, a splice.
    const first = a.addFrame([a1!, b1!, b2!, a2!], 0);
    expect(first.map((c) => [c.text, c.ambiguous])).toEqual([["shc:/33332222", true], ["shc:/11114444", true]]);
    for (const c of first) a.reject(c);
    const next = a.addFrame([a1!, b1!, b2!, a2!], 66);
    expect(next.map((c) => c.text)).toEqual(["shc:/33334444", "shc:/11112222"]);
    // Chunks in a card handed out are not offered again, nor are rejected ones while still in view.
    expect(a.addFrame([a1!, b1!, b2!, a2!], 132)).toEqual([]);
  });

  it("a chunk not seen for maxAgeMs is dropped before it can complete another card (times are the caller's: a lane's monotonic frame times)", () => {
    const a = new ShcChunkAssembler({ maxAgeMs: 2500 });
    expect(a.addFrame(["shc:/1/2/1111"], 0)).toEqual([]);
    expect(a.addFrame(["shc:/2/2/4444"], 2600)).toEqual([]);
    expect(a.addFrame(["shc:/1/2/3333"], 2700).map((c) => [c.text, c.ambiguous])).toEqual([["shc:/33334444", false]]);
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
