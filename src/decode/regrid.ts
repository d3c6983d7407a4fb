/**
 * Re-gridding for codes whose finder patterns zxing cannot confirm: a finder's outer ring broken
 * (a crease, a scratch, a sticker's edge, the BoofCV "pathological" photos), merged with a dark
 * border, or clipped by glare. zxing locates a QR code only through finder patterns that pass its
 * concentric checks in several directions; when they fail, nothing is even located, however clean
 * the data modules are.
 *
 * A finder's inner 3x3 core and the runs across its middle usually survive, and our own finder
 * scan (prefilter.ts: rows and a column through the centre) still finds it. From three finder
 * centres (or two, with the third's possible places tried) the symbol's grid is known up to an
 * affine map: module (u, v) sits at tl + (u - 3.5) ex + (v - 3.5) ey; once the alignment pattern is
 * found near where that map puts it, a four-point perspective map replaces it (homography.ts).
 * Every module is sampled there, thresholded against its neighbourhood, and the symbol is drawn
 * again, clean, with the parts that carry no data (the three finders, their separators and the
 * timing patterns) drawn as the standard defines them. zxing then reads that small image as a pure
 * symbol. The data, the format information and the error correction are the code's own: a wrong
 * grid gives a bit soup that Reed-Solomon and the format check reject. A hypothesis whose finder
 * cores or timing patterns do not show in the samples is not drawn at all (most wrong guesses of
 * the third finder or the version end there, for the cost of a hundred pixel reads).
 *
 * One alignment pattern only (the bottom-right one): large tilted symbols (version 7 and up have
 * more) keep some error away from it; zxing reads those when their finders are whole. Pure
 * functions over typed arrays; the caller reads the drawn image (strategy.ts, pass `regrid`).
 */
import type { Point } from "../core/types.js";
import type { LumaView } from "./luma-read.js";
import type { FinderHit } from "./prefilter.js";
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

export interface RegridOptions {
  /** Finder module sizes of one symbol agree within this ratio (perspective, blur, and the scan's 2x view: its estimate moves in steps of 2/7 px). */
  moduleRatio: number;
  /** The two legs of the finders' L agree in length within this ratio. */
  legRatio: number;
  /** |cos| of the L's corner angle at most this (90 degrees is 0; 0.3 is about 73-107 degrees). */
  maxCos: number;
  /** Hypotheses looked at per frame (finderCores: a hundred samples each). */
  maxLooks: number;
  /** Hypotheses sampled in full, drawn and read at most per frame (each one small zxing read). */
  maxDrawn: number;
  /** Share of the three finder cores' 27 modules that must sample dark. */
  minCore: number;
  /** Share of the timing patterns' modules that must alternate as the standard draws them. */
  minTiming: number;
  /** Pixels per module and quiet-zone modules of the drawn symbol. */
  scale: number;
  quiet: number;
}

export const REGRID_DEFAULTS: RegridOptions = { moduleRatio: 1.6, legRatio: 1.3, maxCos: 0.3, maxLooks: 64, maxDrawn: 6, minCore: 0.8, minTiming: 0.7, scale: 4, quiet: 4 };

const MIN_DIM = 21;
const MAX_DIM = 177;

const sub = (a: Point, b: Point): Point => [a[0] - b[0], a[1] - b[1]];
const add = (a: Point, b: Point): Point => [a[0] + b[0], a[1] + b[1]];
const len = (a: Point): number => Math.hypot(a[0], a[1]);
const mid = (a: Point, b: Point): Point => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
const cross = (a: Point, b: Point): number => a[0] * b[1] - a[1] * b[0];

/** Candidate symbol sizes for finder centres `d` px apart along a side with modules of `m` px. */
export function dimsFor(d: number, m: number): number[] {
  const est = d / m + 7;
  const v = (est - 17) / 4;
  const out: number[] = [];
  for (const k of [Math.round(v), Math.floor(v), Math.ceil(v), Math.round(v) - 1, Math.round(v) + 1]) {
    const dim = 17 + 4 * k;
    if (dim >= MIN_DIM && dim <= MAX_DIM && !out.includes(dim) && Math.abs(dim - est) <= Math.max(2.5, est * 0.12)) out.push(dim);
  }
  return out;
}

/** Gray at frame point (x, y): nearest pixel, clamped to the frame (sampling never reads outside). */
function pixelAt(frame: LumaView): (x: number, y: number) => number {
  const { data, stride, width, height } = frame;
  return (x, y) => data[Math.min(height - 1, Math.max(0, Math.round(y))) * stride + Math.min(width - 1, Math.max(0, Math.round(x)))]!;
}

