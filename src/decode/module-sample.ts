/**
 * Sampling a symbol's modules from the frame on a grid (grid.ts): the quick look at its fixed parts
 * (finder cores, timing patterns), the alignment pattern's search, every module's mean gray, and
 * the threshold of each module against its neighbourhood. Pure functions over typed arrays.
 */
import type { Point } from "../core/types.js";
import type { LumaView } from "./luma-read.js";
import { gridPoint, type GridHypothesis } from "./grid.js";

/** Gray at frame point (x, y): nearest pixel, clamped to the frame (sampling never reads outside). */
/** Gray at frame point (x, y): nearest pixel, clamped to the frame (sampling never reads outside). */
export function pixelAt(frame: LumaView): (x: number, y: number) => number {
  const { data, stride, width, height } = frame;
  return (x, y) => data[Math.min(height - 1, Math.max(0, Math.round(y))) * stride + Math.min(width - 1, Math.max(0, Math.round(x)))]!;
}

/** Whether the whole symbol (its four outer corners) lies inside the frame. */
function inFrame(frame: LumaView, h: GridHypothesis): boolean {
  for (const [u, v] of [[0, 0], [h.dim, 0], [0, h.dim], [h.dim, h.dim]] as const) {
    const [x, y] = gridPoint(h, u, v);
    // Written so that a degenerate map (NaN, infinite) is outside too.
    if (!(x >= 0 && y >= 0 && x <= frame.width - 1 && y <= frame.height - 1)) return false;
  }
  return true;
}

/**
 * A quick look before sampling every module: the fixed parts alone, a few hundred samples. Each
 * finder's 3x3 core must be darker than the light ring around it by `minContrast` gray levels
 * (`finderCores`), and along the timing patterns most modules must be darker (even) or lighter
 * (odd) than their two neighbours (`timingAgreement`). On frames without a code (noise, texture:
 * finder-like shapes everywhere) nearly every hypothesis ends at the cores, for about a hundredth
 * of a full sampling. The timing is judged on the grid with perspective when the alignment pattern
 * was found: under perspective the affine grid drifts off the timing pattern by its far end.
 */
export function finderCores(frame: LumaView, h: GridHypothesis, minContrast = 12): boolean {
  if (!inFrame(frame, h)) return false;
  const at = sampler(frame, h);
  const n = h.dim;
  for (const [fx, fy] of [[0, 0], [n - 7, 0], [0, n - 7]] as const) {
    let core = 0, ring = 0;
    for (let y = 1; y <= 5; y++)
      for (let x = 1; x <= 5; x++) {
        const d = Math.max(Math.abs(x - 3), Math.abs(y - 3));
        if (d <= 1) core += at(fx + x, fy + y);
        else ring += at(fx + x, fy + y);
      }
    if (ring / 16 - core / 9 < minContrast) return false;
  }
  return true;
}

export function timingAgreement(frame: LumaView, h: GridHypothesis): number {
  const at = sampler(frame, h);
  const n = h.dim;
  let agree = 0, total = 0;
  for (let i = 8; i < n - 8; i++) {
    const dark = i % 2 === 0;
    for (const [a, b, c] of [[at(i - 1, 6), at(i, 6), at(i + 1, 6)], [at(6, i - 1), at(6, i), at(6, i + 1)]] as const) {
      const between = (a + c) / 2;
      agree += (dark ? b < between : b > between) ? 1 : 0;
      total++;
    }
  }
  return total === 0 ? 1 : agree / total;
}

/** Gray at the centre of module (u, v), nearest pixel. */
function sampler(frame: LumaView, h: GridHypothesis): (u: number, v: number) => number {
  const at = pixelAt(frame);
  return (u, v) => at(...gridPoint(h, u + 0.5, v + 0.5));
}

/**
 * Mean gray of each module (dim x dim, row-major): nine samples at the module's centre region
 * (a quarter module apart), nearest pixel. Undefined when the symbol leaves the frame.
 */
export function sampleModules(frame: LumaView, h: GridHypothesis): Float32Array | undefined {
  if (!inFrame(frame, h)) return undefined;
  const n = h.dim;
  const at = pixelAt(frame);
  const out = new Float32Array(n * n);
  const offs = [-0.25, 0, 0.25];
  for (let v = 0; v < n; v++)
    for (let u = 0; u < n; u++) {
      let s = 0;
      for (const dv of offs) for (const du of offs) s += at(...gridPoint(h, u + 0.5 + du, v + 0.5 + dv));
      out[v * n + u] = s / 9;
    }
  return out;
}

