import { describe, expect, it } from "vitest";
import { shouldYield, WaitingBoard, WAITING_ACTIVE, WAITING_FIRST_LOOKS, WAITING_WATCH, yieldPolicy } from "../../src/decode/early-stop.js";

describe("yieldPolicy (decided at dispatch)", () => {
  const recentMs = 250;
  it("lets idle slow-schedule frames give way to any frame that may hold a code", () => {
    expect(yieldPolicy({ cls: "idle", recentMs })).toBe("in-view");
  });

  it("lets watch frames and weak active frames give way to active ones", () => {
    expect(yieldPolicy({ cls: "watch", recentMs })).toBe("active");
    expect(yieldPolicy({ cls: "active", weak: true, recentMs })).toBe("active");
  });

  it("makes an active frame a first look (it gives way to other first looks only) unless its camera completed a cascade moments ago", () => {
    expect(yieldPolicy({ cls: "active", recentMs })).toBe("first-look");
    expect(yieldPolicy({ cls: "active", sinceFullDoneMs: 400, recentMs })).toBe("first-look");
    expect(yieldPolicy({ cls: "active", sinceFullDoneMs: 67, recentMs })).toBe("active");
    expect(yieldPolicy({ cls: "active", sinceFullDoneMs: 250, recentMs })).toBe("first-look");
  });
});

describe("shouldYield (asked between passes)", () => {
  it("never stops a frame with policy never, whatever waits; a first look only for another camera's first look", () => {
    expect(shouldYield("never", 5, 5, true)).toBe(false);
    expect(shouldYield("first-look", 5, 5)).toBe(false);
    expect(shouldYield("first-look", 0, 0, true)).toBe(true);
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

  it("a first look stops for another camera's waiting first look, never for its own camera's next frame or a repeat", () => {
    const pool = new WaitingBoard();
    const worker = new WaitingBoard(pool.buffer);
    const cam2 = worker.stopCheck("first-look", 2)!;
    const cam34 = worker.stopCheck("first-look", 34)!; // shares bit 2: a missed yield, never a wrong one
    expect(worker.stopCheck("first-look")).toBeUndefined();
    pool.publish([{ cls: "active", firstLook: true, slot: 2 }, { cls: "active", slot: 5 }]);
    expect(worker.view[WAITING_FIRST_LOOKS]).toBe(1 << 2);
    expect([cam2(), cam34()]).toEqual([false, false]);
    pool.publish([{ cls: "active", firstLook: true, slot: 2 }, { cls: "active", firstLook: true, slot: 31 }]);
    expect([cam2(), cam34()]).toEqual([true, true]);
    pool.publish([{ cls: "watch", slot: 7 }, { cls: "idle", slot: 8 }]);
    expect(cam2()).toBe(false);
  });
});
