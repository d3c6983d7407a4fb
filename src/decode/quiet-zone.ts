/**
 * Quiet-zone repair for codes that touch something dark: a phone case's edge, a screen bezel, a
 * card printed without its margin, a strap or a finger across the edge. zxing finds a QR code by
 * its finder patterns' 1:1:3:1:1 dark/light runs; when the outer ring of a finder merges with a
 * dark area beside it, that run is far too long, the finder is never found, and nothing is even
 * located. (The BoofCV "pathological" photos are such codes: the three other engines' misses there
 * are the same.)
 *
 * No dark run inside a QR symbol is much longer than a finder pattern (7 modules; the standard's
 * mask penalty keeps data runs short), so dark runs of more than `MAX_RUN_MODULES` along a row or a
 * column are not part of the code: painting them light restores the quiet zone the reader needs,
 * and leaves the symbol intact. The module size and the dark/light threshold come from the finder
 * patterns that were found (prefilter.ts): a code with a damaged finder still has two good ones.
 *
 * Pure functions on a packed 8-bit image; the caller owns the buffers (the wasm heap image).
 */
import { onePair, type FinderHit } from "./prefilter.js";
import type { LumaView } from "./luma-read.js";
import type { Rect } from "./preprocess.js";

/** A finder is 7 modules; 12 leaves room for tilt (7 * sqrt 2 ~ 9.9) and blur. */
export const MAX_RUN_MODULES = 12;
/** A region whose dark and light levels differ by less than this has no code to repair. */
const MIN_CONTRAST = 24;

export interface RepairPlan {
  /** Where to look (frame px): the finders' box grown by the largest symbol they can belong to. */
  region: Rect;
  /** Dark below this. */
  threshold: number;
  /** Value painted over a removed run (the region's light level). */
  light: number;
  /** Dark runs longer than this (px) are removed. */
  maxRun: number;
}

/**
 * The finders of one symbol: the pair with the largest modules (then the closest) whose module sizes
 * agree within 2x and whose centres are 8-260 modules apart (prefilter.ts pairedFinders), with any
 * other hit of a similar module inside the pair's reach; none when nothing pairs. The largest:
 * a code's data can hold smaller finder-like shapes (the "pathological" photos), never larger
 * ones. Hits elsewhere in the frame (text, tiles) would only widen the region to the whole frame.
 */
export function pairOf(hits: readonly FinderHit[]): FinderHit[] {
  let best: [FinderHit, FinderHit] | undefined;
  let bestD = Infinity;
  let bestSize = 0;
  for (let i = 0; i < hits.length; i++)
    for (let j = i + 1; j < hits.length; j++) {
      const a = hits[i]!, b = hits[j]!;
      if (!onePair(a, b)) continue;
      const d = Math.hypot(a.x - b.x, a.y - b.y);
      const size = Math.min(a.module, b.module);
      if (size > bestSize || (size === bestSize && d < bestD)) {
        best = [a, b];
        bestD = d;
        bestSize = size;
      }
    }
  if (!best) return [];
  const [a, b] = best;
  const m = (a.module + b.module) / 2;
  const reach = bestD * 1.5;
  const rest = hits.filter((h) => h !== a && h !== b && h.module >= m / 2 && h.module <= m * 2 && Math.hypot(h.x - a.x, h.y - a.y) <= reach && Math.hypot(h.x - b.x, h.y - b.y) <= reach);
  return [a, b, ...rest];
}

/**
 * From the finder patterns of one symbol (pairOf): module size (the largest) and the region (the finders' box grown by
 * the largest pair distance plus 5 modules: the whole symbol, whichever corners the finders are);
 * dark/light levels from the region's 5th and 95th percentiles (sampled), threshold halfway. The
 * finders' own samples are too few to trust when the module estimate is off by a pixel or two.
 * Undefined when the region shows no usable contrast.
 */
