/**
 * Grid hypotheses from finder centres (regrid.ts, ADR 0007): which three finder hits make a
 * symbol's L, or where a pair's third finder may be, and the symbol sizes their distance allows.
 * Pure geometry; lazy, most likely first.
 */
import type { Point } from "../core/types.js";
import type { FinderHit } from "./prefilter.js";
import type { GridHypothesis } from "./grid.js";

export interface HypothesisOptions {
  /** Finder module sizes of one symbol agree within this ratio (perspective, blur, and the scan's 2x view: its estimate moves in steps of 2/7 px). */
  moduleRatio: number;
  /** The two legs of the finders' L agree in length within this ratio. */
  legRatio: number;
  /** |cos| of the L's corner angle at most this (90 degrees is 0; 0.3 is about 73-107 degrees). */
  maxCos: number;
}

export const HYPOTHESIS_DEFAULTS: HypothesisOptions = { moduleRatio: 1.6, legRatio: 1.3, maxCos: 0.3 };

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
export function* gridHypotheses(hits: readonly FinderHit[], o: HypothesisOptions = HYPOTHESIS_DEFAULTS): Generator<GridHypothesis> {
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
