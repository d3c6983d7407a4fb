/**
 * Cheap "could a QR code be here?" test, run on the main thread before a frame is queued for a
 * decode worker. Most frames at a checkpoint hold no code, and zxing spends a full scan (several
 * ms at 1080p, every escalation pass on top) to find nothing. This looks only for QR finder
 * patterns (the three nested squares, 1:1:3:1:1 dark/light runs across and down) on every
 * `rowStep`-th row of a 2x box-downscaled view of the frame, confirmed by a vertical cross-check
 * through the run's centre. It is tuned to say "maybe" easily: a false "maybe" costs one normal
 * decode; a false "no" is covered by the pool's slow schedule (a full decode per camera every
 * so often regardless) and by the lane (frames are never filtered while a code is in view).
 *
 * Why 2x downscaled: the box filter removes the moire of codes shown on screens and the sensor
 * noise that breaks runs, and halves the work; a module of 2 px at 1080p (about the smallest a
 * camera reads) is still 1 px. Why a local mean with hysteresis: glare and uneven light move the
 * threshold across a frame; a pixel changes colour only when it differs from the mean of its
 * neighbourhood by more than `contrast`, so flat areas and noise do not make runs.
 */
import type { LumaView } from "./luma-read.js";
import { RowScan, ROWS_PER_BATCH } from "./row-scan.js";

export interface PrefilterOptions {
  /** Scan every n-th row of the downscaled view (2 = every 4th frame row). */
  rowStep: number;
  /** A pixel turns dark/light only when it is this far below/above the local mean. */
  contrast: number;
  /** Half-width (px, downscaled) of the local mean window along a row. */
  window: number;
  /** Allowed deviation of each run from its ideal length, as a fraction of the module size. */
  tolerance: number;
  /** Smallest module (frame px) looked for: finder runs shorter than this are noise, not a code. */
  minModulePx: number;
  /** Also require 1:1:3:1:1 along the diagonal through the centre (rejects text and noise). */
  diagonal: boolean;
  /** Stop after this many distinct finder patterns (one says "maybe", two paired say "likely"). */
  maxHits: number;
  /**
   * In the column and diagonal checks, an outer dark run may be longer than a module: a
   * finder whose outer ring merges with something dark beside it (a bar, a bezel, no quiet zone).
   * For regrid (regrid.ts), which checks the symbol's structure itself; off for the prefilter.
   */
  openOuter?: boolean;
}

/**
 * Tuned on the real photos (boofcv-dev fit to 1080p, bench:prefilter): of the 151 photos the full
 * cascade reads, 149 show a finder pattern with these settings (the other two are left to the slow
 * schedule); of the 216 same scenes with their codes painted over, 46 still show one (19 of them
 * paired). The diagonal check removed 40 of 86 such false hits for 2 readable photos; a stricter
 * run tolerance (0.6) or contrast (10) lost 2-15 readable photos.
 */
export const DEFAULT_PREFILTER: PrefilterOptions = { rowStep: 2, contrast: 6, window: 24, tolerance: 0.75, minModulePx: 2, diagonal: true, maxHits: 4 };

/** A finder pattern centre in frame coordinates, with its module size (frame px). */
export interface FinderHit {
  x: number;
  y: number;
  module: number;
}

/** Whether two finder hits can belong to one symbol (the rule `pairedFinders` states). */
export function onePair(a: FinderHit, b: FinderHit): boolean {
  const r = a.module / b.module;
  if (r < 0.5 || r > 2) return false;
  const m = (a.module + b.module) / 2;
  const d = Math.hypot(a.x - b.x, a.y - b.y);
  return d >= 8 * m && d <= 260 * m;
}

/**
 * Two finder patterns of one symbol: module sizes within 2x of each other (perspective) and
 * centres 8-260 modules apart (version 1 has them 14 apart, version 40 170; tilt stretches).
 * Strong evidence of a code; a lone finder-like shape is weak (text, tiles, window frames).
 */
export function pairedFinders(hits: readonly FinderHit[]): boolean {
  for (let i = 0; i < hits.length; i++) for (let j = i + 1; j < hits.length; j++) if (onePair(hits[i]!, hits[j]!)) return true;
  return false;
}

/** Reusable scratch buffers (one prefilter per thread; frames of any size). */
export class Prefilter {
  private readonly rows = new RowScan();

  constructor(private readonly o: PrefilterOptions = DEFAULT_PREFILTER) {}

