import type { VerdictEvent } from "../../core/types.js";
import { secretMasker } from "../../core/mask.js";
import type { TrustStatus } from "../../verify/trust/types.js";
import { displayVerdict } from "./lane-view.js";
import { flagText, type Lang, type Text } from "./display-text.js";

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

/** The log sink's masker: URL credentials (maskUrl) and every registered secret. */
const clean = (s: string) => secretMasker.mask(s);

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

/** The last FLAG of a lane as officers see it until they acknowledge it: no payload, no hashes. */
export interface PendingFlag {
  id: string;
  seq: number;
  reason: string;
  ruleId?: string;
  camera: string;
  at: number;
  /** The reason in plain words (vi/en), as the lane screen showed it. */
  text: Text;
}

export type AckResult = { ok: true; flag: PendingFlag } | { ok: false; code: "NO_PENDING_FLAG" | "FLAG_NOT_CURRENT" };

/**
 * A FLAG leaves the lane screen after its hold, but an officer who arrives later must still see
 * that one happened: the newest FLAG per lane stays here until acknowledged. Acknowledging names
 * the verdict number, so a newer FLAG that arrived meanwhile is never cleared unseen.
 */
export class FlagBoard {
  private readonly pending = new Map<string, PendingFlag>();

  add(ev: VerdictEvent): void {
    if (displayVerdict(ev.verdict) !== "FLAG") return;
    const cur = this.pending.get(ev.lane);
    if (cur && cur.seq > ev.seq) return;
    this.pending.set(ev.lane, {
      id: ev.id,
      seq: ev.seq,
      reason: ev.reason,
      ...(ev.ruleId ? { ruleId: ev.ruleId } : {}),
      camera: ev.cameraId,
      at: ev.at,
      text: flagText(ev.reason),
    });
  }

  get(lane: string): PendingFlag | undefined {
    return this.pending.get(lane);
  }

  ack(lane: string, seq: number): AckResult {
    const cur = this.pending.get(lane);
    if (!cur) return { ok: false, code: "NO_PENDING_FLAG" };
    if (cur.seq !== seq) return { ok: false, code: "FLAG_NOT_CURRENT" };
    this.pending.delete(lane);
    return { ok: true, flag: cur };
  }
}

/** The dashboard's first language: the config, or (auto) the browser's preference between vi and en. */
export function dashboardLang(setting: "auto" | Lang, acceptLanguage: string | undefined, fallback: Lang): Lang {
  if (setting !== "auto") return setting;
  const prefs = (acceptLanguage ?? "")
    .split(",")
    .map((part, i) => {
      const [tag = "", ...params] = part.trim().toLowerCase().split(";");
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { lang: tag.split("-")[0], q: q === undefined ? 1 : Number(q), i };
    })
    .filter((p): p is { lang: Lang; q: number; i: number } => (p.lang === "vi" || p.lang === "en") && p.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return prefs[0]?.lang ?? fallback;
}
