import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.js";

describe("FakeClock", () => {
  it("fires due timers in order and moves both clocks", () => {
    const c = new FakeClock(1_000_000);
    const fired: string[] = [];
    c.setTimeout(() => fired.push("b"), 200);
    const h = c.setTimeout(() => fired.push("x"), 150);
    c.setTimeout(() => {
      fired.push("a");
      c.setTimeout(() => fired.push("c"), 50);
    }, 100);
    c.clearTimeout(h);
    c.advance(160);
    expect(fired).toEqual(["a", "c"]);
    c.advance(100);
    expect(fired).toEqual(["a", "c", "b"]);
    expect(c.monotonic()).toBe(260);
    expect(c.now()).toBe(1_000_260);
    expect(c.pendingCount).toBe(0);
  });
});
