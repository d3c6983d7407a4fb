/**
 * Plane-to-plane perspective maps from four point pairs (the textbook square-to-quadrilateral
 * construction, Heckbert 1989): a symbol's module grid to frame pixels, once four of its points
 * are known (three finder centres and the alignment pattern). Pure, no allocation per point.
 */
import type { Point } from "../core/types.js";

/** Row-vector convention: [u v 1] * M = [X Y W], point = (X / W, Y / W). Row-major 3x3. */
export type Homography = readonly [number, number, number, number, number, number, number, number, number];

/** The map taking the unit square's (0,0), (1,0), (1,1), (0,1) to q[0..3]. */
export function squareToQuad(q: readonly [Point, Point, Point, Point]): Homography {
  const [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = q;
  const dx3 = x0 - x1 + x2 - x3, dy3 = y0 - y1 + y2 - y3;
  if (Math.abs(dx3) < 1e-9 && Math.abs(dy3) < 1e-9) return [x1 - x0, y1 - y0, 0, x2 - x1, y2 - y1, 0, x0, y0, 1];
  const dx1 = x1 - x2, dx2 = x3 - x2, dy1 = y1 - y2, dy2 = y3 - y2;
  const den = dx1 * dy2 - dx2 * dy1;
  const a13 = (dx3 * dy2 - dx2 * dy3) / den;
  const a23 = (dx1 * dy3 - dx3 * dy1) / den;
  return [x1 - x0 + a13 * x1, y1 - y0 + a13 * y1, a13, x3 - x0 + a23 * x3, y3 - y0 + a23 * y3, a23, x0, y0, 1];
}

/** The adjugate: the inverse up to scale, which is all a homography needs. */
export function invert(m: Homography): Homography {
  const [a, b, c, d, e, f, g, h, i] = m;
  return [e * i - f * h, c * h - b * i, b * f - c * e, f * g - d * i, a * i - c * g, c * d - a * f, d * h - e * g, b * g - a * h, a * e - b * d];
}

export function multiply(m: Homography, n: Homography): Homography {
  const o: number[] = [];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) o.push(m[r * 3]! * n[c]! + m[r * 3 + 1]! * n[3 + c]! + m[r * 3 + 2]! * n[6 + c]!);
  return o as unknown as Homography;
}

/** The map taking src[k] to dst[k] for k = 0..3 (no three of either collinear). */
export function quadToQuad(src: readonly [Point, Point, Point, Point], dst: readonly [Point, Point, Point, Point]): Homography {
  return multiply(invert(squareToQuad(src)), squareToQuad(dst));
}

export function apply(m: Homography, u: number, v: number): Point {
  const w = m[2] * u + m[5] * v + m[8];
  return [(m[0] * u + m[3] * v + m[6]) / w, (m[1] * u + m[4] * v + m[7]) / w];
}
