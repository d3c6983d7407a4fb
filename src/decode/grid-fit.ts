import type { LumaView } from "./luma-read.js";
import { BEND_TERMS } from "./bend.js";
import type { Homography } from "./homography.js";
import type { GridHypothesis } from "./grid.js";

/**
 * Bent grids. zxing samples a located symbol on one homography (four points: three finders and
 * the alignment pattern). A label on a can, a card bowed in the hand or the edge of a wide lens
 * bends the module rows, and by the middle of the symbol the straight grid is a module off: the
 * format and codewords read, Reed-Solomon fails (`ChecksumError`), for a symbol that is sharp and
 * well lit. Measured on the BoofCV dev photos: two such codes that no zxing pass reads, one of
 * them read by no published engine either.
 *
 * The fit: a smooth correction in module space, (u, v) -> (u, v) + dim * P(s, t) with s, t the
 * module coordinates scaled to -0.5..0.5 and P quadratic and cubic terms per axis (no constant or
 * linear term: the homography already fits those), chosen by coordinate search to maximise how
 * well the samples fit a QR symbol:
 * - each module's centre sample against its neighbourhood's mean (`localMeans`): on the right
 *   grid a sample sits in the middle of a module, far from the mean; a grid a half module off
 *   samples edges, near the mean;
 * - the modules every symbol has (finders, their separators, the timing patterns) count twice
 *   with their known sign, which settles the one-module ambiguity that contrast alone leaves.
 * The result is only ever drawn and read as a pure symbol: Reed-Solomon still decides.
 */
export interface BendFitOptions {
  /** Step sizes of the coordinate search, in symbol widths, coarse to fine. */
  steps: readonly number[];
  /** Passes over the coefficients per step size at most (a pass that improves nothing ends the step). */
  rounds: number;
  /** Steps one coefficient may move in one direction per pass. */
  maxMoves: number;
  /** Evaluations at most (each one sample per module): bounds a fit's time whatever the symbol does. */
  maxEvals: number;
  /** Neighbourhood radius (modules) of the local mean a sample is compared with. */
  radius: number;
}

export const BEND_FIT_DEFAULTS: BendFitOptions = { steps: [0.02], rounds: 3, maxMoves: 12, maxEvals: 100, radius: 3 };

/** +1 dark, -1 light, 0 data: the finders, their separators and the timing patterns of a `dim`-module symbol. */
export function fixedModules(dim: number): Int8Array {
  const k = new Int8Array(dim * dim);
  for (const [fx, fy] of [[0, 0], [dim - 7, 0], [0, dim - 7]] as const)
    for (let y = -1; y <= 7; y++)
      for (let x = -1; x <= 7; x++) {
        const X = fx + x, Y = fy + y;
        if (X < 0 || Y < 0 || X >= dim || Y >= dim) continue;
        const ring = Math.max(Math.abs(x - 3), Math.abs(y - 3));
        k[Y * dim + X] = ring <= 3 && ring !== 2 ? 1 : -1;
      }
  for (let i = 8; i < dim - 8; i++) {
    const sign = i % 2 === 0 ? 1 : -1;
    k[6 * dim + i] = sign;
    k[i * dim + 6] = sign;
  }
  return k;
}

/** Scratch of one fit: the samples, the integral image and the local means (no allocation per evaluation). */
interface Scratch {
  vals: Float32Array;
  integral: Float64Array;
}

/**
 * Centre sample (bilinear; mid-gray outside the frame) of every module on grid `m` bent by `c`,
 * scored: each module against the mean of the modules within `r` of it, the fixed modules with
 * their known sign and double weight. Inlined (a fit runs this a few hundred times).
 */
