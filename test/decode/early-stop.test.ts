import { describe, expect, it } from "vitest";
import { shouldYield, WaitingBoard, WAITING_ACTIVE, WAITING_WATCH, yieldPolicy } from "../../src/decode/early-stop.js";

describe("yieldPolicy (decided at dispatch)", () => {
  const recentMs = 250;
  it("lets idle slow-schedule frames give way to any frame that may hold a code", () => {
    expect(yieldPolicy({ cls: "idle", recentMs })).toBe("in-view");
  });

  it("lets watch frames and weak active frames give way to active ones", () => {
    expect(yieldPolicy({ cls: "watch", recentMs })).toBe("active");
    expect(yieldPolicy({ cls: "active", weak: true, recentMs })).toBe("active");
  });

  it("protects an active frame's cascade unless its camera completed one moments ago", () => {
    expect(yieldPolicy({ cls: "active", recentMs })).toBe("never");
    expect(yieldPolicy({ cls: "active", sinceFullDoneMs: 400, recentMs })).toBe("never");
    expect(yieldPolicy({ cls: "active", sinceFullDoneMs: 67, recentMs })).toBe("active");
    expect(yieldPolicy({ cls: "active", sinceFullDoneMs: 250, recentMs })).toBe("never");
  });
});

describe("shouldYield (asked between passes)", () => {
  it("never stops a protected frame, whatever waits", () => {
    expect(shouldYield("never", 5, 5)).toBe(false);
  });

  it("stops for a waiting active frame, and an idle frame also for a waiting watch frame", () => {
    expect(shouldYield("active", 0, 0)).toBe(false);
    expect(shouldYield("active", 0, 3)).toBe(false);
    expect(shouldYield("active", 1, 0)).toBe(true);
    expect(shouldYield("in-view", 0, 0)).toBe(false);
    expect(shouldYield("in-view", 0, 1)).toBe(true);
    expect(shouldYield("in-view", 2, 0)).toBe(true);
  });
});

describe("WaitingBoard", () => {
  it("publishes waiting counts by class that another view of the same buffer reads", () => {
    const pool = new WaitingBoard();
    const worker = new WaitingBoard(pool.buffer);
    pool.publish([{ cls: "active" }, { cls: "idle" }, { cls: "watch" }, { cls: "active" }]);
    expect([worker.view[WAITING_ACTIVE], worker.view[WAITING_WATCH]]).toEqual([2, 1]);
    const idleStop = worker.stopCheck("in-view")!;
    const watchStop = worker.stopCheck("active")!;
    expect(worker.stopCheck("never")).toBeUndefined();
    expect(worker.stopCheck(undefined)).toBeUndefined();
    expect([idleStop(), watchStop()]).toEqual([true, true]);
    pool.publish([{ cls: "watch" }, { cls: "idle" }]);
    expect([idleStop(), watchStop()]).toEqual([true, false]);
    pool.publish([]);
    expect([idleStop(), watchStop()]).toEqual([false, false]);
  });
});
