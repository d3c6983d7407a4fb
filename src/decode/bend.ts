/** Coefficients of a grid's bend (grid-fit.ts): per axis s², st, t², s²t, st², s³, t³. */
export const BEND_TERMS = 14;

/**
 * Module coordinates (u, v) of a `dim`-module symbol moved by the bend `c`: (u, v) + dim * P(s, t),
 * s and t the module coordinates scaled to -0.5..0.5, P the quadratic and cubic terms of `c` per
 * axis (no constant or linear term: the symbol's homography already fits those). grid-fit.ts's
 * `evaluate` writes the same polynomial out inline (a fit runs it a hundred times per module):
 * change the two together, or the fit scores one grid and `gridPoint` samples another.
 */
export function bendModule(c: Float64Array, dim: number, u: number, v: number): [number, number] {
  const s = u / dim - 0.5, t = v / dim - 0.5;
  const ss = s * s, st = s * t, tt = t * t;
  return [
    u + dim * (c[0]! * ss + c[1]! * st + c[2]! * tt + c[3]! * ss * t + c[4]! * s * tt + c[5]! * ss * s + c[6]! * tt * t),
    v + dim * (c[7]! * ss + c[8]! * st + c[9]! * tt + c[10]! * ss * t + c[11]! * s * tt + c[12]! * ss * s + c[13]! * tt * t),
  ];
}
