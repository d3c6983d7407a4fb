/**
 * The per-frame decode strategy: a cheap QR-only pass first, then escalation passes in the
 * configured order, each only while the frame's time budget lasts and nothing was found yet.
 * Runs inside a worker (or in-process for one-shot file decoding); no logger, no clock singleton.
 */
import type { DecodedCode, Point } from "../core/types.js";
import type { DecodePassName } from "./options.js";
import { HeapImage, type LocatedGrid, type LumaView, type Quad, type ReadOut } from "./luma-read.js";
import { baseQrOptions, encodeReaderOptions, type EncodedReaderOptions } from "./reader-options.js";
import { boundsAround, cropScaleInto, downscale2Into, localStretchInto, type Rect } from "./preprocess.js";
import { autoGamma, gammaLut, lutInto, sampledMedian } from "./tone.js";
import { dropNested, MIN_SIDE_OF_LOCATED, sideOf } from "./plausible.js";
import { trackerDefaults } from "./track.js";
import { DEFAULT_PREFILTER, Prefilter } from "./prefilter.js";
import { eraseLongDarkRuns, planRepair } from "./quiet-zone.js";
import { drawnToFrame, drawSymbol, gridFromCorners, REGRID_DEFAULTS, regridCandidates, sampleModules, thresholdModules, type GridHypothesis } from "./regrid.js";
import { fitBend } from "./grid-fit.js";
import { addVotes, matchEvidence, moduleVotes, votedBits, type ModuleEvidence } from "./votes.js";

export interface StrategyInput {
  frame: LumaView;
  passes: readonly DecodePassName[];
  budgetMs: number;
  /** Where a code was recently seen on this camera (frame coordinates), for the crop pass. */
  hint?: Rect;
  /** Symbols located but not decoded in this camera's recent frames (track.ts), for the crop pass. */
  tracked?: readonly Rect[];
  /** Module evidence of symbols sampled but not read in this camera's recent frames (votes.ts). */
  evidence?: readonly ModuleEvidence[];
  /**
   * Asked between passes, never mid-pass (early-stop.ts): true when a more urgent frame waits for
   * a worker, so this frame stops escalating. Crops still run: they are small and where codes are.
   */
  shouldStop?: () => boolean;
}

export interface StrategyOutput {
  codes: DecodedCode[];
  passes: DecodePassName[];
  foundBy?: DecodePassName;
  decodeMs: number;
  /** Symbols located but not decoded by the passes that ran (frame coordinates), for tracking. */
  candidates?: Quad[];
  /** A pass that fit the budget was skipped because `shouldStop` said a more urgent frame waits. */
  stoppedEarly?: boolean;
  /** Module evidence of the symbols sampled and not read in this frame, for the camera's next frame (votes.ts). */
  evidence?: ModuleEvidence[];
}

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
/**
 * A re-drawn symbol (regrid.ts) is clean, axis-aligned and has its quiet zone: zxing's pure-symbol
 * reader skips finder detection; the plain reader is the fallback for a drawing it rejects.
 */
const PURE = encodeReaderOptions({ ...baseQrOptions, isPure: true });
const PLAIN = encodeReaderOptions(baseQrOptions);

/** Below this side length (px) a crop is upscaled 2x before decoding. */
const SMALL_CODE_PX = 160;
/** Margin around a failed symbol's corners: its located outline may be off by a few modules. */
const CANDIDATE_MARGIN = 0.35;
const MAX_REGIONS = 3;
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
/**
 * Symbols whose module evidence is carried to the next frame (votes.ts): zxing's located symbols
 * come first (after the pass that located them), then regrid's hypotheses best first, and a frame
 * rarely holds more than one unread symbol worth following.
 */
const MAX_EVIDENCE = 3;
const LARGE_REGION = 0.5;

/** A crop region; `minSide` (frame px): a code read there must be at least this large. */
interface Region extends Rect {
  minSide: number;
  /** Only the contrast-stretched crop (a large located symbol, see LARGE_REGION). */
  stretchOnly?: boolean;
}

interface PassContext {
  frame: LumaView;
  /** Regions worth a closer look: the camera's last code, then symbols located but not decoded. */
  regions: Region[];
  /** The gamma `tone` chose from the frame's median (1 = none needed, or tone did not run). */
  gamma: number;
  /** Module evidence from earlier frames (votes.ts). */
  evidence: readonly ModuleEvidence[];
  /** This frame's evidence, to carry to the camera's next frame. */
  carried: ModuleEvidence[];
}

