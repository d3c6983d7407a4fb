import { describe, expect, it } from "vitest";
import { RecentIds } from "../../src/output/events/recent-ids.js";

describe("RecentIds (the append-side dedupe window)", () => {
  it("reports an id as seen only after it was offered once", () => {
    const w = new RecentIds(4);
    expect(w.seen("gw:L1:1")).toBe(false);
    expect(w.seen("gw:L1:2")).toBe(false);
    expect(w.seen("gw:L1:1")).toBe(true);
    expect(w.seen("gw:L1:2")).toBe(true);
  });

  it("forgets the oldest id once more than `capacity` ids were offered", () => {
    const w = new RecentIds(3);
    for (const id of ["a", "b", "c", "d"]) expect(w.seen(id)).toBe(false);
    // "a" left the window (the fourth id pushed it out); "b".."d" are still inside.
    expect(w.seen("b")).toBe(true);
    expect(w.seen("d")).toBe(true);
    expect(w.seen("a")).toBe(false);
  });

  it("a repeat does not refresh an id's place: the window is first-seen order", () => {
    const w = new RecentIds(2);
    w.seen("a");
    w.seen("b");
    expect(w.seen("a")).toBe(true);
    w.seen("c"); // evicts "a" (oldest first seen), not "b"
    expect(w.seen("b")).toBe(true);
    expect(w.seen("a")).toBe(false);
  });
});