/**
 * The alignment pattern's centre (version 2 and up: a dark module in a light ring in a dark ring,
 * centred on module (dim - 7, dim - 7)), searched within 3 modules of where the affine grid puts
 * it, in quarter-module steps. It is the fourth point that turns the affine grid into a
 * perspective one: a card held at an angle shrinks towards its far side, and by the last modules
 * an affine grid is off by a module or more. Undefined when nothing there looks like the pattern.
 */
export function findAlignment(frame: LumaView, h: GridHypothesis, minContrast = 12): Point | undefined {
  if (h.dim < 25) return undefined;
  const k = h.dim - 7;
  const ex: Point = [(h.tr[0] - h.tl[0]) / k, (h.tr[1] - h.tl[1]) / k];
  const ey: Point = [(h.bl[0] - h.tl[0]) / k, (h.bl[1] - h.tl[1]) / k];
  const [cx, cy] = gridPoint({ ...h, warp: undefined }, h.dim - 6.5, h.dim - 6.5);
  const at = pixelAt(frame);
  const score = (x0: number, y0: number): number => {
    let ring1 = 0, ring2 = 0;
    for (let j = -2; j <= 2; j++)
      for (let i = -2; i <= 2; i++) {
        const d = Math.max(Math.abs(i), Math.abs(j));
        if (d === 0) continue;
        const v = at(x0 + i * ex[0] + j * ey[0], y0 + i * ex[1] + j * ey[1]);
        if (d === 1) ring1 += v;
        else ring2 += v;
      }
    return (2 * ring1) / 8 - at(x0, y0) - ring2 / 16;
  };
  // Half-module steps over the window, then quarter steps around the best of them.
  let bu = 0, bv = 0, bestScore = -Infinity;
  const search = (u0: number, v0: number, reach: number, step: number): void => {
    for (let dv = -reach; dv <= reach; dv += step)
      for (let du = -reach; du <= reach; du += step) {
        const u = u0 + du, v = v0 + dv;
        const sc = score(cx + u * ex[0] + v * ey[0], cy + u * ex[1] + v * ey[1]);
        if (sc > bestScore) {
          bestScore = sc;
          bu = u;
          bv = v;
        }
      }
  };
  search(0, 0, 3, 0.5);
  search(bu, bv, 0.5, 0.25);
  if (bestScore < 2 * minContrast) return undefined;
  return [cx + bu * ex[0] + bv * ey[0], cy + bu * ex[1] + bv * ey[1]];
}

/**
 * The mean of the modules within `r` of each module (dim x dim, row-major): a QR symbol's mask
 * keeps dark and light near half and half everywhere, so this is each module's own threshold.
 */
export function localMeans(vals: Float32Array, dim: number, r = 4): Float32Array {
  const n = dim;
  const integral = new Float64Array((n + 1) * (n + 1));
  for (let y = 0; y < n; y++) {
    let row = 0;
    for (let x = 0; x < n; x++) {
      row += vals[y * n + x]!;
      integral[(y + 1) * (n + 1) + x + 1] = integral[y * (n + 1) + x + 1]! + row;
    }
  }
  const out = new Float32Array(n * n);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const x0 = Math.max(0, x - r), x1 = Math.min(n, x + r + 1), y0 = Math.max(0, y - r), y1 = Math.min(n, y + r + 1);
      const sum = integral[y1 * (n + 1) + x1]! - integral[y0 * (n + 1) + x1]! - integral[y1 * (n + 1) + x0]! + integral[y0 * (n + 1) + x0]!;
      out[y * n + x] = sum / ((x1 - x0) * (y1 - y0));
    }
  return out;
}

/**
 * Dark (1) / light (0) per module, each against its neighbourhood's mean (`localMeans`), so a glare
 * gradient or a shadow across the symbol does not flip whole areas.
 */
export function thresholdModules(vals: Float32Array, dim: number, r = 4): Uint8Array {
  const means = localMeans(vals, dim, r);
  const bits = new Uint8Array(dim * dim);
  for (let i = 0; i < bits.length; i++) bits[i] = vals[i]! < means[i]! ? 1 : 0;
  return bits;
}
