import { describe, expect, it } from "vitest";
import { FpsMeter } from "../../src/ingest/fps-meter.js";

/** A meter fed one frame every `stepMs` from `from` to `to` (inclusive). */
function fed(from: number, to: number, stepMs: number): FpsMeter {
  const m = new FpsMeter();
  for (let t = from; t <= to; t += stepMs) m.record(t);
  return m;
}

describe("FpsMeter", () => {
  it("reports the rate of steady frames", () => {
    expect(fed(0, 900, 100).rate(900)).toBeCloseTo(10, 6);
    expect(fed(0, 4000, 40).rate(4000)).toBeCloseTo(25, 6);
  });

  it("is right from the second frame on: no fixed 5 s divisor after a (re)start", () => {
    const m = new FpsMeter();
    m.record(10_000);
    expect(m.rate(10_000)).toBe(0);
    m.record(10_100);
    expect(m.rate(10_100)).toBeCloseTo(10, 6);
  });

  it("decays while frames stop: the silence since the last frame counts", () => {
    const m = fed(0, 900, 100);
    // 9 intervals over the 2.8 s from the first frame to one interval before now.
    expect(m.rate(2900)).toBeCloseTo(9000 / 2800, 6);
    expect(m.rate(4000)).toBeLessThan(m.rate(2900));
    // Every frame is older than the window.
    expect(m.rate(5900)).toBe(0);
  });

  it("forgets frames older than the window", () => {
    const m = new FpsMeter(5000);
    m.record(0);
    m.record(6000);
    m.record(6100);
    // With the frame at 0 counted this would be 2 frames over 6.1 s.
    expect(m.rate(6100)).toBeCloseTo(10, 6);
  });

  it("reset() drops the previous process's frames", () => {
    const m = fed(0, 900, 100);
    m.reset();
    expect(m.rate(900)).toBe(0);
    m.record(1000);
    m.record(1050);
    expect(m.rate(1050)).toBeCloseTo(20, 6);
  });
});