/**
 * The centre of a finder's dark 3x3 core. The finder scan reports the row it crossed the pattern
 * on (any row through the core) and the run's middle; the grid needs the true centre to a
 * fraction of a module. The core is found by walking dark pixels from the hit, against a
 * threshold halfway between the darkest and lightest pixel across the pattern, first down the
 * column, then along the row through the new centre, then down the column again.
 */
export function refineCentre(frame: LumaView, hit: FinderHit): FinderHit {
  if (!usable(frame, hit)) return hit;
  const at = pixelAt(frame);
  const reach = Math.ceil(3.5 * hit.module);
  let lo = 255, hi = 0;
  for (let d = -reach; d <= reach; d++) {
    const v = at(hit.x + d, hit.y);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const thr = (lo + hi) / 2;
  const limit = Math.ceil(2.5 * hit.module);
  const span = (x: number, y: number, dx: number, dy: number): number => {
    let a = 0, b = 0;
    while (a < limit && at(x - (a + 1) * dx, y - (a + 1) * dy) < thr) a++;
    while (b < limit && at(x + (b + 1) * dx, y + (b + 1) * dy) < thr) b++;
    return (b - a) / 2;
  };
  // The scan's row may graze the core's edge (its 2x view blends two rows): step onto the core.
  let x = hit.x, y = hit.y;
  const step = Math.max(1, Math.round(hit.module / 2));
  const onCore = [0, -step, step, -2 * step, 2 * step].find((d) => at(x, y + d) < thr);
  if (onCore === undefined) return hit;
  y += onCore;
  y += span(x, y, 0, 1);
  x += span(x, y, 1, 0);
  y += span(x, y, 0, 1);
  return { x, y, module: hit.module };
}

/** A hit inside the frame with a module of at least a pixel and at most the frame's shorter side. */
function usable(frame: LumaView, h: FinderHit): boolean {
  return h.x >= 0 && h.y >= 0 && h.x < frame.width && h.y < frame.height && h.module >= 1 && h.module <= Math.min(frame.width, frame.height);
}

/** Orders an L of three finder centres as top-left (the corner), top-right, bottom-left (image y down). */
function orient(corner: Point, a: Point, b: Point): [Point, Point, Point] {
  return cross(sub(a, corner), sub(b, corner)) > 0 ? [corner, a, b] : [corner, b, a];
}

function similar(a: FinderHit, b: FinderHit, ratio: number): boolean {
  const r = a.module / b.module;
  return r <= ratio && r >= 1 / ratio;
}

/**
 * Grid hypotheses from finder hits, most likely first: every L of three hits (a right angle, legs
 * of similar length, similar modules; the squarest first), then, for each pair, the places the third
 * finder can take (the pair is a side, either end the corner, either side of it; or the diagonal),
 * pairs of equal modules first, then larger modules: data can hold small finder-like shapes, never
 * larger ones. Lazy: a frame looks at a few dozen of the thousand-odd hypotheses twenty hits give.
 */
export function* gridHypotheses(hits: readonly FinderHit[], o: RegridOptions = REGRID_DEFAULTS): Generator<GridHypothesis> {
  const hs = [...hits].sort((a, b) => b.module - a.module);
  const sized = function* (tl: Point, tr: Point, bl: Point, m: number): Generator<GridHypothesis> {
    const side = (len(sub(tr, tl)) + len(sub(bl, tl))) / 2;
    for (const dim of dimsFor(side, m)) yield { tl, tr, bl, dim };
  };
  const ls: Array<{ tl: Point; tr: Point; bl: Point; m: number; score: number }> = [];
  for (let i = 0; i < hs.length; i++)
    for (let j = i + 1; j < hs.length; j++) {
      if (!similar(hs[i]!, hs[j]!, o.moduleRatio)) continue;
      for (let k = j + 1; k < hs.length; k++) {
        const t = [hs[i]!, hs[j]!, hs[k]!] as const;
        if (!similar(t[0], t[2], o.moduleRatio) || !similar(t[1], t[2], o.moduleRatio)) continue;
        // hs is sorted by module, largest first.
        const spread = t[0].module / t[2].module - 1;
        for (let c = 0; c < 3; c++) {
          const p = t[c]!, a = t[(c + 1) % 3]!, b = t[(c + 2) % 3]!;
          const ax = a.x - p.x, ay = a.y - p.y, bx = b.x - p.x, by = b.y - p.y;
          const la = Math.hypot(ax, ay), lb = Math.hypot(bx, by);
          if (la === 0 || lb === 0 || Math.max(la, lb) / Math.min(la, lb) > o.legRatio) continue;
          const cos = (ax * bx + ay * by) / (la * lb);
          if (Math.abs(cos) > o.maxCos) continue;
          const [tl, tr, bl] = orient([p.x, p.y], [a.x, a.y], [b.x, b.y]);
          // Closer to a square corner with equal legs and equal modules comes first: a finder-like
          // shape in the data or an alignment pattern can complete a looser L.
          ls.push({ tl, tr, bl, m: (t[0].module + t[1].module + t[2].module) / 3, score: Math.abs(cos) + (Math.max(la, lb) / Math.min(la, lb) - 1) + spread });
        }
      }
    }
  ls.sort((a, b) => a.score - b.score);
  for (const l of ls) yield* sized(l.tl, l.tr, l.bl, l.m);
  // Pairs, also those in an L (an alignment pattern or a finder-like shape in the data can
  // complete a wrong one): equal module sizes first, then larger modules (the data's finder-like
  // shapes are smaller than the real finders, never larger).
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < hs.length; i++) for (let j = i + 1; j < hs.length; j++) pairs.push([i, j]);
  const spreadOf = ([i, j]: [number, number]): number => Math.max(hs[i]!.module, hs[j]!.module) / Math.min(hs[i]!.module, hs[j]!.module);
  pairs.sort((p, q) => spreadOf(p) - spreadOf(q) || Math.min(hs[q[0]]!.module, hs[q[1]]!.module) - Math.min(hs[p[0]]!.module, hs[p[1]]!.module));
  for (const [i, j] of pairs) {
    const a = hs[i]!, b = hs[j]!;
    if (!similar(a, b, o.moduleRatio)) continue;
    const m = (a.module + b.module) / 2;
    const pa: Point = [a.x, a.y], pb: Point = [b.x, b.y];
    const d = len(sub(pb, pa));
    if (d < 12 * m || d > 240 * m) continue;
    const perp: Point = [-(pb[1] - pa[1]), pb[0] - pa[0]];
    // The pair as a side: the third finder is a side's length off either end, on either side.
    for (const [c, e] of [[pa, pb], [pb, pa]] as const)
      for (const s of [1, -1]) {
        const third = add(c, [perp[0] * s, perp[1] * s]);
        const [tl, tr, bl] = orient(c, e, third);
        yield* sized(tl, tr, bl, m);
      }
    // The pair as the diagonal (top-right and bottom-left): the corner is off the midpoint.
    const half: Point = [perp[0] / 2, perp[1] / 2];
    for (const s of [1, -1]) {
      const corner = add(mid(pa, pb), [half[0] * s, half[1] * s]);
      const [tl, tr, bl] = orient(corner, pa, pb);
      yield* sized(tl, tr, bl, m);
    }
  }
}

