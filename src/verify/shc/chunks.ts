/**
 * Reassembles chunked SMART Health Cards (`shc:/i/n/digits`) seen in successive frames. Chunks of
 * one card are grouped by their total count; a chunk index seen twice with different digits means
 * two different cards are in play, so that group restarts with the newer chunk. Groups expire
 * after `maxAgeMs` and at most `maxPending` groups are kept (oldest dropped), so memory is bounded.
 */
import { LIMITS } from "../limits.js";
import { VerifyFailure } from "../reasons.js";
import { splitShc } from "./numeric.js";

export type ChunkResult = { status: "complete"; text: string } | { status: "pending"; have: number; total: number } | { status: "error"; reason: string };

interface Group {
  total: number;
  parts: Array<string | undefined>;
  have: number;
  lastMs: number;
}

export class ShcChunkAssembler {
  private readonly maxAgeMs: number;
  private readonly maxPending: number;
  private readonly groups = new Map<number, Group>();

  constructor(opts: { maxAgeMs?: number; maxPending?: number } = {}) {
    this.maxAgeMs = opts.maxAgeMs ?? 30_000;
    this.maxPending = opts.maxPending ?? 4;
  }

  add(text: string, nowMs: number): ChunkResult {
    this.expire(nowMs);
    let parts;
    try {
      parts = splitShc(text);
    } catch (e) {
      return { status: "error", reason: e instanceof VerifyFailure ? e.reason : "NUMERIC_INVALID" };
    }
    if (parts.kind === "whole") return { status: "complete", text };
    const { index, total, digits } = parts;
    if (total > LIMITS.maxShcChunks) return { status: "error", reason: "SIZE_LIMIT" };
    if (digits.length === 0 || digits.length % 2 !== 0) return { status: "error", reason: "NUMERIC_INVALID" };

    let g = this.groups.get(total);
    const prev = g?.parts[index - 1];
    if (!g || (prev !== undefined && prev !== digits)) {
      g = { total, parts: new Array<string | undefined>(total).fill(undefined), have: 0, lastMs: nowMs };
      this.groups.delete(total);
      this.groups.set(total, g);
      while (this.groups.size > this.maxPending) this.groups.delete(this.groups.keys().next().value!);
    }
    if (g.parts[index - 1] === undefined) {
      g.parts[index - 1] = digits;
      g.have++;
    }
    g.lastMs = nowMs;
    if (g.have < total) return { status: "pending", have: g.have, total };
    this.groups.delete(total);
    const joined = g.parts.join("");
    if (joined.length + 5 > LIMITS.maxShcAssembledChars) return { status: "error", reason: "SIZE_LIMIT" };
    return { status: "complete", text: "shc:/" + joined };
  }

  /** Number of partially assembled cards (for metrics and tests). */
  get pending(): number {
    return this.groups.size;
  }

  private expire(nowMs: number): void {
    for (const [k, g] of this.groups) if (nowMs - g.lastMs > this.maxAgeMs) this.groups.delete(k);
  }
}
