/**
 * The decode passes: each one way of reading a frame (a tone curve, a crop of a located symbol, an
 * inversion, a re-drawn grid, ...), tried in the configured order by the strategy (strategy.ts).
 * Each takes the worker's heap image and the frame's pass context, and returns what it read.
 */
import type { DecodedCode, Point } from "../core/types.js";
import type { DecodePassName } from "./options.js";
import type { HeapImage, ReadOut } from "./luma-read.js";
import { baseQrOptions, encodeReaderOptions } from "./reader-options.js";
import { cropScaleInto, downscale2Into, localStretchInto } from "./preprocess.js";
import { autoGamma, gammaLut, lutInto, sampledMedian } from "./tone.js";
import { sideOf } from "./plausible.js";
import { DEFAULT_PREFILTER, Prefilter } from "./prefilter.js";
import { eraseLongDarkRuns, planRepair } from "./quiet-zone.js";
import { regridCandidates } from "./regrid.js";
import { cropScale, MAX_REGIONS, overlaps, type Region } from "./regions.js";
import { mapOut, readDrawn, readFull } from "./reads.js";
import { voteAndRead, type VoteContext } from "./grid-reads.js";

const FAST = encodeReaderOptions({ ...baseQrOptions, returnErrors: true });
/**
 * tryInvert rides along: zxing retries light-on-dark only when nothing was found, so it costs
 * nothing on frames with a normal code and saves a separate full invert pass on the rest.
 */
const HARDER = encodeReaderOptions({ ...baseQrOptions, tryHarder: true, tryInvert: true, returnErrors: true });
/** For crops: small images, so the extra effort is cheap. */
const CROP = HARDER;
/**
 * The tone passes' reader: tryHarder plus zxing's own image pyramid (each further layer a third
 * of the previous one's side, down to ~500 px). The pyramid is what reads codes on screens (a
 * display's pixel grid and moire average away) and very large codes; its layers cost 1/9 and
 * 1/81 of the full image. tryInvert and tryRotate are left out: on the dev photos they read
 * nothing the rest did not (QR is rotation invariant) and tryInvert doubles every failed read.
 */
const TONE = encodeReaderOptions({ ...baseQrOptions, tryHarder: true, tryDownscale: true, downscaleFactor: 3, returnErrors: true });
const DENOISE = encodeReaderOptions({ ...baseQrOptions, tryHarder: true, tryDownscale: true, downscaleFactor: 3, tryDenoise: true, returnErrors: true });
/** Fixed curves for what the median misses: darken (washed-out codes), lighten (codes in shadow). */
const DARKEN_LUT = gammaLut(2);
/** Finder patterns for the quiet-zone pass: more hits than the prefilter's yes/no needs. */
const finders = new Prefilter({ ...DEFAULT_PREFILTER, maxHits: 12 });
/**
 * Finder patterns for regrid (ADR 0007): every 6th row and four times the prefilter's contrast (a
 * finder worth re-gridding is damaged, not faint), no diagonal check (a broken ring fails it), an
 * outer run that runs on into something dark accepted, more hits (the data's finder-like shapes
 * take some). On the generated code-free 1080p scenes the whole pass adds 0.3 ms (flat, textured)
 * to 1.6 ms (sigma 40 noise) to a frame's cascade.
 */
const regridFinders = new Prefilter({ ...DEFAULT_PREFILTER, maxHits: 20, contrast: 24, rowStep: 3, openOuter: true, diagonal: false });
const LIGHTEN_LUT = gammaLut(0.33);

export interface PassContext extends VoteContext {
  /** Regions worth a closer look: the camera's last code, then symbols located but not decoded. */
  regions: Region[];
  /** The gamma `tone` chose from the frame's median (1 = none needed, or tone did not run). */
  gamma: number;
}

type PassFn = (img: HeapImage, ctx: PassContext) => ReadOut | undefined;

