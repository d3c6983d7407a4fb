import { createHash, timingSafeEqual } from "node:crypto";
import type { LaneState, VerdictEvent } from "../../core/types.js";
import { toWireEvent } from "../events/wire.js";
import { laneStatusFor, type LaneCommand } from "./topics.js";
import type { PictureProblem } from "../../ingest/picture-check.js";

/** Pure payload rules for the MQTT output: verdict JSON, stats JSON, command parsing. */

export interface MqttVerdict {
  id: string;
  gatewayId: string;
  lane: string;
  camera: string;
  seq: number;
  verdict: string;
  reason: string;
  format: string;
  /** ISO-8601 UTC with milliseconds. */
  time: string;
  /** Epoch seconds (fraction = milliseconds), what most automations compare against. */
  timestamp: number;
}

const epochSeconds = (ms: number) => Math.round(ms) / 1000;

/** Built from the wire allowlist: no payload, no personal data, only codes and ids. */
export function verdictPayload(ev: VerdictEvent): MqttVerdict {
  const w = toWireEvent(ev);
  return {
    id: w.id,
    gatewayId: w.gatewayId,
    lane: w.lane,
    camera: w.cameraId,
    seq: w.seq,
    verdict: w.verdict,
    reason: w.reason,
    format: w.format,
    time: new Date(w.at).toISOString(),
    timestamp: epochSeconds(w.at),
  };
}

/** What the app knows at a stats tick (read through the stages' own stats interfaces). */
export interface StatsSnapshot {
  cameras: Array<{
    id: string;
    lane: string;
    state: string;
    fpsIn: number;
    framesIn?: number;
    framesDropped: number;
    /** Epoch ms of the last frame, absent before the first. */
    lastFrameAt?: number;
    decode?: { submitted: number; decoded: number; dropped: number; failed: number; lastDecodeMs?: number };
    /** Frames arrive but the path after ingest has failed for 2 s or more (partial blindness). */
    framePathFailing?: boolean;
    /** Frames arrive but the picture is frozen or blank (ingest/picture-check.ts); absent while it is fine. */
    pictureProblem?: PictureProblem;
  }>;
  lanes: Array<{ lane: string; state: LaneState; problems: string[]; readRate?: number; displays?: number }>;
  decode?: { workers: number; busy: number; restarts: number };
  /**
   * Redis Streams spool (absent without Redis): backlog, drops, and why exactly-once is at risk now;
   * its disk errors and `degraded` (events held in memory only) when the spool reports them.
   */
  events?: { pending: number; dropped: number; forwarded: number; alreadyForwarded: number; skippedIds: number; problems: string[]; writeErrors?: number; fsyncErrors?: number; degraded?: boolean };
  /** Hash-chained ledger (absent when off): degraded once a write or fsync failed. */
  ledger?: { entries: number; writeErrors: number; fsyncErrors: number; degraded: boolean };
  /** Trust data freshness and what was refused from Redis or disk. */
  trust?: { stale: boolean; clockUntrusted?: boolean; revocationDeltasRefused: number; cacheCopiesRefused: number };
}

export interface StatsContext {
  gatewayId: string;
  version: string;
  nowMs: number;
  startedAtMs: number;
  mqtt: { connected: number; links: number; reconnects: number; verdictsPublished: number; verdictsDropped: number; commandsAccepted: number; commandsRejected: number };
}

/** Frigate-style stats: one retained JSON with service info and per-camera / per-lane numbers. */
export function statsPayload(s: StatsSnapshot | undefined, c: StatsContext): Record<string, unknown> {
  const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
  const cameras: Record<string, unknown> = {};
  for (const cam of s?.cameras ?? []) {
    cameras[cam.id] = {
      lane: cam.lane,
      state: cam.state,
      fps: round(cam.fpsIn),
      ...(cam.framesIn !== undefined ? { frames: cam.framesIn } : {}),
      framesDropped: cam.framesDropped,
      ...(cam.lastFrameAt !== undefined ? { lastFrame: epochSeconds(cam.lastFrameAt) } : {}),
      ...(cam.decode ? { decode: { ...cam.decode, ...(cam.decode.lastDecodeMs !== undefined ? { lastDecodeMs: round(cam.decode.lastDecodeMs) } : {}) } } : {}),
      ...(cam.framePathFailing !== undefined ? { framePathFailing: cam.framePathFailing } : {}),
      ...(cam.pictureProblem ? { pictureProblem: cam.pictureProblem } : {}),
    };
  }
  const lanes: Record<string, unknown> = {};
  for (const l of s?.lanes ?? []) {
    lanes[l.lane] = {
      state: l.state,
      status: laneStatusFor(l.state),
      problems: l.problems,
      ...(l.readRate !== undefined ? { readRate: round(l.readRate, 4) } : {}),
      ...(l.displays !== undefined ? { displays: l.displays } : {}),
    };
  }
  return {
    service: {
      gatewayId: c.gatewayId,
      version: c.version,
      uptime: Math.max(0, Math.round((c.nowMs - c.startedAtMs) / 1000)),
      time: new Date(c.nowMs).toISOString(),
      timestamp: epochSeconds(c.nowMs),
    },
    cameras,
    lanes,
    ...(s?.decode ? { decode: s.decode } : {}),
    ...(s?.events ? { events: s.events } : {}),
    ...(s?.ledger ? { ledger: s.ledger } : {}),
    ...(s?.trust ? { trust: s.trust } : {}),
    mqtt: c.mqtt,
  };
}

export type CommandAuth = { mode: "acl" } | { mode: "token"; token: string };

export type CommandDecision =
  | { ok: true; action: LaneCommand }
  | { ok: false; reason: "BAD_PAYLOAD" | "UNAUTHORISED" };

const MAX_COMMAND_BYTES = 1024;

/** Compares digests so neither the content nor the length of the token leaks through timing. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * A command payload is either text (`ON`, `OFF` or empty) or JSON `{"token": "...", "state": "ON"|"OFF"}`.
 * On the pause topic, OFF means resume (so a Home Assistant switch needs one command topic);
 * the resume topic always resumes. With token auth, only JSON carrying the right token passes.
 */
export function decideCommand(topic: LaneCommand, payload: Buffer, auth: CommandAuth): CommandDecision {
  if (payload.length > MAX_COMMAND_BYTES) return { ok: false, reason: "BAD_PAYLOAD" };
  const text = payload.toString("utf8").trim();
  let state: string | undefined;
  let token: string | undefined;
  if (text.startsWith("{")) {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      return { ok: false, reason: "BAD_PAYLOAD" };
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return { ok: false, reason: "BAD_PAYLOAD" };
    const o = obj as Record<string, unknown>;
    if (o.token !== undefined && typeof o.token !== "string") return { ok: false, reason: "BAD_PAYLOAD" };
    if (o.state !== undefined && typeof o.state !== "string") return { ok: false, reason: "BAD_PAYLOAD" };
    token = o.token as string | undefined;
    state = o.state as string | undefined;
  } else {
    state = text;
  }
  const s = (state ?? "").toUpperCase();
  if (s !== "" && s !== "ON" && s !== "OFF") return { ok: false, reason: "BAD_PAYLOAD" };
  if (auth.mode === "token" && (token === undefined || !tokenMatches(token, auth.token))) return { ok: false, reason: "UNAUTHORISED" };
  return { ok: true, action: topic === "resume" || s === "OFF" ? "resume" : "pause" };
}
