import { describe, expect, it } from "vitest";
import { cropScaleInto } from "../../src/decode/preprocess.js";

/** Plain floating-point bilinear sampling, written for clarity, as the reference. */
function reference(src: { width: number; height: number; stride: number; data: Uint8Array }, rect: { x: number; y: number; w: number; h: number }, scale: number) {
  const w = Math.max(1, Math.round(rect.w * scale));
  const h = Math.max(1, Math.round(rect.h * scale));
  const out = new Uint8Array(w * h);
  const at = (x: number, y: number) => src.data[y * src.stride + x]!;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const fx = Math.min(src.width - 1, Math.max(0, rect.x + (x + 0.5) / scale - 0.5));
      const fy = Math.min(src.height - 1, Math.max(0, rect.y + (y + 0.5) / scale - 0.5));
      const x0 = Math.floor(fx), y0 = Math.floor(fy);
      const x1 = Math.min(src.width - 1, x0 + 1), y1 = Math.min(src.height - 1, y0 + 1);
      const top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * (fx - x0);
      const bot = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * (fx - x0);
      out[y * w + x] = Math.round(top + (bot - top) * (fy - y0));
    }
  return out;
}

describe("cropScaleInto", () => {
  // A strided frame with sharp edges and gradients, so interpolation errors would show.
  const width = 97, height = 61, stride = 104;
  const data = new Uint8Array(stride * height);
  let seed = 7;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    data[i] = (i % stride) % 13 < 6 ? seed >>> 24 : ((i % stride) * 5) & 255;
  }
  const src = { width, height, stride, data };

  for (const [rect, scale] of [
    [{ x: 10, y: 5, w: 40, h: 30 }, 2],
    [{ x: 0, y: 0, w: 97, h: 61 }, 1],
    [{ x: 80, y: 50, w: 30, h: 20 }, 2], // runs past the edge: clamped
    [{ x: 3.5, y: 2.25, w: 21, h: 17 }, 1.5],
    [{ x: 7, y: 4, w: 50, h: 40 }, 1], // whole-pixel 1x inside the frame: the row-copy path
    [{ x: 60, y: 30, w: 40, h: 31 }, 1], // 1x past the edge: clamped, not copied
    [{ x: 1, y: 1, w: 95, h: 59 }, 2],
  ] as const) {
    it(`matches the floating-point reference within 1 level (${JSON.stringify(rect)} x${scale})`, () => {
      const want = reference(src, rect, scale);
      const got = new Uint8Array(want.length);
      const size = cropScaleInto(src, rect, scale, got);
      expect(size.width * size.height).toBe(want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      expect(worst).toBeLessThanOrEqual(1);
    });
  }
});