/** Frame position of module coordinates (u, v) (module centres at half-integers). */
export function gridPoint(h: GridHypothesis, u: number, v: number): Point {
  if (h.bend) [u, v] = bendModule(h.bend, h.dim, u, v);
  if (h.warp) return apply(h.warp, u, v);
  const k = h.dim - 7;
  const ex = sub(h.tr, h.tl), ey = sub(h.bl, h.tl);
  return [h.tl[0] + ((u - 3.5) * ex[0] + (v - 3.5) * ey[0]) / k, h.tl[1] + ((u - 3.5) * ex[1] + (v - 3.5) * ey[1]) / k];
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
 * The grid of a symbol zxing located (its outer corners in the symbol's own orientation, its size
 * read from the format and version): a perspective map from the four corners.
 */
export function gridFromCorners(corners: readonly [Point, Point, Point, Point], dim: number): GridHypothesis {
  const warp = quadToQuad([[0, 0], [dim, 0], [dim, dim], [0, dim]], corners);
  return { tl: apply(warp, 3.5, 3.5), tr: apply(warp, dim - 3.5, 3.5), bl: apply(warp, 3.5, dim - 3.5), dim, warp };
}

/** Drawn-image pixel (drawSymbol at the options' scale and quiet zone) -> frame pixel. */
export function drawnToFrame(h: GridHypothesis, o: Pick<RegridOptions, "scale" | "quiet"> = REGRID_DEFAULTS): (p: Point) => Point {
  return (p) => gridPoint(h, p[0] / o.scale - o.quiet, p[1] / o.scale - o.quiet);
}

/** The hypothesis with perspective from its three finders and the alignment pattern at `al`. */
export function withAlignment(h: GridHypothesis, al: Point): GridHypothesis {
  const n = h.dim;
  return { ...h, warp: quadToQuad([[3.5, 3.5], [n - 3.5, 3.5], [n - 6.5, n - 6.5], [3.5, n - 3.5]], [h.tl, h.tr, al, h.bl]) };
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

/** The finder pattern's module at (x, y) of its 7x7 square: dark ring, light ring, dark 3x3 core. */
const finderDark = (x: number, y: number): boolean => {
  const d = Math.max(Math.abs(x - 3), Math.abs(y - 3));
  return d !== 2;
};

/** How well the samples show a QR symbol's fixed parts: the finder cores' dark share and the timing patterns' agreement. */
export function structureScore(bits: Uint8Array, dim: number): { core: number; timing: number } {
  let core = 0;
  for (const [fx, fy] of [[0, 0], [dim - 7, 0], [0, dim - 7]] as const) for (let y = 2; y <= 4; y++) for (let x = 2; x <= 4; x++) core += bits[(fy + y) * dim + fx + x]!;
  let agree = 0, total = 0;
  for (let i = 8; i < dim - 8; i++) {
    const want = i % 2 === 0 ? 1 : 0;
    agree += (bits[6 * dim + i] === want ? 1 : 0) + (bits[i * dim + 6] === want ? 1 : 0);
    total += 2;
  }
  return { core: core / 27, timing: total > 0 ? agree / total : 1 };
}

/**
 * Draws the symbol from its module bits, `scale` px per module inside a `quiet`-module white
 * margin, with the finders, their separators and the timing patterns as the standard draws them.
 */
export function drawSymbol(bits: Uint8Array, dim: number, scale: number, quiet: number, dst?: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const side = (dim + 2 * quiet) * scale;
  const data = dst && dst.length >= side * side ? dst.subarray(0, side * side) : new Uint8Array(side * side);
  data.fill(255);
  const fixed = (x: number, y: number): number | undefined => {
    for (const [fx, fy] of [[0, 0], [dim - 7, 0], [0, dim - 7]] as const) {
      const lx = x - fx, ly = y - fy;
      if (lx >= -1 && lx <= 7 && ly >= -1 && ly <= 7) return lx >= 0 && lx < 7 && ly >= 0 && ly < 7 && finderDark(lx, ly) ? 1 : 0;
    }
    if (y === 6 && x >= 8 && x < dim - 8) return x % 2 === 0 ? 1 : 0;
    if (x === 6 && y >= 8 && y < dim - 8) return y % 2 === 0 ? 1 : 0;
    return undefined;
  };
  for (let y = 0; y < dim; y++)
    for (let x = 0; x < dim; x++) {
      if ((fixed(x, y) ?? bits[y * dim + x]) !== 1) continue;
      const px = (x + quiet) * scale, py = (y + quiet) * scale;
      for (let r = 0; r < scale; r++) data.fill(0, (py + r) * side + px, (py + r) * side + px + scale);
    }
  return { width: side, height: side, data };
}

export interface RegridCandidate {
  hypothesis: GridHypothesis;
  /** Each module's mean gray (sampleModules), for evidence across frames (votes.ts). */
  vals: Float32Array;
  image: { width: number; height: number; data: Uint8Array };
  /** Drawn-image pixel -> frame pixel. */
  toFrame: (p: Point) => Point;
}

/**
 * The drawn symbols worth reading, best first: hypotheses whose samples show the finder cores and
 * the timing patterns. Deduplicated (two hypotheses that draw the same bits read the same).
 */
export function* regridCandidates(frame: LumaView, hits: readonly FinderHit[], o: RegridOptions = REGRID_DEFAULTS): Generator<RegridCandidate> {
  let looked = 0, drawn = 0;
  const seen = new Set<string>();
  // Hits come from our own scan; the guard keeps a bad one (NaN, off-frame, absurd module) from
  // walking forever or drawing a symbol of a million modules.
  for (const h of gridHypotheses(hits.filter((f) => usable(frame, f)).map((f) => refineCentre(frame, f)), o)) {
    if (looked >= o.maxLooks || drawn >= o.maxDrawn) return;
    looked++;
    if (!finderCores(frame, h)) continue;
    const al = findAlignment(frame, h);
    // With perspective first; the affine grid too, in case the alignment pattern found was not it.
    for (const g of al ? [withAlignment(h, al), h] : [h]) {
      if (drawn >= o.maxDrawn) return;
      if (timingAgreement(frame, g) < o.minTiming) continue;
      const vals = sampleModules(frame, g);
      if (!vals) continue;
      const bits = thresholdModules(vals, g.dim);
      const s = structureScore(bits, g.dim);
      if (s.core < o.minCore || s.timing < o.minTiming) continue;
      const key = bits.join("");
      if (seen.has(key)) continue;
      seen.add(key);
      drawn++;
      const image = drawSymbol(bits, g.dim, o.scale, o.quiet);
      yield { hypothesis: g, vals, image, toFrame: drawnToFrame(g, o) };
    }
  }
}
