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
 * functions over typed arrays; the caller reads the drawn image (passes.ts, pass `regrid`).
 *
 * Its parts: `grid-hypotheses.ts` (finder hits -> grids), `grid.ts` (module -> frame),
 * `module-sample.ts` (the samples and their threshold), `symbol-draw.ts` (the clean drawing).
 */
import type { Point } from "../core/types.js";
import type { LumaView } from "./luma-read.js";
import type { FinderHit } from "./prefilter.js";
import type { GridHypothesis } from "./grid.js";
import { gridHypotheses, HYPOTHESIS_DEFAULTS, type HypothesisOptions } from "./grid-hypotheses.js";
import { findAlignment, finderCores, pixelAt, sampleModules, thresholdModules, timingAgreement } from "./module-sample.js";
import { DRAW_DEFAULTS, drawnToFrame, drawSymbol, structureScore, type DrawOptions } from "./symbol-draw.js";
import { withAlignment } from "./grid.js";

export interface RegridOptions extends HypothesisOptions, DrawOptions {
  /** Hypotheses looked at per frame (finderCores: a hundred samples each). */
  maxLooks: number;
  /** Hypotheses sampled in full, drawn and read at most per frame (each one small zxing read). */
  maxDrawn: number;
  /** Share of the three finder cores' 27 modules that must sample dark. */
  minCore: number;
  /** Share of the timing patterns' modules that must alternate as the standard draws them. */
  minTiming: number;
}

export const REGRID_DEFAULTS: RegridOptions = { ...HYPOTHESIS_DEFAULTS, maxLooks: 64, maxDrawn: 6, minCore: 0.8, minTiming: 0.7, ...DRAW_DEFAULTS };

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