export const passes: Record<DecodePassName, PassFn> = {
  tone: (img, ctx) => {
    const { frame } = ctx;
    const g = autoGamma(sampledMedian(frame));
    ctx.gamma = g;
    if (g === 1) return readFull(img, frame, TONE);
    lutInto(frame, gammaLut(g), img.reserve(frame.width, frame.height));
    return img.read(TONE);
  },
  darken: (img, { frame }) => {
    lutInto(frame, DARKEN_LUT, img.reserve(frame.width, frame.height));
    return img.read(TONE);
  },
  lighten: (img, { frame }) => {
    lutInto(frame, LIGHTEN_LUT, img.reserve(frame.width, frame.height));
    return img.read(TONE);
  },
  denoise: (img, { frame }) => readFull(img, frame, DENOISE),
  regrid: (img, ctx) => {
    // Finders zxing could not confirm (a broken ring, regrid.ts): the grid from our own finder
    // scan, sampled and drawn again clean. Each drawing is a few hundred pixels a side. A symbol
    // seen in earlier frames is also drawn from its modules' votes summed over those frames
    // (votes.ts): what spoiled one frame (a glare spot moving over the screen) spared another.
    for (const c of regridCandidates(ctx.frame, regridFinders.find(ctx.frame))) {
      const out = readDrawn(img, c.image) ?? voteAndRead(img, ctx, c.hypothesis, c.vals);
      if (out) return mapOut(out, c.toFrame);
    }
    return undefined;
  },
  quietzone: (img, { frame }) => {
    // A code touching something dark (quiet-zone.ts): two finders of one symbol found, a third
    // merged into its surroundings. The repair and the read work on the symbol's region only (a
    // crop: a fraction of a full-frame read); no run to repair means nothing to read again.
    const plan = planRepair(frame, finders.find(frame));
    if (!plan) return undefined;
    const { x, y, w, h } = plan.region;
    const crop = new Uint8Array(w * h);
    cropScaleInto(frame, plan.region, 1, crop);
    if (eraseLongDarkRuns(crop, w, h, { ...plan, region: { x: 0, y: 0, w, h } }) === 0) return undefined;
    img.reserve(w, h).set(crop);
    return mapOut(img.read(TONE), (p) => [p[0] + x, p[1] + y]);
  },
  fast: (img, { frame }) => readFull(img, frame, FAST),
  harder: (img, { frame }) => readFull(img, frame, HARDER),
  downscale: (img, { frame }) => {
    downscale2Into(frame, img.reserve(frame.width >> 1, frame.height >> 1));
    return mapOut(img.read(FAST), (p) => [p[0] * 2, p[1] * 2]);
  },
  invert: (img, { frame }) => {
    // Light-on-dark codes (dark-mode phone screens): our word-wise inversion and the cheap
    // reader, instead of tryInvert on every tone pass (which doubles each failed read).
    img.load(frame);
    img.invertInPlace();
    return img.read(FAST);
  },
  equalize: (img, { frame }) => {
    localStretchInto(frame, img.reserve(frame.width, frame.height));
    return img.read(HARDER);
  },
  crop: (img, { frame, regions }) => {
    if (regions.length === 0) return undefined;
    const found: DecodedCode[] = [];
    for (const rect of regions.slice(0, MAX_REGIONS)) {
      const scale = cropScale(rect);
      const w = Math.max(1, Math.round(rect.w * scale)), h = Math.max(1, Math.round(rect.h * scale));
      const toFrame = (p: Point): Point => [rect.x + p[0] / scale, rect.y + p[1] / scale];
      // Plain first (cheap, exact), then locally stretched for glare and low contrast, then
      // darkened (gamma 2) for a code washed out by glare that neither reads: measured, the BoofCV
      // glare/image011 tea label at 1080p, at every quarter turn, for no measurable cost (the third
      // read runs only on a located symbol the first two missed).
      let out: ReadOut = { codes: [], candidates: [] };
      if (!rect.stretchOnly) {
        cropScaleInto(frame, rect, scale, img.reserve(w, h));
        out = img.read(CROP);
      }
      if (out.codes.length === 0) {
        const crop = new Uint8Array(w * h);
        cropScaleInto(frame, rect, scale, crop);
        const view = { width: w, height: h, stride: w, data: crop };
        localStretchInto(view, img.reserve(w, h));
        out = img.read(CROP);
        if (out.codes.length === 0) {
          lutInto(view, DARKEN_LUT, img.reserve(w, h));
          out = img.read(CROP);
        }
      }
      // Every region is read: regions are distinct symbols (several codes in view). A code much
      // smaller than the symbol located there is a phantom made of part of it (plausible.ts).
      for (const c of mapOut(out, toFrame).codes) if (sideOf(c.corners) >= rect.minSide && !found.some((f) => f.text === c.text && overlaps(f.corners, c.corners))) found.push(c);
    }
    return { codes: found, candidates: [] };
  },
};