export function planRepair(frame: LumaView, found: readonly FinderHit[]): RepairPlan | undefined {
  const hits = pairOf(found);
  if (hits.length === 0) return undefined;
  // The largest module found: a code's data can hold finder-like shapes of smaller scale (the
  // "pathological" photos have several), and a run limit too short would eat the real finders.
  const module = Math.max(...hits.map((h) => h.module));
  let span = 0;
  for (const a of hits) for (const b of hits) span = Math.max(span, Math.hypot(a.x - b.x, a.y - b.y));
  const grow = span + 5 * module;
  const x0 = Math.max(0, Math.floor(Math.min(...hits.map((h) => h.x)) - grow));
  const y0 = Math.max(0, Math.floor(Math.min(...hits.map((h) => h.y)) - grow));
  const x1 = Math.min(frame.width, Math.ceil(Math.max(...hits.map((h) => h.x)) + grow));
  const y1 = Math.min(frame.height, Math.ceil(Math.max(...hits.map((h) => h.y)) + grow));
  const hist = new Uint32Array(256);
  const step = Math.max(1, Math.floor(Math.sqrt(((x1 - x0) * (y1 - y0)) / 20000)));
  let n = 0;
  for (let y = y0; y < y1; y += step)
    for (let x = x0; x < x1; x += step) {
      hist[frame.data[y * frame.stride + x]!]!++;
      n++;
    }
  const pct = (q: number): number => {
    let acc = 0;
    for (let v = 0; v < 256; v++) if ((acc += hist[v]!) >= q * n) return v;
    return 255;
  };
  const dark = pct(0.05), light = pct(0.95);
  if (light - dark < MIN_CONTRAST) return undefined;
  return { region: { x: x0, y: y0, w: x1 - x0, h: y1 - y0 }, threshold: (dark + light) / 2, light, maxRun: MAX_RUN_MODULES * module };
}

let scratch = new Uint8Array(0);
let colStart = new Int32Array(0);

/**
 * Whether any dark run longer than `plan.maxRun` crosses every `step`-th row or column of the
 * region: a cheap look (1/step of the pixels per direction) before the full scan, which a frame
 * without such a run (most frames with finder-like shapes: text, tiles, noise) never pays.
 */
export function hasLongDarkRun(data: Uint8Array, width: number, plan: RepairPlan, step: number): boolean {
  const { x, y, w, h } = plan.region;
  const thr = plan.threshold;
  const maxRun = plan.maxRun;
  for (let r = 0; r < h; r += step) {
    const base = (y + r) * width + x;
    let run = 0;
    for (let c = 0; c < w; c++) {
      if (data[base + c]! < thr) {
        if (++run > maxRun) return true;
      } else run = 0;
    }
  }
  for (let c = 0; c < w; c += step) {
    let run = 0;
    for (let r = 0; r < h; r++) {
      if (data[(y + r) * width + x + c]! < thr) {
        if (++run > maxRun) return true;
      } else run = 0;
    }
  }
  return false;
}

/**
 * Paints light, in place, every dark run longer than `plan.maxRun` along a row or a column of the
 * plan's region in the packed image `data` (width x height, stride = width). Runs are judged on
 * the image as given (both directions), then painted. Returns the number of pixels painted: 0
 * means there was nothing to repair, and reading again would only repeat the previous pass.
 * Row-major throughout (the column runs are tracked per column while walking rows): a column-wise
 * walk of a 1080p frame cost ten times as much in cache misses.
 */
export function eraseLongDarkRuns(data: Uint8Array, width: number, height: number, plan: RepairPlan): number {
  const { x, y, w, h } = plan.region;
  if (w <= 0 || h <= 0 || x + w > width || y + h > height) return 0;
  if (!hasLongDarkRun(data, width, plan, 4)) return 0;
  if (scratch.length < w * h) scratch = new Uint8Array(w * h);
  if (colStart.length < w) colStart = new Int32Array(w);
  const mark = scratch;
  mark.fill(0, 0, w * h);
  const thr = plan.threshold;
  const maxRun = plan.maxRun;
  const starts = colStart;
  starts.fill(-1, 0, w);
  for (let r = 0; r <= h; r++) {
    const base = (y + r) * width + x;
    let start = -1;
    for (let c = 0; c < w; c++) {
      const dark = r < h && data[base + c]! < thr;
      // Rows.
      if (r < h) {
        if (dark) {
          if (start < 0) start = c;
        } else if (start >= 0) {
          if (c - start > maxRun) mark.fill(1, r * w + start, r * w + c);
          start = -1;
        }
      }
      // Columns: a run of column c ends at row r.
      const cs = starts[c]!;
      if (dark) {
        if (cs < 0) starts[c] = r;
      } else if (cs >= 0) {
        if (r - cs > maxRun) for (let k = cs; k < r; k++) mark[k * w + c] = 1;
        starts[c] = -1;
      }
    }
    if (r < h && start >= 0 && w - start > maxRun) mark.fill(1, r * w + start, r * w + w);
  }
  let painted = 0;
  for (let r = 0; r < h; r++) {
    const base = (y + r) * width + x;
    const mbase = r * w;
    for (let c = 0; c < w; c++)
      if (mark[mbase + c]) {
        data[base + c] = plan.light;
        painted++;
      }
  }
  return painted;
}
