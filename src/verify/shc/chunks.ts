/**
 * Reassembles chunked SMART Health Cards (`shc:/i/n/digits`) seen in successive frames. A chunk
 * carries no card id, so two cards of the same size in view (two travellers, or a leftover half
 * card) cannot be told apart by their headers: every distinct chunk is kept as a candidate for its
 * position, each with the time it was last seen, and a card is the newest candidates that complete
 * it. A combination the caller found spliced (its signature fails) is rejected and not offered
 * again while its chunks stay in view; the others are then tried. Chunks not seen for `maxAgeMs`
 * are dropped (times are the caller's, monotonic for a lane); at most `maxPending` card sizes and
 * a few candidates per position are kept, so memory and work are bounded.
 */
import { LIMITS } from "../limits.js";
import { VerifyFailure, type ReasonCode } from "../reasons.js";
import { splitShc, type ShcParts } from "./numeric.js";

/** An assembled card: its text, the chunk texts it was made of, and whether other chunks of a card of its size were in view (then it may be a splice). */
export interface AssembledShc {
  text: string;
  parts: string[];
  ambiguous: boolean;
}

export type ChunkResult = ({ status: "complete" } & AssembledShc) | { status: "pending"; have: number; total: number } | { status: "error"; reason: string };

interface Part {
  text: string;
  digits: string;
  lastMs: number;
  /** Order of last sighting, for ties within one frame: the later read is the newer. */
  order: number;
  /** In a card handed out (and not rejected): not a candidate for another, but still counts for ambiguity. */
  used: boolean;
}

interface Group {
  total: number;
  /** Per position (index - 1): candidates by digits. */
  slots: Array<Map<string, Part>>;
  /** Rejected combinations (joined digits) and when they were last completable. */
  rejected: Map<string, number>;
}

/** Candidates kept per position: a third card of one size in view at once is not expected. */
const MAX_CANDIDATES = 4;
/** Combinations looked at per completion: bounds the work for many candidates. */
const MAX_TRIES = 64;

export class ShcChunkAssembler {
  private readonly maxAgeMs: number;
  private readonly maxPending: number;
  private readonly groups = new Map<number, Group>();
  private order = 0;

  constructor(opts: { maxAgeMs?: number; maxPending?: number } = {}) {
    this.maxAgeMs = opts.maxAgeMs ?? 30_000;
    this.maxPending = opts.maxPending ?? 4;
  }

  /** One chunk (or a whole card): complete, pending or an error. */
  add(text: string, nowMs: number): ChunkResult {
    this.expire(nowMs);
    const put = this.put(text, nowMs);
    if (put.kind === "whole") return { status: "complete", text, parts: [text], ambiguous: false };
    if (put.kind === "error") return { status: "error", reason: put.reason };
    const card = this.complete(put.group, nowMs);
    if (card) return { status: "complete", ...card };
    return { status: "pending", have: put.group.slots.filter((s) => [...s.values()].some((p) => !p.used)).length, total: put.group.total };
  }

  /**
   * The chunks read in one frame (at `nowMs`), all of them first: the cards they complete, each
   * from the newest chunks. Whole cards and unusable chunks are ignored here.
   */
  addFrame(texts: readonly string[], nowMs: number): AssembledShc[] {
    this.expire(nowMs);
    const touched = new Set<Group>();
    for (const t of texts) {
      const put = this.put(t, nowMs);
      if (put.kind === "chunk") touched.add(put.group);
    }
    const out: AssembledShc[] = [];
    for (const g of touched) for (let card = this.complete(g, nowMs); card; card = this.complete(g, nowMs)) out.push(card);
    return out;
  }

  /** The card is not one card but a splice of several: its chunks are candidates again, and this combination is not offered again while they stay in view. */
  reject(card: AssembledShc): void {
    const parts = card.parts.map((t) => safeSplit(t));
    const first = parts[0];
    if (!first || first.kind !== "chunk") return;
    const g = this.groups.get(first.total);
    if (!g) return;
    let last = -Infinity;
    for (const p of parts) {
      if (p?.kind !== "chunk" || p.total !== g.total) return;
      const part = g.slots[p.index - 1]!.get(p.digits);
      if (part) {
        part.used = false;
        last = Math.max(last, part.lastMs);
      }
    }
    g.rejected.set(card.text.slice(5), last);
  }

  /** Number of card sizes with chunks not (yet) in a card (for metrics and tests). */
  get pending(): number {
    let n = 0;
    for (const g of this.groups.values()) if (g.slots.some((s) => [...s.values()].some((p) => !p.used))) n++;
    return n;
  }

