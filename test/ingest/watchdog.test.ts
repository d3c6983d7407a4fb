import { describe, expect, it } from "vitest";
import { watchdogVerdict } from "../../src/ingest/watchdog.js";

const limits = { startupGraceMs: 5000, stallTimeoutMs: 1000 };

describe("watchdogVerdict", () => {
  it("gives a process the start-up grace until its first frame", () => {
    expect(watchdogVerdict(100, undefined, limits, 4000)).toEqual({ stalled: false, rearmMs: 1100 });
    expect(watchdogVerdict(100, undefined, limits, 5099)).toEqual({ stalled: false, rearmMs: 1 });
    expect(watchdogVerdict(100, undefined, limits, 5100)).toEqual({ stalled: true, phase: "startup", noFrameMs: 5000 });
  });

  it("after the first frame applies the stall timeout from the last frame", () => {
    expect(watchdogVerdict(100, 3000, limits, 3500)).toEqual({ stalled: false, rearmMs: 500 });
    // The start-up grace (until 5100) would still run: it no longer applies.
    expect(watchdogVerdict(100, 3000, limits, 4000)).toEqual({ stalled: true, phase: "steady", noFrameMs: 1000 });
  });

  it("reports the silence in whole milliseconds, however late the check fires", () => {
    expect(watchdogVerdict(0, 2000, limits, 3700.4)).toEqual({ stalled: true, phase: "steady", noFrameMs: 1700 });
  });
});
