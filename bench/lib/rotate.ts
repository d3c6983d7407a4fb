/**
 * Quarter turns of a gray image, and the map of a point found in the turned image back to the
 * original's pixel grid. Pure. The photo bench turns each photo to check that what the decode
 * strategy gains over the reference does not hang on how the dev photos happen to be oriented
 * (a held-back photo of the same scene could be shot the other way up).
 */
import type { GrayImage } from "../../src/decode/image-file.js";

export type QuarterTurn = 0 | 90 | 180 | 270;
export const QUARTER_TURNS: readonly QuarterTurn[] = [0, 90, 180, 270];

/** Turns `img` clockwise by `deg` (as zxing-cpp's blackbox runner does). */
export function rotateGray(img: GrayImage, deg: QuarterTurn): GrayImage {
  if (deg === 0) return img;
  const { width: w, height: h, data } = img;
  const swap = deg !== 180;
  const W = swap ? h : w;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const v = data[row + x]!;
      if (deg === 90) out[x * W + (h - 1 - y)] = v;
      else if (deg === 180) out[(h - 1 - y) * W + (w - 1 - x)] = v;
      else out[(w - 1 - x) * W + y] = v;
    }
  }
  return { width: W, height: swap ? w : h, data: out };
}

/** Where a point of the image turned by `deg` lies in the original `w` x `h` image. */
export function unrotatePoint(deg: QuarterTurn, w: number, h: number, [x, y]: readonly [number, number]): [number, number] {
  if (deg === 90) return [y, h - 1 - x];
  if (deg === 180) return [w - 1 - x, h - 1 - y];
  if (deg === 270) return [w - 1 - y, x];
  return [x, y];
}