  private put(text: string, nowMs: number): { kind: "whole" } | { kind: "error"; reason: string } | { kind: "chunk"; group: Group } {
    const parts = usableChunk(text);
    if (parts.kind !== "chunk") return parts;
    const { index, total, digits } = parts;
    let g = this.groups.get(total);
    if (g) this.groups.delete(total);
    g ??= { total, slots: Array.from({ length: total }, () => new Map<string, Part>()), rejected: new Map() };
    // Most recently used last, so the bound drops the size not seen for longest.
    this.groups.set(total, g);
    while (this.groups.size > this.maxPending) this.groups.delete(this.groups.keys().next().value!);
    const slot = g.slots[index - 1]!;
    const part = slot.get(digits);
    if (part) {
      part.lastMs = Math.max(part.lastMs, nowMs);
      part.order = ++this.order;
    } else {
      slot.set(digits, { text, digits, lastMs: nowMs, order: ++this.order, used: false });
      if (slot.size > MAX_CANDIDATES) slot.delete(oldest(slot).digits);
    }
    return { kind: "chunk", group: g };
  }

  /** The newest combination of candidates that is not rejected, or none. */
  private complete(g: Group, nowMs: number): AssembledShc | undefined {
    const cands = g.slots.map((s) => [...s.values()].filter((p) => !p.used).sort(newestFirst));
    if (cands.some((c) => c.length === 0)) return undefined;
    const pick: Part[] = [];
    let tries = MAX_TRIES;
    const search = (i: number): boolean => {
      if (i === cands.length) {
        tries--;
        const joined = pick.map((p) => p.digits).join("");
        if (g.rejected.has(joined)) {
          // Still completable: its chunks are in view, so it stays rejected.
          g.rejected.set(joined, nowMs);
          return false;
        }
        if (joined.length + 5 > LIMITS.maxShcAssembledChars) {
          g.rejected.set(joined, nowMs);
          return false;
        }
        return true;
      }
      for (const p of cands[i]!) {
        pick.push(p);
        if (search(i + 1)) return true;
        pick.pop();
        if (tries <= 0) return false;
      }
      return false;
    };
    if (!search(0)) return undefined;
    for (const p of pick) p.used = true;
    return { text: "shc:/" + pick.map((p) => p.digits).join(""), parts: pick.map((p) => p.text), ambiguous: g.slots.some((s) => s.size > 1) };
  }

  private expire(nowMs: number): void {
    for (const [k, g] of this.groups) {
      for (const slot of g.slots) for (const [d, p] of slot) if (nowMs - p.lastMs > this.maxAgeMs) slot.delete(d);
      for (const [j, at] of g.rejected) if (nowMs - at > this.maxAgeMs) g.rejected.delete(j);
      if (g.slots.every((s) => s.size === 0)) this.groups.delete(k);
    }
  }
}

/**
 * Why an `shc:/i/n/...` text can never be part of a card (a reason code), or undefined when it can
 * (or is no chunk). The lane verifies such a text on its own, so the traveller gets a FLAG with
 * this reason instead of no verdict at all.
 */
export function shcChunkProblem(text: string): ReasonCode | undefined {
  const parts = usableChunk(text);
  return parts.kind === "error" ? parts.reason : undefined;
}

function usableChunk(text: string): Extract<ShcParts, { kind: "chunk" }> | { kind: "whole" } | { kind: "error"; reason: ReasonCode } {
  const parts = safeSplit(text);
  if (parts.kind !== "chunk") return parts.kind === "whole" ? { kind: "whole" } : parts;
  if (parts.total > LIMITS.maxShcChunks) return { kind: "error", reason: "SIZE_LIMIT" };
  if (parts.digits.length === 0 || parts.digits.length % 2 !== 0) return { kind: "error", reason: "NUMERIC_INVALID" };
  return parts;
}

function safeSplit(text: string): ShcParts | { kind: "error"; reason: ReasonCode } {
  try {
    return splitShc(text);
  } catch (e) {
    return { kind: "error", reason: e instanceof VerifyFailure ? e.reason : "NUMERIC_INVALID" };
  }
}

function newestFirst(a: Part, b: Part): number {
  return b.lastMs - a.lastMs || b.order - a.order;
}

function oldest(slot: Map<string, Part>): Part {
  return [...slot.values()].sort(newestFirst).at(-1)!;
}
