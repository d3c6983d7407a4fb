import { describe, expect, it } from "vitest";
import { newTelemetry } from "../../src/lane/telemetry.js";
import { laneTelemetry } from "../../src/app/observe.js";

describe("laneTelemetry (the dashboard's numbers per lane)", () => {
  it("a lane with no verdicts yet: no mean, no read rate, no latency quantiles", () => {
    expect(laneTelemetry(newTelemetry())).toEqual({ framesTried: 0, readFailures: 0 });
  });

  it("frames tried per verdict, read rate over decoded in-view frames, and p50/p99 of the recent latencies", () => {
    const t = { ...newTelemetry(), verdicts: 4, framesTriedTotal: 10, readFailures: 2, codesRead: 3, missedReads: 1, recentFirstSeenMs: [400, 100, 300, 200] };
    expect(laneTelemetry(t)).toEqual({ framesTried: 2.5, readFailures: 2, readRate: 0.75, firstSeenToVerdictMs: { p50: 200, p99: 400 } });
  });
});
