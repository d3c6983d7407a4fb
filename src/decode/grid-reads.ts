/**
 * Reads of a symbol from its module grid rather than from the frame's pixels: this frame's samples
 * voted together with the evidence of earlier frames (votes.ts), and located symbols whose grid is
 * fitted to a bend first (grid-fit.ts). Both draw the symbol clean and let zxing read it, so
 * Reed-Solomon still decides.
 */
import type { HeapImage, LocatedGrid, LumaView, ReadOut } from "./luma-read.js";
import { gridFromCorners, type GridHypothesis } from "./grid.js";
import { sampleModules, thresholdModules } from "./module-sample.js";
import { DRAW_DEFAULTS, drawnToFrame, drawSymbol } from "./symbol-draw.js";
import { fitBend } from "./grid-fit.js";
import { addVotes, matchEvidence, moduleVotes, votedBits, type ModuleEvidence } from "./votes.js";
import { mapOut, readDrawn } from "./reads.js";

/** What the grid reads need of a frame's pass context: the frame, earlier evidence, and this frame's to carry on. */
export interface VoteContext {
  frame: LumaView;
  /** Module evidence from earlier frames (votes.ts). */
  evidence: readonly ModuleEvidence[];
  /** This frame's evidence, to carry to the camera's next frame. */
  carried: ModuleEvidence[];
}

/**
 * Symbols whose module evidence is carried to the next frame (votes.ts): zxing's located symbols
 * come first (after the pass that located them), then regrid's hypotheses best first, and a frame
 * rarely holds more than one unread symbol worth following.
 */
const MAX_EVIDENCE = 3;

/**
 * This frame's votes for the symbol on grid `h`, added to its earlier evidence when there is some,
 * then read from the sum (undefined without earlier evidence, or when the sum does not decode);
 * the sum is carried on to the camera's next frame (at most MAX_EVIDENCE symbols, each once).
 */
export function voteAndRead(img: HeapImage, ctx: VoteContext, h: GridHypothesis, vals: Float32Array): ReadOut | undefined {
  const earlier = matchEvidence(ctx.evidence, h);
  const sum = addVotes(earlier, h, moduleVotes(vals, h.dim));
  if (ctx.carried.length < MAX_EVIDENCE && !matchEvidence(ctx.carried, h)) ctx.carried.push(sum);
  return earlier ? readDrawn(img, drawSymbol(votedBits(sum), h.dim, DRAW_DEFAULTS.scale, DRAW_DEFAULTS.quiet)) : undefined;
}

/**
 * Symbols up to version 6 get the bend fit: its cost grows with the modules (a version 10 symbol
 * took about as long as a pass), and the bent codes met on the dev photos were versions 2-5.
 */
const BEND_MAX_DIM = 41;
/** Bend fits per frame at most: each costs a few milliseconds, and a frame rarely holds more than two sized, unread symbols. */
export const MAX_BENDS = 2;

/**
 * Symbols a pass located and sized but could not read (zxing's grid: `ReadOut.grids`), after that
 * pass's crops. Each is fitted to a bend when the budget has room (grid-fit.ts: a label on a can,
 * a bowed card, where zxing's straight grid drifts a module off; a few milliseconds) and, when a
 * bend fits, drawn and read; then its samples are voted on (votes across frames), whatever the
 * budget: a few thousand pixel reads, and the evidence is for the next frame. A symbol already
 * handled in this frame (located again by the pyramid or a later pass) is not handled twice.
 */
export function voteGrids(img: HeapImage, ctx: VoteContext, grids: readonly LocatedGrid[], fits: BendBudget): ReadOut | undefined {
  for (const g of grids) {
    const flat = gridFromCorners(g.corners, g.dim);
    if (matchEvidence(ctx.carried, flat)) continue;
    const fit = g.dim <= BEND_MAX_DIM && fits.admit(g.dim);
    const ts = fits.now();
    const h = fit ? fitBend(ctx.frame, flat) : flat;
    const vals = sampleModules(ctx.frame, h);
    if (!vals) continue;
    const bent = h.bend ? readDrawn(img, drawSymbol(thresholdModules(vals, h.dim), h.dim, DRAW_DEFAULTS.scale, DRAW_DEFAULTS.quiet)) : undefined;
    if (fit) fits.record(g.dim, fits.now() - ts);
    const out = bent ?? voteAndRead(img, ctx, h, vals);
    if (out) return mapOut(out, drawnToFrame(h));
  }
  return undefined;
}

/** Whether a located symbol of `dim` modules gets the bend fit now, and what one cost (fit, draw and read). */
export interface BendBudget {
  admit(dim: number): boolean;
  record(dim: number, ms: number): void;
  now(): number;
}
