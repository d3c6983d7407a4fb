import { describe, expect, it } from "vitest";
import { activityDetector, ChangeGate } from "../../src/app/change-gate.js";
import type { LumaFrame } from "../../src/core/types.js";

const W = 160;
const H = 120;
function frame(seq: number, paint?: (d: Uint8Array) => void): LumaFrame {
  const data = new Uint8Array(W * H).fill(100);
  paint?.(data);
  return { cameraId: "c", seq, width: W, height: H, stride: W, data, receivedAt: seq * 66 };
}
const square = (x0: number, y0: number, size: number, v: number) => (d: Uint8Array) => {
  for (let y = y0; y < y0 + size; y++) d.fill(v, y * W + x0, y * W + x0 + size);
};

describe("ChangeGate", () => {
  it("decodes the first frame, skips still frames but never more than maxSkip in a row", () => {
    const g = new ChangeGate({ step: 4, pixelDelta: 12, minChanged: 0.01, maxSkip: 3, maxSkipInView: 1 });
    const admitted = Array.from({ length: 9 }, (_, i) => g.admit(frame(i), "none"));
    expect(admitted).toEqual([true, false, false, false, true, false, false, false, true]);
    expect(g.gated).toBe(6);
  });

  it("a code appearing (a large change) is decoded at once; small flicker is not", () => {
    const g = new ChangeGate({ step: 4, pixelDelta: 12, minChanged: 0.01, maxSkip: 100, maxSkipInView: 1 });
    g.admit(frame(0), "none");
    expect(g.admit(frame(1, square(0, 0, 4, 180)), "none")).toBe(false); // one sample: below 1%
    expect(g.admit(frame(2, (d) => d.forEach((_, i) => (d[i] = 100 + (i % 7)))), "none")).toBe(false); // noise under pixelDelta
    expect(g.admit(frame(3, square(40, 30, 60, 20)), "none")).toBe(true);
  });

  it("never gates while a verdict is pending; with decided codes in view skips at most maxSkipInView", () => {
    const g = new ChangeGate({ step: 4, pixelDelta: 12, minChanged: 0.01, maxSkip: 100, maxSkipInView: 1 });
    g.admit(frame(0), "none");
    expect([1, 2, 3].map((i) => g.admit(frame(i), "pending"))).toEqual([true, true, true]);
    expect([4, 5, 6, 7].map((i) => g.admit(frame(i), "decided"))).toEqual([false, true, false, true]);
    expect([8, 9, 10].map((i) => g.admit(frame(i), "none"))).toEqual([false, false, false]);
  });

  it("learns a background that always moves (an on-screen clock) and stops counting it, but a code appearing still counts", () => {
    const opts = { step: 4, pixelDelta: 12, minChanged: 0.01, maxSkip: 100, maxSkipInView: 1 };
    // A 20x8 px "clock" whose pixels flip every frame: 10 of 1200 samples, above 1%.
    const clock = (seq: number) => square(0, 0, 20, seq % 2 ? 200 : 20);
    const learning = new ChangeGate({ ...opts, volatileAt: 120 });
    const naive = new ChangeGate({ ...opts, volatileAt: 0 });
    const seen = { learning: [] as boolean[], naive: [] as boolean[] };
    for (let i = 0; i < 40; i++) {
      seen.learning.push(learning.admit(frame(i, clock(i)), "none"));
      seen.naive.push(naive.admit(frame(i, clock(i)), "none"));
    }
    // Without learning, every other frame looks changed forever; with it, after about a second none does.
    expect(seen.naive.slice(20).filter(Boolean).length).toBeGreaterThanOrEqual(9);
    expect(seen.learning.slice(20)).toEqual(Array(20).fill(false));
    expect(learning.admit(frame(40, (d) => (clock(40)(d), square(60, 40, 60, 220)(d))), "none")).toBe(true);
  });

  it("a small code appearing is a change (localMinChanged), though under minChanged of the whole frame; scattered flicker is not", () => {
    const w = 640, h = 480;
    const big = (seq: number, paint?: (d: Uint8Array) => void): LumaFrame => {
      const data = new Uint8Array(w * h).fill(100);
      paint?.(data);
      return { cameraId: "c", seq, width: w, height: h, stride: w, data, receivedAt: seq * 66 };
    };
    // 48 px at step 8: 36 of 4800 samples (global limit 48), but 36 of a 256-sample window (limit 30.7).
    const small = (d: Uint8Array) => {
      for (let y = 200; y < 248; y++) d.fill(20, y * w + 300, y * w + 348);
    };
    // 40 changed samples, one per 8x8-sample tile row/column spread: never more than 1 in a window.
    const scattered = (d: Uint8Array) => {
      for (let k = 0; k < 40; k++) d[((k % 7) * 64 + 3 * 8) * w + (k % 10) * 64] = 250;
    };
    const base = { step: 8, pixelDelta: 12, minChanged: 0.01, maxSkip: 100, maxSkipInView: 1 };
    const local = new ChangeGate({ ...base, localMinChanged: 0.12, tile: 8 });
    const global = new ChangeGate(base);
    for (const g of [local, global]) g.admit(big(0), "none");
    expect(global.admit(big(1, small), "none")).toBe(false);
    expect(local.admit(big(1, small), "none")).toBe(true);
    expect(local.admit(big(2, small), "none")).toBe(false); // it stays: no new change
    expect(local.admit(big(3, (d) => (small(d), scattered(d))), "none")).toBe(false);
  });

  it("a slow drift adds up against the last decoded frame", () => {
    const g = new ChangeGate({ step: 4, pixelDelta: 12, minChanged: 0.01, maxSkip: 100, maxSkipInView: 1 });
    g.admit(frame(0), "none");
    const out = [5, 10, 15].map((dv, i) => g.admit(frame(i + 1, (d) => d.fill(100 + dv)), "none"));
    expect(out).toEqual([false, false, true]);
  });

  it("activityDetector (substream): a still scene is never activity, however long; a person or a code arriving is, once", () => {
    const active = activityDetector({ step: 4, pixelDelta: 12, minChanged: 0.01, maxSkip: 3, maxSkipInView: 1, volatileAt: 120 });
    expect(active(frame(0))).toBe(true); // the first frame: nothing known yet
    expect(Array.from({ length: 500 }, (_, i) => active(frame(i + 1))).some(Boolean)).toBe(false);
    expect(active(frame(501, square(40, 30, 60, 20)))).toBe(true);
    expect(active(frame(502, square(40, 30, 60, 20)))).toBe(false); // standing still is not new activity
  });
});
