import { describe, expect, it } from "vitest";
import { BurstGuard } from "../../src/ingest/index.js";

/** Feeds arrival times; returns which frames were delivered. */
function run(fps: number, times: number[]): boolean[] {
  const g = new BurstGuard(fps);
  return times.map((t) => g.accept(t));
}

describe("BurstGuard", () => {
  it("holds the start of a process until two paced spacings", () => {
    expect(run(10, [0, 100, 200, 300])).toEqual([false, false, true, true]);
  });

  it("drops a start-up burst of buffered frames, then delivers live ones", () => {
    expect(run(10, [0, 1, 2, 3, 4, 100, 200, 300])).toEqual([false, false, false, false, false, false, true, true]);
  });

  it("a single spaced frame inside a burst (starved decoder) does not release it", () => {
    expect(run(10, [0, 2, 90, 92, 94, 190, 290])).toEqual([false, false, false, false, false, false, true]);
  });

  it("keeps delivering through ordinary jitter and pairs once settled", () => {
    expect(run(10, [0, 100, 200, 230, 300, 390, 420])).toEqual([false, false, true, true, true, true, true]);
  });

  it("re-settles after a gap", () => {
    expect(run(10, [0, 100, 200, 900, 901, 902, 1000, 1100, 1200])).toEqual([false, false, true, false, false, false, false, true, true]);
  });

  it("scales the gap with the frame rate (slow sub-streams)", () => {
    // At 2 fps a 500 ms spacing is normal, not a gap.
    expect(run(2, [0, 500, 1000, 1500])).toEqual([false, false, true, true]);
  });
});

describe("BurstGuard never blocks a slow stream", () => {
  it("delivers most frames of a camera sending far fewer frames than configured", () => {
    const times = Array.from({ length: 30 }, (_, i) => i * 450);
    const out = run(10, times);
    expect(out.slice(0, 3)).toEqual([false, false, true]);
    expect(out.filter(Boolean).length).toBeGreaterThanOrEqual(25);
  });

  it("still drops a burst after a real gap on a slow stream", () => {
    const times = [...Array.from({ length: 10 }, (_, i) => i * 450), 8000, 8001, 8002, 8003, 8450, 8900, 9350];
    const out = run(10, times);
    expect(out.slice(10)).toEqual([false, false, false, false, false, true, true]);
  });
});
