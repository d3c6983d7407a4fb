/**
 * Crop regions: where the crop pass looks closer (the camera's last code, tracked symbols, symbols
 * a pass located but could not decode), how large a code read there must be, and what a crop
 * costs. Pure geometry on frame rectangles.
 */
import type { Point } from "../core/types.js";
import type { LumaView, Quad } from "./luma-read.js";
import { boundsAround, type Rect } from "./preprocess.js";
import { MIN_SIDE_OF_LOCATED, sideOf } from "./plausible.js";
import { trackerDefaults } from "./track.js";

/** Below this side length (px) a crop is upscaled 2x before decoding. */
const SMALL_CODE_PX = 160;
/** Margin around a failed symbol's corners: its located outline may be off by a few modules. */
const CANDIDATE_MARGIN = 0.35;
export const MAX_REGIONS = 3;
/**
 * Crop spending on located symbols (bench/results/decode-photo-cost.json, docs/decode.md "Cost
 * floor"). The same symbol located again (by the pyramid's layers or a later pass: its region
 * overlaps one already taken by more than SAME_REGION_IOU) would be cropped from the same frame
 * pixels with the same reader: it is not cropped twice. A symbol whose region is not upscaled
 * (SMALL_CODE_PX) and spans at least LARGE_REGION of the frame's shorter side gets only the
 * contrast-stretched read: its plain crop is nearly the frame again at the frame pass's scale. On
 * the dev photos the repeats and the plain large crops read no code and were most of the crop time
 * on photos that end unread (the largest item of the camera's mean); the stretched read of a large
 * glare symbol does read (the generated `glare` frames, test/decode/strategy.test.ts).
 */
const SAME_REGION_IOU = 0.6;
const LARGE_REGION = 0.5;

/** A crop region; `minSide` (frame px): a code read there must be at least this large. */
export interface Region extends Rect {
  minSide: number;
  /** Only the contrast-stretched crop (a large located symbol, see LARGE_REGION). */
  stretchOnly?: boolean;
}

/**
 * The camera hint (the last codes' bounds + margin) gets no minimum: it may span several codes
 * of different sizes, and the phantom measured came from a located symbol's crop.
 */
export const hintRegion = (r: Rect): Region => ({ ...r, minSide: 0 });
/**
 * A tracked symbol's crop (track.ts: the symbol plus a margin that widens while the track ages):
 * the same phantom rule, against the smallest symbol the crop can hold (its widest margin), so an
 * old track's wider crop never rejects the real code.
 */
const TRACK_WIDEST = 1 + 2 * (trackerDefaults.margin + (trackerDefaults.marginPer100Ms * trackerDefaults.ttlMs) / 100);
export const trackedRegion = (r: Rect): Region => ({ ...r, minSide: (MIN_SIDE_OF_LOCATED * Math.min(r.w, r.h)) / TRACK_WIDEST });

/** A located-but-undecoded symbol's crop: a code read there must be a fair part of its size. */
export function candidateRegion(q: Quad, frame: LumaView): Region | undefined {
  const r = boundsAround(q, frame.width, frame.height, CANDIDATE_MARGIN);
  return r && { ...r, minSide: MIN_SIDE_OF_LOCATED * sideOf(q) };
}

/** Whether a located symbol's crop region is not the same symbol as one already `taken`. */
export function notTaken(r: Rect, taken: readonly Rect[]): boolean {
  return !taken.some((t) => iou(t, r) > SAME_REGION_IOU);
}

/** A region that is not upscaled and spans half the frame: the frame pass saw it at this scale. */
export function largeRegion(r: Rect, frame: LumaView): boolean {
  const side = Math.max(r.w, r.h);
  return side >= SMALL_CODE_PX * 2 && side >= LARGE_REGION * Math.min(frame.width, frame.height);
}

function iou(a: Rect, b: Rect): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const i = ix * iy;
  return i / (a.w * a.h + b.w * b.h - i);
}

/** Crop regions for located symbols, at most `room`, each symbol once (`taken` grows). */
export function candidateRegions(qs: readonly Quad[], frame: LumaView, taken: Rect[], room: number): Region[] {
  const out: Region[] = [];
  for (const q of qs) {
    if (out.length >= room) break;
    const r = candidateRegion(q, frame);
    if (!r || !notTaken(r, taken)) continue;
    taken.push(r);
    out.push(largeRegion(r, frame) ? { ...r, stretchOnly: true } : r);
  }
  return out;
}

/** Small symbols are cropped at 2x: zxing needs a few pixels per module. */
export const cropScale = (r: Rect): number => (Math.max(r.w, r.h) < SMALL_CODE_PX * 2 ? 2 : 1);

/** Pixels the crop pass reads for these regions (each scaled; the first MAX_REGIONS). */
export function cropPixels(regions: readonly Rect[]): number {
  let n = 0;
  for (const r of regions.slice(0, MAX_REGIONS)) n += r.w * r.h * cropScale(r) ** 2;
  return n;
}

/** Whether two quads' bounding boxes intersect. */
export function overlaps(a: readonly Point[], b: readonly Point[]): boolean {
  const box = (q: readonly Point[]) => [Math.min(...q.map((p) => p[0])), Math.min(...q.map((p) => p[1])), Math.max(...q.map((p) => p[0])), Math.max(...q.map((p) => p[1]))] as const;
  const [ax0, ay0, ax1, ay1] = box(a);
  const [bx0, by0, bx1, by1] = box(b);
  return ax0 < bx1 && bx0 < ax1 && ay0 < by1 && by0 < ay1;
}
