import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { killInSteps } from "../../src/ingest/kill-steps.js";

function setup() {
  const clock = new FakeClock();
  const events: string[] = [];
  let exited = false;
  const proc = {
    kill: (s: NodeJS.Signals) => {
      events.push(`${clock.monotonic()} ${s}`);
      return true;
    },
  };
  const hooks = {
    exited: () => exited,
    sigkill: () => events.push(`${clock.monotonic()} sigkill-hook`),
    abandon: () => events.push(`${clock.monotonic()} abandon`),
  };
  return { clock, events, proc, hooks, exit: () => (exited = true) };
}

describe("killInSteps", () => {
  it("SIGTERM now, SIGKILL after the grace, then gives the process up after another grace", () => {
    const t = setup();
    killInSteps(t.proc, t.clock, 500, t.hooks);
    expect(t.events).toEqual(["0 SIGTERM"]);
    t.clock.advance(499);
    expect(t.events).toEqual(["0 SIGTERM"]);
    t.clock.advance(1);
    expect(t.events).toEqual(["0 SIGTERM", "500 sigkill-hook", "500 SIGKILL"]);
    t.clock.advance(500);
    expect(t.events).toEqual(["0 SIGTERM", "500 sigkill-hook", "500 SIGKILL", "1000 abandon"]);
    expect(t.clock.pendingCount).toBe(0);
  });

  it("takes no further step once the exit was seen", () => {
    const t = setup();
    killInSteps(t.proc, t.clock, 500, t.hooks);
    t.clock.advance(100);
    t.exit();
    t.clock.advance(5000);
    expect(t.events).toEqual(["0 SIGTERM"]);
  });

  it("does not abandon a process that exits after SIGKILL", () => {
    const t = setup();
    killInSteps(t.proc, t.clock, 500, t.hooks);
    t.clock.advance(600);
    t.exit();
    t.clock.advance(5000);
    expect(t.events).toEqual(["0 SIGTERM", "500 sigkill-hook", "500 SIGKILL"]);
  });

  it("cancel() leaves no timer behind, before and after SIGKILL", () => {
    const t = setup();
    const a = killInSteps(t.proc, t.clock, 500, t.hooks);
    expect(t.clock.pendingCount).toBe(1);
    a.cancel();
    expect(t.clock.pendingCount).toBe(0);
    const b = killInSteps(t.proc, t.clock, 500, t.hooks);
    t.clock.advance(500);
    expect(t.clock.pendingCount).toBe(1);
    b.cancel();
    expect(t.clock.pendingCount).toBe(0);
  });
});
