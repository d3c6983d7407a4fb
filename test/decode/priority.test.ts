import { describe, expect, it } from "vitest";
import { IDLE_MAX_WAIT_MS, pickNext } from "../../src/decode/priority.js";

describe("pickNext", () => {
  it("takes active before watch before idle, oldest first within a class", () => {
    const w = [
      { cls: "idle" as const, submittedAt: 1 },
      { cls: "watch" as const, submittedAt: 2 },
      { cls: "active" as const, submittedAt: 5 },
      { cls: "active" as const, submittedAt: 3 },
    ];
    expect(pickNext(w, 2, 2)).toBe(3);
    expect(pickNext(w.slice(0, 2), 2, 2)).toBe(1);
  });

  it("within a class, a first look goes before a repeat, however old the repeat; then the oldest", () => {
    const w = [
      { cls: "active" as const, submittedAt: 1 },
      { cls: "active" as const, submittedAt: 9, fresh: true },
      { cls: "active" as const, submittedAt: 4, fresh: true },
      { cls: "watch" as const, submittedAt: 0, fresh: true },
    ];
    expect(pickNext(w, 2, 2)).toBe(2);
    expect(pickNext([w[0]!, w[1]!], 2, 2)).toBe(1);
    // The class still comes first: a fresh watch frame does not pass an active repeat.
    expect(pickNext([w[3]!, w[0]!], 2, 2)).toBe(1);
  });

  it("never gives an idle frame the last free worker when there are several", () => {
    const idle = [{ cls: "idle" as const, submittedAt: 1 }];
    expect(pickNext(idle, 1, 2)).toBe(-1);
    expect(pickNext(idle, 2, 2)).toBe(0);
    // A single-worker pool has no spare: idle frames still get decoded.
    expect(pickNext(idle, 1, 1)).toBe(0);
    expect(pickNext([], 2, 2)).toBe(-1);
  });

  it("an idle frame that has waited IDLE_MAX_WAIT_MS may take the last free worker", () => {
    const idle = [{ cls: "idle" as const, submittedAt: 1000 }];
    expect(pickNext(idle, 1, 2, 1000 + IDLE_MAX_WAIT_MS - 1)).toBe(-1);
    expect(pickNext(idle, 1, 2, 1000 + IDLE_MAX_WAIT_MS)).toBe(0);
    expect(pickNext(idle, 1, 2)).toBe(-1);
  });

  it("a camera already decoding gets a second worker only when no other camera's frame may take it", () => {
    const busyActive = { cls: "active" as const, submittedAt: 5, fresh: true, busy: true };
    const otherWatch = { cls: "watch" as const, submittedAt: 9 };
    const otherIdle = { cls: "idle" as const, submittedAt: 1000 };
    expect(pickNext([busyActive, otherWatch], 2, 2, 1000)).toBe(1);
    // An idle frame that may not take the last worker yet does not hold the busy camera back...
    expect(pickNext([busyActive, otherIdle], 1, 2, 1000)).toBe(0);
    // ...and one that waited long enough goes first.
    expect(pickNext([busyActive, otherIdle], 1, 2, 1000 + IDLE_MAX_WAIT_MS)).toBe(1);
    // Alone, the busy camera takes the worker.
    expect(pickNext([busyActive], 1, 2, 1000)).toBe(0);
  });
});
