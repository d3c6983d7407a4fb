/**
 * Evidence across frames for a symbol located but not read (pure): one zxing located and sized
 * (its grid from the corners: grid.ts `gridFromCorners`), or one regrid drew from its own finders.
 *
 * A camera sees a traveller's phone for 15-30 frames, and what spoils a frame often moves: the
 * glare of a lamp slides over a screen as the hand tilts it, a shadow or a finger crosses part of
 * a card. No single frame may hold enough correct modules for Reed-Solomon, while every module is
 * clear in some frame. regrid's machinery (regrid.ts) samples each module of such a symbol; this
 * keeps, per module, a signed confidence (dark > 0 > light, 0 where the frame could not tell: a
 * washed-out area has no contrast left), sums it over the camera's recent frames of the same
 * symbol, and the strategy draws and reads the sum. The finders fix the grid's orientation, so
 * module (u, v) is the same printed module in every frame whatever the hand does.
 *
 * What this cannot fix: damage that is the same in every frame (ink over the data, a crease).
 * Its sum is as wrong as each frame. The error correction still decides what is read: a sum that
 * does not decode is no code.
 */
import type { Point } from "../core/types.js";
import type { GridHypothesis } from "./grid.js";
import { localMeans } from "./module-sample.js";

export interface ModuleEvidence {
  /** The symbol's size in modules and its finder centres (frame px) where last seen. */
  dim: number;
  tl: Point;
  tr: Point;
  bl: Point;
  /** Per module, row-major: the decayed sum of the frames' signed confidences (> 0 dark). */
  votes: Float32Array;
  /** Frames summed. */
  frames: number;
}

export interface VoteOptions {
  /** Weight of the earlier frames' sum at each new frame: recent frames count most. */
  decay: number;
  /** Finder centres may have moved by this fraction of the symbol's finder distance. */
  maxShift: number;
  /** The symbol's axes may have turned by at most this much (cosine) between frames. */
  minCos: number;
}

/** A module's mean gray at or above this is clipped highlight: no information left. */
const CLIPPED = 250;

export const VOTE_DEFAULTS: VoteOptions = { decay: 0.85, maxShift: 0.3, minCos: 0.94 };

/**
 * Each module's signed confidence from one frame's samples: how far it is from its
 * neighbourhood's mean (the threshold regrid uses), in units of half the symbol's contrast (the
 * gap between the mean dark and the mean light module), clipped to [-1, 1]. A module in a
 * flat area sits at its neighbours' mean and gets about 0: it abstains. So does a clipped one
 * (the sensor saturated: glare), whatever its neighbours: at a glare's edge the neighbourhood's
 * mean is pulled up and a clipped dark module would otherwise vote light.
 */
export function moduleVotes(vals: Float32Array, dim: number): Float32Array {
  const means = localMeans(vals, dim);
  let dark = 0, nd = 0, light = 0, nl = 0;
  for (let i = 0; i < vals.length; i++) {
    if (vals[i]! < means[i]!) {
      dark += vals[i]!;
      nd++;
    } else {
      light += vals[i]!;
      nl++;
    }
  }
  const out = new Float32Array(vals.length);
  const half = nd > 0 && nl > 0 ? (light / nl - dark / nd) / 2 : 0;
  if (!(half > 1)) return out;
  for (let i = 0; i < vals.length; i++) out[i] = vals[i]! >= CLIPPED ? 0 : Math.max(-1, Math.min(1, (means[i]! - vals[i]!) / half));
  return out;
}

const sub = (a: Point, b: Point): Point => [a[0] - b[0], a[1] - b[1]];
const len = (a: Point): number => Math.hypot(a[0], a[1]);
const cosOf = (a: Point, b: Point): number => (a[0] * b[0] + a[1] * b[1]) / (len(a) * len(b) || 1);

/**
 * The earlier evidence that is this hypothesis's symbol: the same size in modules, finder centres
 * close to where they were, and both axes turned by little (a wrong orientation would pair module
 * (u, v) with another one). The closest, or undefined.
 */
export function matchEvidence(prior: readonly ModuleEvidence[], h: GridHypothesis, o: VoteOptions = VOTE_DEFAULTS): ModuleEvidence | undefined {
  const side = len(sub(h.tr, h.tl));
  let best: ModuleEvidence | undefined, bestD = Infinity;
  for (const e of prior) {
    if (e.dim !== h.dim || e.votes.length !== h.dim * h.dim) continue;
    const d = Math.max(len(sub(e.tl, h.tl)), len(sub(e.tr, h.tr)), len(sub(e.bl, h.bl)));
    if (!(d <= o.maxShift * side)) continue;
    if (cosOf(sub(e.tr, e.tl), sub(h.tr, h.tl)) < o.minCos || cosOf(sub(e.bl, e.tl), sub(h.bl, h.tl)) < o.minCos) continue;
    if (d < bestD) {
      best = e;
      bestD = d;
    }
  }
  return best;
}

/** This frame's votes added to the earlier sum (decayed), as the evidence carried on. */
export function addVotes(prior: ModuleEvidence | undefined, h: GridHypothesis, votes: Float32Array, o: VoteOptions = VOTE_DEFAULTS): ModuleEvidence {
  const sum = new Float32Array(votes);
  if (prior) for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + o.decay * prior.votes[i]!;
  return { dim: h.dim, tl: h.tl, tr: h.tr, bl: h.bl, votes: sum, frames: (prior?.frames ?? 0) + 1 };
}

/** Dark (1) / light (0) per module from summed votes. */
export function votedBits(e: ModuleEvidence): Uint8Array {
  const bits = new Uint8Array(e.votes.length);
  for (let i = 0; i < bits.length; i++) bits[i] = e.votes[i]! > 0 ? 1 : 0;
  return bits;
}
