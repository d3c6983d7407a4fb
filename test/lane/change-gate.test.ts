import { describe, expect, it } from "vitest";
import { ChangeGate } from "../../src/app/change-gate.js";
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
    const g = new ChangeGate({ step: 4, pixelDelta: 12, minChanged: 0.01, maxSkip: 3 });
    const admitted = Array.from({ length: 9 }, (_, i) => g.admit(frame(i), false));
    expect(admitted).toEqual([true, false, false, false, true, false, false, false, true]);
    expect(g.gated).toBe(6);
  });

  it("a code appearing (a large change) is decoded at once; small flicker is not", () => {
    const g = new ChangeGate({ step: 4, pixelDelta: 12, minChanged: 0.01, maxSkip: 100 });
    g.admit(frame(0), false);
    expect(g.admit(frame(1, square(0, 0, 4, 180)), false)).toBe(false); // one sample: below 1%
    expect(g.admit(frame(2, (d) => d.forEach((_, i) => (d[i] = 100 + (i % 7)))), false)).toBe(false); // noise under pixelDelta
    expect(g.admit(frame(3, square(40, 30, 60, 20)), false)).toBe(true);
  });

  it("never gates while a code is in view or right after a read", () => {
    const g = new ChangeGate({ step: 4, pixelDelta: 12, minChanged: 0.01, maxSkip: 100 });
    g.admit(frame(0), false);
    expect(g.admit(frame(1), true)).toBe(true);
    g.decoded(true);
    expect(g.admit(frame(2), false)).toBe(true);
    g.decoded(false);
    expect(g.admit(frame(3), false)).toBe(false);
  });

  it("a slow drift adds up against the last decoded frame", () => {
    const g = new ChangeGate({ step: 4, pixelDelta: 12, minChanged: 0.01, maxSkip: 100 });
    g.admit(frame(0), false);
    const out = [5, 10, 15].map((dv, i) => g.admit(frame(i + 1, (d) => d.fill(100 + dv)), false));
    expect(out).toEqual([false, false, true]);
  });
});