/**
 * Exposure passes cost a full read each and, on the common frame without a code, find nothing.
 * They run only on evidence: a symbol was located somewhere (a located-but-undecoded candidate or
 * the camera's recent code), or the frame is badly exposed (tone had to bend it by at least this
 * much: gamma outside [1/EXPOSURE_GAMMA, EXPOSURE_GAMMA]).
 */
const EVIDENCE_PASSES: ReadonlySet<DecodePassName> = new Set(["darken", "lighten", "denoise"]);
const EXPOSURE_GAMMA = 1.25;

/**
 * The camera hint (the last codes' bounds + margin) gets no minimum: it may span several codes
 * of different sizes, and the phantom measured came from a located symbol's crop.
 */
const hintRegion = (r: Rect): Region => ({ ...r, minSide: 0 });
/**
 * A tracked symbol's crop (track.ts: the symbol plus a margin that widens while the track ages):
 * the same phantom rule, against the smallest symbol the crop can hold (its widest margin), so an
 * old track's wider crop never rejects the real code.
 */
const TRACK_WIDEST = 1 + 2 * (trackerDefaults.margin + (trackerDefaults.marginPer100Ms * trackerDefaults.ttlMs) / 100);
const trackedRegion = (r: Rect): Region => ({ ...r, minSide: (MIN_SIDE_OF_LOCATED * Math.min(r.w, r.h)) / TRACK_WIDEST });

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
function candidateRegions(qs: readonly Quad[], frame: LumaView, taken: Rect[], room: number): Region[] {
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
const cropScale = (r: Rect): number => (Math.max(r.w, r.h) < SMALL_CODE_PX * 2 ? 2 : 1);

/** Pixels the crop pass reads for these regions (each scaled; the first MAX_REGIONS). */
function cropPixels(regions: readonly Rect[]): number {
  let n = 0;
  for (const r of regions.slice(0, MAX_REGIONS)) n += r.w * r.h * cropScale(r) ** 2;
  return n;
}

type PassFn = (img: HeapImage, ctx: PassContext) => ReadOut | undefined;

const passes: Record<DecodePassName, PassFn> = {
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
      // Plain first (cheap, exact), then locally stretched for glare and low contrast.
      let out: ReadOut = { codes: [], candidates: [] };
      if (!rect.stretchOnly) {
        cropScaleInto(frame, rect, scale, img.reserve(w, h));
        out = img.read(CROP);
      }
      if (out.codes.length === 0) {
        const crop = new Uint8Array(w * h);
        cropScaleInto(frame, rect, scale, crop);
        localStretchInto({ width: w, height: h, stride: w, data: crop }, img.reserve(w, h));
        out = img.read(CROP);
      }
      // Every region is read: regions are distinct symbols (several codes in view). A code much
      // smaller than the symbol located there is a phantom made of part of it (plausible.ts).
      for (const c of mapOut(out, toFrame).codes) if (sideOf(c.corners) >= rect.minSide && !found.some((f) => f.text === c.text && overlaps(f.corners, c.corners))) found.push(c);
    }
    return { codes: found, candidates: [] };
  },
};

/** Whether two quads' bounding boxes intersect. */
function overlaps(a: readonly Point[], b: readonly Point[]): boolean {
  const box = (q: readonly Point[]) => [Math.min(...q.map((p) => p[0])), Math.min(...q.map((p) => p[1])), Math.max(...q.map((p) => p[0])), Math.max(...q.map((p) => p[1]))] as const;
  const [ax0, ay0, ax1, ay1] = box(a);
  const [bx0, by0, bx1, by1] = box(b);
  return ax0 < bx1 && bx0 < ax1 && ay0 < by1 && by0 < ay1;
}

/**
 * This frame's votes for the symbol on grid `h`, added to its earlier evidence when there is some,
 * then read from the sum (undefined without earlier evidence, or when the sum does not decode);
 * the sum is carried on to the camera's next frame (at most MAX_EVIDENCE symbols, each once).
 */
