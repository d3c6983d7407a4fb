import { describe, expect, it } from "vitest";
import { e2eMisses, pct, type TargetRow } from "../../bench/lib/e2e-targets.js";

const row = (cameras: number, p50: number, p99: number, extra: Partial<TargetRow> = {}): TargetRow => ({
  cameras, firstToVerdict: { median: p50, p99 }, queueEarlyMs: 5, queueLateMs: 5, dropped: { supersededInView: 0, queuedInView: 100 }, ...extra,
});

describe("bench:e2e targets", () => {
  it("percent never divides by zero", () => {
    expect(pct(1, 4)).toBe(25);
    expect(pct(3, 0)).toBe(300);
  });

  it("passes rows within every limit, and checks only the counts present", () => {
    expect(e2eMisses([row(8, 60, 150), row(4, 40, 100)], { gatewayCpu: 10, ffmpegCpu: 10 })).toEqual([]);
    expect(e2eMisses([row(1, 500, 900), row(12, 500, 900)])).toEqual([]);
  });

  it("names each missed target at 8 and 4 cameras and for the idle camera", () => {
    const m = e2eMisses(
      [row(8, 61, 151, { queueEarlyMs: 5, queueLateMs: 26, dropped: { supersededInView: 2, queuedInView: 100 } }), row(4, 10, 101)],
      { gatewayCpu: 15, ffmpegCpu: 6 },
    );
    expect(m).toEqual([
      "8 cameras: first->verdict p99 151.00 > 150 ms",
      "8 cameras: p50 61.00 > 60 ms",
      "8 cameras: queue grows (5.00 -> 26.00 ms)",
      "8 cameras: 2.00% dropped while a code is in view (>= 2%)",
      "4 cameras: first->verdict p99 101.00 > 100 ms",
      "idle camera 21.00% > 20% of a core",
    ]);
  });
});
