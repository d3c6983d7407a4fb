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

describe("FakeClock guards its callbacks like the system clock", () => {
  it("a throwing or rejecting timer is recorded as a fault and the timers after it still fire", async () => {
    const { faultCountsByWhere } = await import("./faults.js");
    const before = faultCountsByWhere()["test.fake.throw"] ?? 0;
    const c = new FakeClock();
    const fired: string[] = [];
    c.setTimeout(() => {
      throw new Error("boom");
    }, 10, "test.fake.throw");
    c.setTimeout(() => Promise.reject(new Error("later boom")), 15, "test.fake.reject");
    c.setTimeout(() => fired.push("after"), 20);
    c.advance(30);
    await Promise.resolve();
    expect(fired).toEqual(["after"]);
    expect(faultCountsByWhere()["test.fake.throw"]).toBe(before + 1);
    expect(faultCountsByWhere()["test.fake.reject"]).toBeGreaterThanOrEqual(1);
  });
});
