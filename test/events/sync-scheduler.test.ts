import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { SyncScheduler } from "../../src/output/events/sync-scheduler.js";

function setup() {
  const clock = new FakeClock();
  const calls: string[] = [];
  const errors: Array<[string, unknown]> = [];
  const fail = { data: false, state: false };
  const s = new SyncScheduler({
    clock,
    intervalMs: 1000,
    syncData: () => {
      if (fail.data) throw new Error("EIO");
      calls.push("data");
    },
    saveState: () => {
      if (fail.state) throw new Error("ENOSPC");
      calls.push("state");
    },
    onError: (step, e) => errors.push([step, e]),
  });
  return { clock, calls, errors, fail, s };
}

describe("SyncScheduler", () => {
  it("many appends within an interval cost one fsync, at the end of the interval", () => {
    const { clock, calls, s } = setup();
    for (let i = 0; i < 50; i++) s.dataWritten();
    expect(clock.pendingCount).toBe(1);
    clock.advance(999);
    expect(calls).toEqual([]);
    clock.advance(1);
    expect(calls).toEqual(["data"]);
  });

  it("syncs only what is dirty: data, then the state", () => {
    const { clock, calls, s } = setup();
    s.stateChanged();
    clock.advance(1000);
    expect(calls).toEqual(["state"]);
    s.dataWritten();
    s.stateChanged();
    clock.advance(1000);
    expect(calls).toEqual(["state", "data", "state"]);
    // Nothing dirty: no timer, no work.
    expect(clock.pendingCount).toBe(0);
  });

  it("a state saved elsewhere (compaction, start) is not saved again by the timer", () => {
    const { clock, calls, s } = setup();
    s.dataWritten();
    s.stateChanged();
    s.stateSaved();
    clock.advance(1000);
    expect(calls).toEqual(["data"]);
  });

  it("a failed sync is reported, not thrown, and retried with the next timer", () => {
    const { clock, calls, errors, fail, s } = setup();
    fail.data = true;
    s.dataWritten();
    s.stateChanged();
    clock.advance(1000);
    expect(errors.map(([step, e]) => [step, (e as Error).message])).toEqual([["data", "EIO"]]);
    expect(calls).toEqual([]);
    fail.data = false;
    s.dataWritten();
    clock.advance(1000);
    // Both flags survived the failure.
    expect(calls).toEqual(["data", "state"]);
  });

  it("a failed state save is reported as the state step, not as the data fsync", () => {
    const { clock, calls, errors, fail, s } = setup();
    fail.state = true;
    s.dataWritten();
    s.stateChanged();
    clock.advance(1000);
    expect(calls).toEqual(["data"]);
    expect(errors.map(([step, e]) => [step, (e as Error).message])).toEqual([["state", "ENOSPC"]]);
  });

  it("stop clears the timer and refuses new ones", () => {
    const { clock, calls, s } = setup();
    s.dataWritten();
    s.stop();
    expect(clock.pendingCount).toBe(0);
    s.stateChanged();
    clock.advance(5000);
    expect(clock.pendingCount).toBe(0);
    expect(calls).toEqual([]);
  });
});