function evaluate(f: LumaView, m: Homography, n: number, c: Float64Array, fixed: Int8Array, r: number, sc: Scratch): number {
  const { data: d, stride, width, height } = f;
  const vals = sc.vals;
  for (let v = 0; v < n; v++) {
    const t = (v + 0.5) / n - 0.5, tt = t * t, ttt = tt * t;
    for (let u = 0; u < n; u++) {
      const s = (u + 0.5) / n - 0.5, ss = s * s, st = s * t;
      const bu = u + 0.5 + n * (c[0]! * ss + c[1]! * st + c[2]! * tt + c[3]! * ss * t + c[4]! * s * tt + c[5]! * ss * s + c[6]! * ttt);
      const bv = v + 0.5 + n * (c[7]! * ss + c[8]! * st + c[9]! * tt + c[10]! * ss * t + c[11]! * s * tt + c[12]! * ss * s + c[13]! * ttt);
      const w = m[2] * bu + m[5] * bv + m[8];
      const x = (m[0] * bu + m[3] * bv + m[6]) / w, y = (m[1] * bu + m[4] * bv + m[7]) / w;
      let g = 128;
      if (x >= 0 && y >= 0 && x < width - 1 && y < height - 1) {
        const x0 = x | 0, y0 = y | 0, fx = x - x0, fy = y - y0, i = y0 * stride + x0;
        g = (d[i]! * (1 - fx) + d[i + 1]! * fx) * (1 - fy) + (d[i + stride]! * (1 - fx) + d[i + stride + 1]! * fx) * fy;
      }
      vals[v * n + u] = g;
    }
  }
  const I = sc.integral, w1 = n + 1;
  for (let y = 0; y < n; y++) {
    let row = 0;
    for (let x = 0; x < n; x++) {
      row += vals[y * n + x]!;
      I[(y + 1) * w1 + x + 1] = I[y * w1 + x + 1]! + row;
    }
  }
  let score = 0;
  for (let y = 0; y < n; y++) {
    const y0 = y > r ? y - r : 0, y1 = y + r + 1 < n ? y + r + 1 : n;
    for (let x = 0; x < n; x++) {
      const x0 = x > r ? x - r : 0, x1 = x + r + 1 < n ? x + r + 1 : n;
      const mean = (I[y1 * w1 + x1]! - I[y0 * w1 + x1]! - I[y1 * w1 + x0]! + I[y0 * w1 + x0]!) / ((x1 - x0) * (y1 - y0));
      const i = y * n + x, dv = mean - vals[i]!, k = fixed[i]!;
      score += k !== 0 ? 2 * k * dv : dv < 0 ? -dv : dv;
    }
  }
  return score / (n * n);
}

/**
 * The grid `h` with the bend that best fits the frame (`h` itself, unbent, when no bend fits
 * better). A few hundred evaluations of one sample per module: a few milliseconds for a
 * Version 5 symbol.
 */
export function fitBend(frame: LumaView, h: GridHypothesis, o: BendFitOptions = BEND_FIT_DEFAULTS): GridHypothesis {
  // The grids fitted are those of symbols zxing located (`gridFromCorners`): they carry their
  // homography. An affine hypothesis (regrid's own, before its alignment pattern) is left as it is.
  const m = h.warp;
  if (!m) return h;
  const n = h.dim;
  const fixed = fixedModules(n);
  const sc: Scratch = { vals: new Float32Array(n * n), integral: new Float64Array((n + 1) * (n + 1)) };
  const c = new Float64Array(BEND_TERMS);
  let best = evaluate(frame, m, n, c, fixed, o.radius, sc);
  const start = best;
  let evals = 1;
  // Coordinate search: each coefficient in turn is moved a step either way, and on along that way
  // while the score improves (a bend of a module or more is many steps of the finest size).
  for (const step of o.steps)
    for (let round = 0; round < o.rounds; round++) {
      let improved = false;
      for (let j = 0; j < BEND_TERMS; j++)
        for (const sign of [1, -1]) {
          let moved = 0;
          for (; moved < o.maxMoves && evals < o.maxEvals; moved++, evals++) {
            c[j] = c[j]! + sign * step;
            const score = evaluate(frame, m, n, c, fixed, o.radius, sc);
            if (score <= best) {
              c[j] = c[j]! - sign * step;
              break;
            }
            best = score;
          }
          if (moved > 0) {
            improved = true;
            break;
          }
        }
      if (!improved) break;
    }
  return best > start ? { ...h, bend: c } : h;
}
