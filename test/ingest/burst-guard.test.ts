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

describe("BurstGuard settles a stream faster than configured", () => {
  /** Index of the first delivered frame of a steady stream at `realFps`, or -1. */
  function firstDelivered(cfgFps: number, realFps: number, frames = 200): number {
    const times = Array.from({ length: frames }, (_, i) => i * (1000 / realFps));
    return run(cfgFps, times).indexOf(true);
  }

  it("BurstGuard(15) fed a frame every 40 ms (a PAL camera) delivers within 1 s, then every frame", () => {
    const times = Array.from({ length: 250 }, (_, i) => i * 40);
    const out = run(15, times);
    expect(times[out.indexOf(true)]!).toBeLessThan(1000);
    expect(out.slice(out.indexOf(true)).every(Boolean)).toBe(true);
  });

  it("also a 30 fps camera at the default 15, a 15 fps substream at the default 5, a 60 fps camera", () => {
    for (const [cfg, real] of [[15, 30], [5, 15], [5, 30], [15, 60], [15, 20]] as const) {
      const i = firstDelivered(cfg, real);
      expect(i, `${real} fps at fps ${cfg}`).toBeGreaterThan(0);
      expect(i * (1000 / real), `${real} fps at fps ${cfg}`).toBeLessThan(1000);
    }
  });

  it("tolerates jitter of a fast stream", () => {
    const jitter = [0, 6, -5, 3, -7, 8, -2, 4];
    const times = Array.from({ length: 100 }, (_, i) => i * 40 + jitter[i % jitter.length]!);
    expect(run(15, times).filter(Boolean).length).toBeGreaterThanOrEqual(95);
  });

  it("a steady burst of buffered frames (as fast as ffmpeg decodes) still never settles", () => {
    // 1080p decodes at ~6-7 ms a frame: a start-up burst of 60 old frames, then the live 25 fps.
    const burst = Array.from({ length: 60 }, (_, i) => i * 7);
    const live = Array.from({ length: 20 }, (_, i) => 60 * 7 + (i + 1) * 40);
    const out = run(15, [...burst, ...live]);
    expect(out.slice(0, 60).some(Boolean)).toBe(false);
    expect(out.slice(60 + 4).every(Boolean)).toBe(true);
    // A starved decoder spacing a burst out every other frame: a median above the floor, but not steady.
    expect(run(15, Array.from({ length: 40 }, (_, i) => (i >> 1) * 32 + (i % 2) * 2)).some(Boolean)).toBe(false);
  });

  it("reports the rate it settled at, and forgets it at reset", () => {
    const g = new BurstGuard(15);
    for (let i = 0; i < 10; i++) g.accept(i * 40);
    expect(g.settledFps).toBeCloseTo(25, 5);
    g.reset();
    expect(g.settledFps).toBeUndefined();
    for (let i = 0; i < 10; i++) g.accept(i * 66.7);
    expect(g.settledFps).toBeCloseTo(15, 0);
  });
});
