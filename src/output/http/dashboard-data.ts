import type { VerdictEvent } from "../../core/types.js";
import { maskUrl, secretMasker } from "../../core/mask.js";
import type { TrustStatus } from "../../verify/trust/types.js";
import { displayVerdict } from "./lane-view.js";

/** A verdict as the dashboard lists it: codes and timings only; no credential or payload hash. */
export interface RecentVerdict {
  id: string;
  lane: string;
  camera: string;
  seq: number;
  verdict: "PASS" | "FLAG";
  kind: VerdictEvent["verdict"];
  reason: string;
  format: string;
  ruleId?: string;
  at: number;
  frameToVerdictMs: number;
  firstSeenToVerdictMs: number;
}

export function recentVerdict(ev: VerdictEvent): RecentVerdict {
  return {
    id: ev.id,
    lane: ev.lane,
    camera: ev.cameraId,
    seq: ev.seq,
    verdict: displayVerdict(ev.verdict),
    kind: ev.verdict,
    reason: ev.reason,
    format: ev.format,
    ...(ev.ruleId ? { ruleId: ev.ruleId } : {}),
    at: ev.at,
    frameToVerdictMs: Math.round(ev.frameToVerdictMs),
    firstSeenToVerdictMs: Math.round(ev.firstSeenToVerdictMs),
  };
}

/** Newest first, bounded; per-lane PASS/FLAG counts since start. */
export class RecentVerdicts {
  private items: RecentVerdict[] = [];
  private readonly counts = new Map<string, { pass: number; flag: number }>();
  constructor(private readonly max = 50) {}

  add(ev: VerdictEvent): void {
    this.items.unshift(recentVerdict(ev));
    if (this.items.length > this.max) this.items.length = this.max;
    const c = this.counts.get(ev.lane) ?? { pass: 0, flag: 0 };
    if (displayVerdict(ev.verdict) === "PASS") c.pass++;
    else c.flag++;
    this.counts.set(ev.lane, c);
  }

  list(): RecentVerdict[] {
    return [...this.items];
  }

  countsFor(lane: string): { pass: number; flag: number } {
    return { ...(this.counts.get(lane) ?? { pass: 0, flag: 0 }) };
  }
}

const clean = (s: string) => secretMasker.mask(maskUrl(s));

/** Trust status for the dashboard and admin replies; source URLs and errors masked. */
export function trustSummary(t: TrustStatus): TrustStatus {
  return {
    ...t,
    sources: t.sources.map((s) => ({ ...s, source: clean(s.source), ...(s.error !== undefined ? { error: clean(s.error) } : {}) })),
  };
}

export function maskCameraUrl(url: string): string {
  return clean(url);
}