function voteAndRead(img: HeapImage, ctx: PassContext, h: GridHypothesis, vals: Float32Array): ReadOut | undefined {
  const earlier = matchEvidence(ctx.evidence, h);
  const sum = addVotes(earlier, h, moduleVotes(vals, h.dim));
  if (ctx.carried.length < MAX_EVIDENCE && !matchEvidence(ctx.carried, h)) ctx.carried.push(sum);
  return earlier ? readDrawn(img, drawSymbol(votedBits(sum), h.dim, REGRID_DEFAULTS.scale, REGRID_DEFAULTS.quiet)) : undefined;
}

/**
 * Symbols up to version 6 get the bend fit: its cost grows with the modules (a version 10 symbol
 * took about as long as a pass), and the bent codes met on the dev photos were versions 2-5.
 */
const BEND_MAX_DIM = 41;
/** Bend fits per frame at most: each costs a few milliseconds, and a frame rarely holds more than two sized, unread symbols. */
const MAX_BENDS = 2;

/**
 * Symbols a pass located and sized but could not read (zxing's grid: `ReadOut.grids`), after that
 * pass's crops. Each is fitted to a bend when the budget has room (grid-fit.ts: a label on a can,
 * a bowed card, where zxing's straight grid drifts a module off; a few milliseconds) and, when a
 * bend fits, drawn and read; then its samples are voted on (votes across frames), whatever the
 * budget: a few thousand pixel reads, and the evidence is for the next frame. A symbol already
 * handled in this frame (located again by the pyramid or a later pass) is not handled twice.
 */
function voteGrids(img: HeapImage, ctx: PassContext, grids: readonly LocatedGrid[], fits: BendBudget): ReadOut | undefined {
  for (const g of grids) {
    const flat = gridFromCorners(g.corners, g.dim);
    if (matchEvidence(ctx.carried, flat)) continue;
    const fit = g.dim <= BEND_MAX_DIM && fits.admit(g.dim);
    const ts = fits.now();
    const h = fit ? fitBend(ctx.frame, flat) : flat;
    const vals = sampleModules(ctx.frame, h);
    if (!vals) continue;
    const bent = h.bend ? readDrawn(img, drawSymbol(thresholdModules(vals, h.dim), h.dim, REGRID_DEFAULTS.scale, REGRID_DEFAULTS.quiet)) : undefined;
    if (fit) fits.record(g.dim, fits.now() - ts);
    const out = bent ?? voteAndRead(img, ctx, h, vals);
    if (out) return mapOut(out, drawnToFrame(h));
  }
  return undefined;
}

/** Whether a located symbol of `dim` modules gets the bend fit now, and what one cost (fit, draw and read). */
interface BendBudget {
  admit(dim: number): boolean;
  record(dim: number, ms: number): void;
  now(): number;
}

/**
 * A drawn symbol read as a pure one, the plain reader as fallback; undefined when neither reads.
 * Only the codes: what else the reader located is in the drawing, not in the frame.
 */
function readDrawn(img: HeapImage, image: { width: number; height: number; data: Uint8Array }): ReadOut | undefined {
  img.reserve(image.width, image.height).set(image.data);
  let out = img.read(PURE);
  if (out.codes.length === 0) out = img.read(PLAIN);
  return out.codes.length > 0 ? { codes: out.codes, candidates: [] } : undefined;
}

function readFull(img: HeapImage, frame: LumaView, opts: EncodedReaderOptions): ReadOut {
  img.load(frame);
  return img.read(opts);
}

function mapOut(out: ReadOut, f: (p: Point) => Point): ReadOut {
  return {
    codes: out.codes.map((c) => ({ ...c, corners: c.corners.map(f) as DecodedCode["corners"] })),
    candidates: out.candidates.map((q) => q.map(f) as Quad),
    ...(out.grids ? { grids: out.grids.map((g) => ({ corners: g.corners.map(f) as Quad, dim: g.dim })) } : {}),
  };
}

/**
 * Per-worker running cost estimate of each pass (ms per megapixel), to skip what cannot fit.
 * The estimate is the running mean plus three running mean deviations (about the 99th percentile
 * of a normal spread): a pass's cost varies with the frame (denoise on a noisy photo, crops of
 * large symbols), and the budget bounds the p99, not the mean; with the mean alone, the last pass
 * a budget admitted overran it by up to a tenth on the dev photos. Two guards against a trap: one
 * pathological frame (flat noise makes zxing chase thousands of finder candidates) could inflate
 * an estimate so far that the pass is skipped forever, and a skipped pass never gets a new sample.
 * So a sample moves the estimate by at most 2x, and each skip decays it (the mean slowly, the
 * spread faster), so the pass is retried after some frames.
 * `crop` is counted per pixel it crops, and `bend`, the grid fit of a located symbol (grid-fit.ts),
 * per module of the symbol: their cost follows what they work on, not the frame.
 */
