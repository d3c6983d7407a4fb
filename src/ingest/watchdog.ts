import type { CameraConfig } from "./types.js";

export type WatchdogLimits = Pick<CameraConfig, "startupGraceMs" | "stallTimeoutMs">;

export type WatchdogVerdict = { stalled: false; rearmMs: number } | { stalled: true; phase: "startup" | "steady"; noFrameMs: number };

/**
 * The no-frame watchdog's decision for one process: until its first frame the start-up grace
 * applies (opening a stream takes seconds), from then on the shorter stall timeout, counted from
 * the last frame. Not stalled yet: re-arm for the time left, so there is one timer per check
 * instead of one per frame. Pure: times are passed in.
 */
export function watchdogVerdict(startedAt: number, lastFrameAt: number | undefined, limits: WatchdogLimits, now: number): WatchdogVerdict {
  const since = lastFrameAt ?? startedAt;
  const limit = lastFrameAt === undefined ? limits.startupGraceMs : limits.stallTimeoutMs;
  const left = since + limit - now;
  if (left > 0) return { stalled: false, rearmMs: left };
  return { stalled: true, phase: lastFrameAt === undefined ? "startup" : "steady", noFrameMs: Math.round(now - since) };
}
