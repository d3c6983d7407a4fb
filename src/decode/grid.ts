/**
 * A QR symbol's module grid in a frame: where module (u, v) lies, from three finder centres
 * (affine), a perspective map (four points), and an optional bend (bend.ts). Pure geometry.
 */
import type { Point } from "../core/types.js";
import { apply, quadToQuad, type Homography } from "./homography.js";
import { bendModule } from "./bend.js";

/** A symbol's grid: finder centres (top-left, top-right, bottom-left) and its size in modules. */
export interface GridHypothesis {
  tl: Point;
  tr: Point;
  bl: Point;
  dim: number;
  /** Module grid -> frame with perspective, once the alignment pattern was found (else affine). */
  warp?: Homography;
  /** A bend of the module grid before it is mapped to the frame (grid-fit.ts): a label on a can, a bowed card. */
  bend?: Float64Array;
}

const sub = (a: Point, b: Point): Point => [a[0] - b[0], a[1] - b[1]];

/** Frame position of module coordinates (u, v) (module centres at half-integers). */
export function gridPoint(h: GridHypothesis, u: number, v: number): Point {
  if (h.bend) [u, v] = bendModule(h.bend, h.dim, u, v);
  if (h.warp) return apply(h.warp, u, v);
  const k = h.dim - 7;
  const ex = sub(h.tr, h.tl), ey = sub(h.bl, h.tl);
  return [h.tl[0] + ((u - 3.5) * ex[0] + (v - 3.5) * ey[0]) / k, h.tl[1] + ((u - 3.5) * ex[1] + (v - 3.5) * ey[1]) / k];
}

/**
 * The grid of a symbol zxing located (its outer corners in the symbol's own orientation, its size
 * read from the format and version): a perspective map from the four corners.
 */
export function gridFromCorners(corners: readonly [Point, Point, Point, Point], dim: number): GridHypothesis {
  const warp = quadToQuad([[0, 0], [dim, 0], [dim, dim], [0, dim]], corners);
  return { tl: apply(warp, 3.5, 3.5), tr: apply(warp, dim - 3.5, 3.5), bl: apply(warp, 3.5, dim - 3.5), dim, warp };
}

/** The hypothesis with perspective from its three finders and the alignment pattern at `al`. */
export function withAlignment(h: GridHypothesis, al: Point): GridHypothesis {
  const n = h.dim;
  return { ...h, warp: quadToQuad([[3.5, 3.5], [n - 3.5, 3.5], [n - 6.5, n - 6.5], [3.5, n - 3.5]], [h.tl, h.tr, al, h.bl]) };
}
