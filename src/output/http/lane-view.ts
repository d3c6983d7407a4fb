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
  /** When its hold ends, on the monotonic clock (`Clock.monotonic()`): a wall clock step must neither keep nor cut it. */
  endsMono: number;
}

export interface LaneViewInput {
  lane: LaneDisplayConfig;
  defaultLang: Lang;
  status: LaneStatus | undefined;
  /** Verdicts the server saw on the bus whose hold may not be over (at most one PASS and one FLAG per lane). */
  seen: readonly SeenVerdict[];
  /** Problems the server sees itself (all cameras down, trust stale, unknown lane). */
  overlay: string[];
  /** Monotonic ms now (`Clock.monotonic()`). */
  nowMono: number;
  /** Verdicts up to this lane sequence number ended when the lane left service: never shown again. */
  endedSeq?: number;
}

/**
 * Which held verdict the screen shows: the newest FLAG, else the newest PASS. A FLAG keeps the
 * screen for its hold, so a flagged traveller never stands in front of green (docs/lane.md).
 */
export function onScreen<T extends { ev: VerdictEvent }>(held: readonly T[]): T | undefined {
  const flags = held.filter((h) => displayVerdict(h.ev.verdict) === "FLAG");
  let best: T | undefined;
  for (const h of flags.length > 0 ? flags : held) if (!best || h.ev.seq > best.ev.seq) best = h;
  return best;
}

/**
 * The one place that decides what a lane display shows. Out of service wins over everything;
 * a verdict is shown only while its hold lasts on the monotonic clock (so a stuck status can never
 * keep a lane green, and a wall clock step changes nothing); a lane with no status yet is out of
 * service, not idle.
 */
export function laneView(i: LaneViewInput): LaneView {
  const base = { lane: i.lane.id, name: i.lane.name ?? i.lane.id, lang: i.lane.language ?? i.defaultLang };
  const problems = new Set<string>(i.overlay);
  const st = i.status;
  if (!st) problems.add("LANE_STARTING");
  else if (st.state === "paused") problems.add(st.problems.includes("PAUSE_STATE_UNREADABLE") ? "PAUSE_STATE_UNREADABLE" : "LANE_PAUSED");
  else if (st.state === "out-of-service") {
    for (const p of st.problems) problems.add(p);
    if (st.problems.length === 0) problems.add("OUT_OF_SERVICE");
  }
  if (problems.size > 0) {
    const list = [...problems];
    return { ...base, state: "out-of-service", problems: list, headline: HEADLINES.oos, detail: HEADLINES.oosHint, cause: oosText(list[0]) };
  }

  const held: Array<{ ev: VerdictEvent; remaining: number }> = [];
  const add = (ev: VerdictEvent, endsMono: number): void => {
    if (i.endedSeq !== undefined && ev.seq <= i.endedSeq) return;
    // Capped at the configured hold: a status or a record claiming longer cannot keep a screen on.
    const remaining = Math.min(holdMs(i.lane, ev.verdict), endsMono - i.nowMono);
    if (remaining > 0) held.push({ ev, remaining });
  };
  // A status without a monotonic end cannot say how long is left: it shows nothing.
  if (st && (st.state === "pass" || st.state === "flag") && st.verdict && st.untilMono !== undefined) add(st.verdict, st.untilMono);
  for (const s of i.seen) add(s.ev, s.endsMono);
  const current = onScreen(held);
  if (current) {
    const v = verdictView(current.ev, current.remaining);
    return {
      ...base,
      state: v.verdict === "PASS" ? "pass" : "flag",
      problems: [],
      verdict: v,
      headline: v.verdict === "PASS" ? HEADLINES.pass : HEADLINES.flag,
      ...(v.verdict === "FLAG" ? { detail: v.text } : {}),
    };
  }
  return { ...base, state: "idle", problems: [], headline: HEADLINES.idle, detail: HEADLINES.idleHint };
}

/** Two views that would look the same on screen (ttl aside) need no new event. */
export function viewKey(v: LaneView): string {
  return `${v.state}|${v.problems.join(",")}|${v.verdict?.seq ?? ""}|${v.lang}`;
}
