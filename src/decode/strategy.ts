/**
 * The per-frame decode strategy: a cheap QR-only pass first, then escalation passes in the
 * configured order, each only while the frame's time budget lasts and nothing was found yet.
 * Runs inside a worker (or in-process for one-shot file decoding); no logger, no clock singleton.
 */
import type { DecodedCode } from "../core/types.js";
import type { DecodePassName } from "./options.js";
import type { HeapImage, LocatedGrid, LumaView, Quad } from "./luma-read.js";
import type { Rect } from "./preprocess.js";
import { dropNested } from "./plausible.js";
import type { ModuleEvidence } from "./votes.js";
import type { PassCosts } from "./pass-costs.js";
import { candidateRegions, cropPixels, hintRegion, MAX_REGIONS, overlaps, trackedRegion } from "./regions.js";
import { passes, type PassContext } from "./passes.js";
import { MAX_BENDS, voteGrids, type BendBudget } from "./grid-reads.js";

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

/**
 * Exposure passes cost a full read each and, on the common frame without a code, find nothing.
 * They run only on evidence: a symbol was located somewhere (a located-but-undecoded candidate or
 * the camera's recent code), or the frame is badly exposed (tone had to bend it by at least this
 * much: gamma outside [1/EXPOSURE_GAMMA, EXPOSURE_GAMMA]).
 */
const EVIDENCE_PASSES: ReadonlySet<DecodePassName> = new Set(["darken", "lighten", "denoise"]);
const EXPOSURE_GAMMA = 1.25;

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
