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