export class PassCosts {
  private readonly perMp = new Map<DecodePassName | "bend", { mean: number; dev: number }>();
  estimate(pass: DecodePassName | "bend", pixels: number): number {
    const c = this.perMp.get(pass);
    return c === undefined ? 0 : ((c.mean + 3 * c.dev) * pixels) / 1e6;
  }
  record(pass: DecodePassName | "bend", pixels: number, ms: number): void {
    const v = (ms * 1e6) / Math.max(1, pixels);
    const old = this.perMp.get(pass);
    if (old === undefined) {
      this.perMp.set(pass, { mean: v, dev: 0 });
      return;
    }
    const x = Math.min(v, old.mean * 2);
    this.perMp.set(pass, { mean: old.mean * 0.8 + x * 0.2, dev: old.dev * 0.8 + Math.abs(x - old.mean) * 0.2 });
  }
  skipped(pass: DecodePassName | "bend"): void {
    const old = this.perMp.get(pass);
    if (old !== undefined) this.perMp.set(pass, { mean: old.mean * 0.95, dev: old.dev * 0.85 });
  }
}

/**
 * Runs the passes in order. Budget rule: a pass runs only if the time spent so far plus its
 * running cost estimate (and the frame's untimed time per step) fits `budgetMs` (the first pass
 * always runs). Exception, evidence: when the first pass located a symbol it could not decode,
 * and "crop" is configured, crop runs on it at once, whatever the budget says: a located code is
 * the frame worth spending on, and a crop is small. Crops of symbols later passes located, crops
 * of further symbols after a read, and bend fits (grid-fit.ts) run only within the budget.
 * The camera hint is used by "crop" at its place in the list. Between passes `shouldStop` may end
 * the escalation early (a more urgent frame waits: early-stop.ts); crops still run.
 */
