/**
 * Plausibility rules against misreads from enhanced passes. A crop that is upscaled and contrast
 * stretched can let zxing assemble a small phantom symbol out of part of a real code (measured:
 * `409519` read from a 140 px box inside a 320 px Version 2 code on a real photo, docs/decode.md).
 * Real QR codes are printed or shown side by side, never one inside another, and a crop exists
 * because a symbol of a known size was located there, so:
 *   - a code read in a crop must be at least a fraction of the located symbol's size;
 *   - of two codes whose boxes nest, the smaller one is dropped.
 * Not a rule: dropping a code nested inside a symbol zxing located but could not read. zxing also
 * locates large bogus symbols made of the finders of several codes side by side, and the rule then
 * dropped real codes on the dev photos (302 -> 299 read). The phantom that prompted it (a 6-digit
 * code inside a glared, damaged code in the clips bench's glare variant) was a Micro QR M1 symbol,
 * one finder and two check codewords, and the reader now returns no Micro QR at all (luma-read.ts).
 */
import type { DecodedCode, Point } from "../core/types.js";

/** A crop of a located symbol must return a code at least this fraction of the symbol's side. */
export const MIN_SIDE_OF_LOCATED = 0.5;
/** A code whose box centre lies inside a code at least this many times its area is a phantom. */
const NESTED_AREA_RATIO = 2;

export interface Bounds {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function bounds(points: readonly (readonly [number, number])[]): Bounds {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of points) {
    if (x < x0) x0 = x;
    if (y < y0) y0 = y;
    if (x > x1) x1 = x;
    if (y > y1) y1 = y;
  }
  return { x0, y0, x1, y1 };
}

/** Longest side of a quad's axis-aligned box. */
export function sideOf(points: readonly Point[]): number {
  const b = bounds(points);
  return Math.max(b.x1 - b.x0, b.y1 - b.y0);
}

const area = (b: Bounds) => Math.max(0, b.x1 - b.x0) * Math.max(0, b.y1 - b.y0);

/** Drops codes nested inside a much larger code (see the module comment). Order is kept. */
export function dropNested<T extends Pick<DecodedCode, "corners">>(codes: readonly T[]): T[] {
  if (codes.length < 2) return [...codes];
  const boxes = codes.map((c) => bounds(c.corners));
  return codes.filter((_, i) => {
    const b = boxes[i]!;
    const cx = (b.x0 + b.x1) / 2, cy = (b.y0 + b.y1) / 2;
    return !boxes.some((o, j) => j !== i && cx > o.x0 && cx < o.x1 && cy > o.y0 && cy < o.y1 && area(o) >= NESTED_AREA_RATIO * area(b));
  });
}
