import type { LaneStatus, VerdictEvent } from "../../core/types.js";
import { HEADLINES, flagText, oosText, type Lang, type Text } from "./display-text.js";

/** What a lane display needs about one verdict. PII-free: no credential hash, no payload hash, no issuer. */
export interface VerdictView {
  id: string;
  seq: number;
  verdict: "PASS" | "FLAG";
  reason: string;
  format: string;
  /** Epoch ms when the verdict was made. */
  at: number;
  /** Ms the page may still show this verdict, counted from when it receives it (client-side TTL). */
  ttl: number;
  text: Text;
}

export type DisplayState = "idle" | "pass" | "flag" | "out-of-service";

export interface LaneView {
  lane: string;
  name: string;
  lang: Lang;
  state: DisplayState;
  /** Stable codes; non-empty exactly when state is out-of-service. */
  problems: string[];
  verdict?: VerdictView;
  headline: Text;
  detail?: Text;
  /** Out of service only: the technical cause in plain words, shown small (the traveller reads headline and detail). */
  cause?: Text;
}

export interface LaneDisplayConfig {
  id: string;
  name?: string;
  language?: Lang;
  passHoldMs: number;
  flagHoldMs: number;
}

/** ERROR verdicts show red: the display is fail-safe and knows only PASS and FLAG. */
export function displayVerdict(kind: VerdictEvent["verdict"]): "PASS" | "FLAG" {
  return kind === "PASS" ? "PASS" : "FLAG";
}

export function holdMs(lane: LaneDisplayConfig, kind: VerdictEvent["verdict"]): number {
  return displayVerdict(kind) === "PASS" ? lane.passHoldMs : lane.flagHoldMs;
}

export function verdictView(ev: VerdictEvent, ttl: number): VerdictView {
  const verdict = displayVerdict(ev.verdict);
  return {
    id: ev.id,
    seq: ev.seq,
    verdict,
    reason: ev.reason,
    format: ev.format,
    at: ev.at,
    ttl: Math.max(0, Math.round(ttl)),
    text: verdict === "PASS" ? HEADLINES.pass : flagText(ev.reason),
  };
}

/** A verdict the server itself saw on the bus, kept so a lane status that lags behind cannot blank it early. */
export interface SeenVerdict {
  ev: VerdictEvent;
  /** Epoch ms when its hold ends. */
  until: number;
}

export interface LaneViewInput {
  lane: LaneDisplayConfig;
  defaultLang: Lang;
  status: LaneStatus | undefined;
  lastSeen: SeenVerdict | undefined;
  /** Problems the server sees itself (all cameras down, trust stale, unknown lane). */
  overlay: string[];
  now: number;
  /** Verdicts up to this lane sequence number ended when the lane left service: never shown again. */
  endedSeq?: number;
}

/**
 * The one place that decides what a lane display shows. Out of service wins over everything;
 * a verdict is shown only while its hold lasts (so a stuck status can never keep a lane green);
 * a lane with no status yet is out of service, not idle.
 */
export function laneView(i: LaneViewInput): LaneView {
  const base = { lane: i.lane.id, name: i.lane.name ?? i.lane.id, lang: i.lane.language ?? i.defaultLang };
  const problems = new Set<string>(i.overlay);
  const st = i.status;
  if (!st) problems.add("LANE_STARTING");
  else if (st.state === "paused") problems.add("LANE_PAUSED");
  else if (st.state === "out-of-service") {
    for (const p of st.problems) problems.add(p);
    if (st.problems.length === 0) problems.add("OUT_OF_SERVICE");
  }
  if (problems.size > 0) {
    const list = [...problems];
    return { ...base, state: "out-of-service", problems: list, headline: HEADLINES.oos, detail: HEADLINES.oosHint, cause: oosText(list[0]) };
  }

  const live = (ev: VerdictEvent): boolean => i.endedSeq === undefined || ev.seq > i.endedSeq;
  let current: SeenVerdict | undefined;
  if (st && (st.state === "pass" || st.state === "flag") && st.verdict && live(st.verdict)) {
    current = { ev: st.verdict, until: st.until ?? st.verdict.at + holdMs(i.lane, st.verdict.verdict) };
  }
  if (i.lastSeen && live(i.lastSeen.ev) && (!current || i.lastSeen.ev.seq > current.ev.seq)) current = i.lastSeen;
  if (current) {
    const hold = holdMs(i.lane, current.ev.verdict);
    const remaining = Math.min(hold, current.until - i.now);
    if (remaining > 0) {
      const v = verdictView(current.ev, remaining);
      return {
        ...base,
        state: v.verdict === "PASS" ? "pass" : "flag",
        problems: [],
        verdict: v,
        headline: v.verdict === "PASS" ? HEADLINES.pass : HEADLINES.flag,
        ...(v.verdict === "FLAG" ? { detail: v.text } : {}),
      };
    }
  }
  return { ...base, state: "idle", problems: [], headline: HEADLINES.idle, detail: HEADLINES.idleHint };
}

/** Two views that would look the same on screen (ttl aside) need no new event. */
export function viewKey(v: LaneView): string {
  return `${v.state}|${v.problems.join(",")}|${v.verdict?.seq ?? ""}|${v.lang}`;
}