  /**
   * Finder-pattern candidates in the frame (at most `maxHits`); empty means "no QR here".
   * `enough` stops the scan early once the hits say what the caller needs (the scan costs the
   * most on exactly the frames that hold a code).
   */
  find(frame: LumaView, enough?: (hits: readonly FinderHit[]) => boolean): FinderHit[] {
    const w = frame.width >> 1;
    const h = frame.height >> 1;
    const hits: FinderHit[] = [];
    if (w < 8 || h < 8) return hits;
    const { rowStep, contrast, window: win } = this.o;
    const runs = [0, 0, 0, 0, 0];
    // Seven modules of at least minModulePx frame px, in the 2x downscaled view.
    const minTotal = Math.max(7, (7 * this.o.minModulePx) / 2);
    const last = h - 2; // rows 1 .. h - 2
    for (let y0 = 1; y0 <= last; y0 += rowStep * ROWS_PER_BATCH) {
      const n = Math.min(ROWS_PER_BATCH, Math.floor((last - y0) / rowStep) + 1);
      // Where the colour changes along each row (row-scan.ts, WebAssembly), then the runs in between.
      const { tr: all, stride, counts } = this.rows.scan(frame, y0, rowStep, n, win, contrast);
      for (let i = 0; i < n; i++) {
        const y = y0 + i * rowStep;
        const base = i * stride;
        const nt = counts[i]!;
        let count = 0; // completed runs in `runs` (last five, oldest first)
        for (let k = 1; k < nt; k++) {
          // Run k-1 spans [tr[k-1], tr[k]); run 0 is light (possibly empty), then they alternate.
          runs[0] = runs[1]!;
          runs[1] = runs[2]!;
          runs[2] = runs[3]!;
          runs[3] = runs[4]!;
          runs[4] = all[base + k]! - all[base + k - 1]!;
          count++;
          const x = all[base + k]!;
          const dark = ((k - 1) & 1) === 1;
          // Five runs ending with a dark one: dark light DARK light dark.
          if (dark && count >= 5 && runs[0]! + runs[1]! + runs[2]! + runs[3]! + runs[4]! >= minTotal && ratioOk(runs[0]!, runs[1]!, runs[2]!, runs[3]!, runs[4]!, this.o.tolerance)) {
            const total = runs[0]! + runs[1]! + runs[2]! + runs[3]! + runs[4]!;
            const cx = x - runs[4]! - runs[3]! - ((runs[2]! + 1) >> 1);
            const t = windowMean(frame, cx, y, w, win);
            if (this.crossCheck(frame, cx, y, w, h, t, total, 0, 1) && (!this.o.diagonal || this.crossCheck(frame, cx, y, w, h, t, total / Math.SQRT2, 1, 1))) {
              const hit = { x: cx * 2 + 1, y: y * 2 + 1, module: (total * 2) / 7 };
              // Several scanned rows cross one finder pattern: count it once.
              if (!hits.some((o) => Math.abs(o.x - hit.x) < 4 * o.module && Math.abs(o.y - hit.y) < 4 * o.module)) {
                hits.push(hit);
                if (hits.length >= this.o.maxHits || enough?.(hits)) return hits;
              }
            }
          }
        }
      }
    }
    return hits;
  }

  /**
   * 1:1:3:1:1 through (cx, cy) along direction (dx, dy) of the downscaled view (vertical or
   * diagonal), threshold `t` from the row. `total` is the length expected from the row's runs.
   */
  private crossCheck(frame: LumaView, cx: number, cy: number, w: number, h: number, t: number, total: number, dx: number, dy: number): boolean {
    const max = total * 2;
    const c = [0, 0, 0, 0, 0];
    const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < w && y < h;
    const walk = (sign: number, center: number, light: number, outer: number) => {
      let x = cx + (sign > 0 ? dx : 0), y = cy + (sign > 0 ? dy : 0);
      const run = (i: number, dark: boolean) => {
        while (inside(x, y) && downAt(frame, x, y) < t === dark && c[i]! <= max) {
          c[i]!++;
          x += sign * dx;
          y += sign * dy;
        }
      };
      run(center, true);
      run(light, false);
      run(outer, true);
    };
    walk(-1, 2, 1, 0);
    walk(1, 2, 3, 4);
    // Perspective and tilt stretch one axis against the other; a factor 2.5 is generous.
    if (this.o.openOuter) {
      // An outer run that ran on (into something dark) counts as one module of the ring.
      const inner = c[1]! + c[2]! + c[3]!;
      const m = inner / 5;
      if (c[0]! > m) c[0] = Math.max(1, Math.round(m));
      if (c[4]! > m) c[4] = Math.max(1, Math.round(m));
    }
    const vt = c[0]! + c[1]! + c[2]! + c[3]! + c[4]!;
    if (vt * 2.5 < total || vt > total * 2.5) return false;
    return ratioOk(c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, this.o.tolerance);
  }
}

/** 1:1:3:1:1 within `tol` modules per run (the centre gets 3x), as zxing's finder test does. */
function ratioOk(a: number, b: number, c: number, d: number, e: number, tol: number): boolean {
  const total = a + b + c + d + e;
  if (total < 7 || a === 0 || b === 0 || c === 0 || d === 0 || e === 0) return false;
  const m = total / 7;
  const v = m * tol;
  return Math.abs(m - a) < v && Math.abs(m - b) < v && Math.abs(3 * m - c) < 3 * v && Math.abs(m - d) < v && Math.abs(m - e) < v;
}

/** Mean of the downscaled row y over the scan's window around x (clipped at the row's ends), as the row scan computes it. */
function windowMean(f: LumaView, x: number, y: number, w: number, win: number): number {
  const a = Math.max(0, x - win), b = Math.min(w, x + win + 1);
  let sum = 0;
  for (let i = a; i < b; i++) sum += downAt(f, i, y);
  return sum / (b - a);
}

function downAt(f: LumaView, x: number, y: number): number {
  const d = f.data;
  const p = 2 * y * f.stride + 2 * x;
  const q = p + f.stride;
  return (d[p]! + d[p + 1]! + d[q]! + d[q + 1]! + 2) >> 2;
}