export function runStrategy(img: HeapImage, input: StrategyInput, costs: PassCosts, now: () => number = () => performance.now()): StrategyOutput {
  const t0 = now();
  const ran: DecodePassName[] = [];
  const { frame } = input;
  const pixels = frame.width * frame.height;
  const hint = input.hint ? hintRegion(input.hint) : undefined;
  const tracked = (input.tracked ?? []).map(trackedRegion);
  const ctx: PassContext = { frame, regions: [...(hint ? [hint] : []), ...tracked].slice(0, MAX_REGIONS), gamma: 1, evidence: input.evidence ?? [], carried: [] };
  let located = hint !== undefined || tracked.length > 0;
  const candidates: Quad[] = [];
  const cropEnabled = input.passes.includes("crop");
  /** Votes across frames are part of regrid (its sampling and drawing): on when regrid is configured. */
  const votesEnabled = input.passes.includes("regrid");
  let regionsSeen = 0;
  /** Regions already cropped in this frame: a symbol located again is not cropped twice. */
  const cropped: Rect[] = [];
  // What no estimate covers (votes, mapping codes back, collecting garbage) is measured as it
  // goes: the frame's time outside the timed steps, per step, is added to the next step's estimate.
  let timed = 0, steps = 0;
  const record = (what: DecodePassName | "bend", work: number, ms: number): void => {
    costs.record(what, work, ms);
    timed += ms;
    steps++;
  };
  const fitsBudget = (estimate: number): boolean => {
    const elapsed = now() - t0;
    return elapsed + estimate + Math.max(0, elapsed - timed) / Math.max(1, steps) <= input.budgetMs;
  };
  // Fits run within the budget, at most MAX_BENDS per frame. A fit's cost grows with the symbol's modules.
  let fitted = 0;
  const fits: BendBudget = {
    admit: (dim) => {
      if (fitted < MAX_BENDS && fitsBudget(costs.estimate("bend", dim * dim))) {
        fitted++;
        return true;
      }
      costs.skipped("bend");
      return false;
    },
    record: (dim, ms) => record("bend", dim * dim, ms),
    now,
  };
  const run = (name: DecodePassName): StrategyOutput | undefined => {
    const ts = now();
    // A crop's cost follows the regions it reads, not the frame: counted per cropped pixel.
    const work = name === "crop" ? cropPixels(ctx.regions) : pixels;
    const out = passes[name](img, ctx);
    record(name, work, now() - ts);
    ran.push(name);
    if (!out) return undefined;
    if (out.codes.length > 0) {
      // Several codes in view (a card and a phone, a sheet of codes): symbols this pass located
      // but did not decode, away from the codes it read, still get their crop.
      const rest = cropEnabled && name !== "crop" && now() - t0 < input.budgetMs ? out.candidates.filter((q) => !out.codes.some((c) => overlaps(q, c.corners))) : [];
      const regions = candidateRegions(rest, frame, [...cropped], MAX_REGIONS);
      const extra = regions.length > 0 ? passes.crop(img, { frame, regions, gamma: ctx.gamma, evidence: [], carried: [] }) : undefined;
      if (regions.length > 0) ran.push("crop");
      const codes = [...out.codes, ...(extra?.codes ?? []).filter((c) => !out.codes.some((o) => o.text === c.text && overlaps(o.corners, c.corners)))];
      return { codes: dropNested(codes), passes: ran, foundBy: name, decodeMs: now() - t0 };
    }
    if (out.candidates.length > 0) located = true;
    candidates.push(...out.candidates);
    if (out.grids && votesEnabled) pendingGrids.push(...out.grids);
    ctx.regions.push(...candidateRegions(out.candidates, frame, [...cropped, ...ctx.regions], MAX_REGIONS - regionsSeen - ctx.regions.length));
    return undefined;
  };
  // Symbols a pass sized but could not read, handled after that pass's crops (the crops are the
  // cheaper read, and the first round of them is the evidence exception, not to be squeezed).
  const pendingGrids: LocatedGrid[] = [];
  const gridsPending = (): StrategyOutput | undefined => {
    if (pendingGrids.length === 0) return undefined;
    const summed = voteGrids(img, ctx, pendingGrids.splice(0), fits);
    return summed ? { codes: summed.codes, passes: ran, foundBy: "regrid", decodeMs: now() - t0 } : undefined;
  };
  let cropRounds = 0;
  const cropPending = (): StrategyOutput | undefined => {
    if (ctx.regions.length === 0) return undefined;
    // The first pass's crops are the evidence exception; crops of symbols located by later passes
    // must fit the budget like any pass, or the budget stops bounding the frame (p99).
    const exception = cropRounds++ === 0 && ran.length <= 1;
    if (!exception && !fitsBudget(costs.estimate("crop", cropPixels(ctx.regions)))) {
      ctx.regions = [];
      return undefined;
    }
    const found = run("crop");
    cropped.push(...ctx.regions);
    regionsSeen += ctx.regions.length;
    ctx.regions = [];
    return found;
  };
  let stopped = false;
  const stop = (o: StrategyOutput): StrategyOutput => (stopped ? { ...o, stoppedEarly: true } : o);
  for (const name of input.passes) {
    if (name === "crop") {
      const found = cropPending() ?? gridsPending();
      if (found) return stop(found);
      continue;
    }
    if (EVIDENCE_PASSES.has(name) && ran.length > 0 && !located && ctx.gamma < EXPOSURE_GAMMA && ctx.gamma > 1 / EXPOSURE_GAMMA) continue;
    // Quiet-zone repair is for finders zxing could not see: once it located a symbol, its finders
    // were found and the crops are the better spend.
    if (name === "quietzone" && located) continue;
    if (ran.length > 0 && !fitsBudget(costs.estimate(name, pixels))) {
      costs.skipped(name);
      continue;
    }
    if (ran.length > 0 && (stopped || input.shouldStop?.() === true)) {
      stopped = true;
      continue;
    }
    const found = run(name) ?? (cropEnabled && !ctx.regions.every((r) => r === hint) ? cropPending() : undefined) ?? gridsPending();
    if (found) return found;
  }
  const last = gridsPending();
  if (last) return stop(last);
  return stop({ codes: [], passes: ran, decodeMs: now() - t0, ...(candidates.length > 0 ? { candidates } : {}), ...(ctx.carried.length > 0 ? { evidence: ctx.carried } : {}) });
}
