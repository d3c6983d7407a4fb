/**
 * Scoring rule of the BoofCV QR benchmark as re-annotated by the barcode-reading-benchmark dataset
 * (see ../shared/testdata/boofcv-dev/README.md). Pure: no file access, so it is unit tested on
 * tiny synthetic cases and checked against the published engines' table by the bench.
 *
 * A ground-truth code counts as read when a returned code's axis-aligned bounding rectangle
 * overlaps the truth's by more than 20% of the smaller rectangle's area. A misread is a returned
 * code overlapping truth codes whose texts at least two engines (other than Commercial-SDK-B)
 * agree on, with a text that is none of them.
 */
import { cornerBox } from "../../src/decode/preprocess.js";

export type Corners = ReadonlyArray<readonly [number, number]>;

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface Returned {
  text: string;
  corners: Corners;
}

export interface EngineResult {
  engine: string;
  codes: Returned[];
}

/** Engines whose agreement defines a code's text; Commercial-SDK-B is left out by the rule. */
export const CONSENSUS_EXCLUDED = "Commercial-SDK-B";
export const OVERLAP_MIN = 0.2;

export function boxOf(corners: Corners): Box {
  return cornerBox(corners);
}

const area = (b: Box) => Math.max(0, b.x1 - b.x0) * Math.max(0, b.y1 - b.y0);

/** Intersection area over the smaller box's area (0 when either box is degenerate). */
export function overlapOfSmaller(a: Box, b: Box): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0;
  const small = Math.min(area(a), area(b));
  return small > 0 ? (w * h) / small : 0;
}

export const matches = (truth: Box, got: Box): boolean => overlapOfSmaller(truth, got) > OVERLAP_MIN;

/** Parses a `imageNNN.truth.json` array (corner coordinates are decimal strings). */
export function parseTruth(json: unknown): Box[] {
  if (!Array.isArray(json)) throw new Error("truth: expected an array");
  return json.map((o: Record<string, unknown>, i) => {
    const c: [number, number][] = [];
    for (let k = 1; k <= 4; k++) {
      const x = Number(o[`x${k}`]), y = Number(o[`y${k}`]);
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`truth[${i}]: corner ${k} is not a number`);
      c.push([x, y]);
    }
    return boxOf(c);
  });
}

/** Parses an `imageNNN.ENGINE.json` file: `results[].barcodeText` and corners x1..y4 (numbers). */
export function parseEngine(engine: string, json: unknown): EngineResult {
  const results = (json as { results?: unknown }).results;
  const codes: Returned[] = [];
  if (Array.isArray(results))
    for (const r of results as Record<string, unknown>[]) {
      const c: [number, number][] = [];
      for (let k = 1; k <= 4; k++) c.push([Number(r[`x${k}`]), Number(r[`y${k}`])]);
      if (c.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y))) codes.push({ text: String(r.barcodeText ?? ""), corners: c });
    }
  return { engine, codes };
}

/** Per truth code: the text at least two consensus engines returned for it, when there is one. */
export function consensusTexts(truth: readonly Box[], engines: readonly EngineResult[]): (string | undefined)[] {
  return truth.map((t) => {
    const votes = new Map<string, number>();
    for (const e of engines) {
      if (e.engine === CONSENSUS_EXCLUDED) continue;
      // One vote per engine per text, however many of its boxes overlap.
      const texts = new Set(e.codes.filter((c) => matches(t, boxOf(c.corners))).map((c) => c.text));
      for (const s of texts) votes.set(s, (votes.get(s) ?? 0) + 1);
    }
    let best: string | undefined;
    let n = 1;
    for (const [s, v] of votes) if (v > n) [best, n] = [s, v];
    return best;
  });
}

export interface PhotoScore {
  codes: number;
  /** Truth codes overlapped by a returned code. */
  read: number;
  /** Per truth code: read or not (for per-pass union/marginal analysis). */
  readMask: boolean[];
  /** Returned codes whose text differs from the consensus text of a truth code they overlap. */
  misreads: number;
  /** Returned codes overlapping no truth code (reported, not scored: annotations can miss codes). */
  unmatched: number;
}

/**
 * Scores one photo. `scale` maps returned corners back to original pixels (original / decoded
 * width) when the photo was resized before decoding.
 */
export function scorePhoto(truth: readonly Box[], consensus: readonly (string | undefined)[], got: readonly Returned[], scale = 1): PhotoScore {
  const boxes = got.map((g) => {
    const b = boxOf(g.corners);
    return { text: g.text, box: { x0: b.x0 * scale, y0: b.y0 * scale, x1: b.x1 * scale, y1: b.y1 * scale } };
  });
  const readMask = truth.map((t) => boxes.some((g) => matches(t, g.box)));
  let misreads = 0;
  let unmatched = 0;
  for (const g of boxes) {
    const hit = truth.map((t, i) => (matches(t, g.box) ? i : -1)).filter((i) => i >= 0);
    if (hit.length === 0) unmatched++;
    // Judged only where every overlapped truth code has an agreed text (else the rule cannot say).
    else if (hit.every((i) => consensus[i] !== undefined) && !hit.some((i) => consensus[i] === g.text)) misreads++;
  }
  return { codes: truth.length, read: readMask.filter(Boolean).length, readMask, misreads, unmatched };
}

/** Running totals of one contender over a set of photos (a category, or pooled). */
export interface Tally {
  photos: number;
  codes: number;
  read: number;
  misreads: number;
  unmatched: number;
}

export const emptyTally = (): Tally => ({ photos: 0, codes: 0, read: 0, misreads: 0, unmatched: 0 });

export function addScore(t: Tally, s: PhotoScore): void {
  t.photos++;
  t.codes += s.codes;
  t.read += s.read;
  t.misreads += s.misreads;
  t.unmatched += s.unmatched;
}

/** Read rate in percent, one decimal (NaN for an empty tally). */
export const ratePct = (t: Tally): number => (t.codes === 0 ? NaN : Math.round((1000 * t.read) / t.codes) / 10);
