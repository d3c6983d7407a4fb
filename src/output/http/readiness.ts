import type { TrustStatus } from "../../verify/trust/types.js";
import { CAMERA_UP_STATES } from "../../ingest/types.js";
import type { PictureProblem } from "../../ingest/picture-check.js";

/**
 * Ingest's states in which a camera's lane can read: `online` (frames delivered), `standby` (a
 * camera with a substream whose main stream is off by policy: it starts on activity). Everything
 * else, `warming` (main stream starting) included, counts as down.
 */
export const cameraIsUp = (state: string): boolean => CAMERA_UP_STATES.has(state);

/**
 * In a paused lane's status (set by the app's LanePauses): the lane is closed because the
 * paused-lane state file could not be read at start, not by an officer, and stays closed until one
 * pauses or resumes it. Unlike an officer's pause, nobody chose it: /readyz reports it.
 */
export const PAUSE_STATE_UNREADABLE = "PAUSE_STATE_UNREADABLE";

export interface ReadinessProblem {
  code: "NO_CAMERAS" | "STARTING" | "CAMERA_DOWN" | "FRAME_PATH_FAILING" | "TRUST_STALE" | "TRUST_UNAVAILABLE" | "CLOCK_UNTRUSTED" | "CAMERA_PICTURE_LOST" | "DECODE_DOWN" | "INGEST_ERROR" | "PAUSE_STATE_UNREADABLE" | "LANE_PROBLEM";
  camera?: string;
  lane?: string;
  /** For LANE_PROBLEM: the lane's problem code (src/lane/state.ts). */
  problem?: string;
  detail: string;
}

/** Lane problems already reported above from their source (per camera, trust). */
const COVERED = new Set(["CAMERAS_DOWN", "TRUST_STALE", "CLOCK_UNTRUSTED"]);

type CameraSnapshot = { id: string; lane?: string; state: string; lastFrameAgeMs?: number; framePathFailing?: boolean; pictureProblem?: PictureProblem };

export interface Readiness {
  ready: boolean;
  problems: ReadinessProblem[];
}

/**
 * /readyz: ready only when every camera delivers frames that get decoded and the trust data is fresh, because a
 * gateway missing either cannot give a correct verdict. Pure: the server passes the snapshots.
 */
export function readiness(cameras: CameraSnapshot[], trust: TrustStatus | Error, lanes: Array<{ lane: string; problems: string[] }> = []): Readiness {
  const problems: ReadinessProblem[] = [];
  if (cameras.length === 0) problems.push({ code: "NO_CAMERAS", detail: "no camera is configured or running" });
  // The lane owns the start-up grace (src/lane): a camera is starting, not down, only while its lane says STARTING.
  const startingLanes = new Set(lanes.filter((l) => l.problems.includes("STARTING")).map((l) => l.lane));
  const startingReported = new Set<string>();
  for (const c of cameras) {
    if (!cameraIsUp(c.state)) {
      if (c.lastFrameAgeMs === undefined && c.lane !== undefined && startingLanes.has(c.lane)) {
        startingReported.add(c.lane);
        problems.push({ code: "STARTING", camera: c.id, lane: c.lane, detail: `camera ${c.id} is ${c.state}: no frame yet, lane ${c.lane} is starting` });
        continue;
      }
      const age = c.lastFrameAgeMs === undefined ? "never" : `${Math.round(c.lastFrameAgeMs / 1000)} s ago`;
      problems.push({ code: "CAMERA_DOWN", camera: c.id, detail: `camera ${c.id} is ${c.state} (last frame ${age})` });
    } else if (c.framePathFailing) {
      // Frames arrive but none reaches a verdict: the lane is partly blind even when another camera still sees (no DECODE_DOWN then).
      problems.push({ code: "FRAME_PATH_FAILING", camera: c.id, detail: `camera ${c.id} delivers frames but they are not decoded (consumer or decode failing)` });
    } else if (c.pictureProblem) {
      // Frames arrive and decode, but show nothing: the lane is partly blind (all of it when every camera is: CAMERAS_BLIND).
      problems.push({ code: "CAMERA_PICTURE_LOST", camera: c.id, detail: `camera ${c.id} delivers frames but its picture is ${c.pictureProblem === "FROZEN" ? "frozen (the same picture over and over)" : "blank (no structure: a covered lens?)"}` });
    }
  }
  if (trust instanceof Error) {
    problems.push({ code: "TRUST_UNAVAILABLE", detail: "trust status could not be read" });
  } else if (trust.stale) {
    const age = trust.ageMs === undefined ? "never refreshed" : `${Math.round(trust.ageMs / 1000)} s old`;
    problems.push({ code: "TRUST_STALE", detail: `trust data is stale (${age}, version ${trust.version || "none"})` });
  }
  // Whatever clockAction says: a gateway that cannot tell the time cannot give a correct verdict.
  if (!(trust instanceof Error) && trust.clockUntrusted) {
    const c = trust.clockUntrusted;
    const by = c.basis === "server-date" ? "a trust server's Date header" : "a signed trust list's issue time";
    problems.push({ code: "CLOCK_UNTRUSTED", detail: `local clock is ${Math.round(Math.abs(c.offsetMs) / 1000)} s ${c.offsetMs < 0 ? "behind" : "ahead of"} ${by}` });
  }
  // A lane blind for another reason (decode down, ingest error, a stage's own problem) is not ready either.
  for (const l of lanes) {
    for (const p of l.problems) {
      if (COVERED.has(p) || (p === "STARTING" && startingReported.has(l.lane))) continue;
      if (p === "DECODE_DOWN") problems.push({ code: "DECODE_DOWN", lane: l.lane, detail: `lane ${l.lane}: frames are not being decoded` });
      else if (p === "INGEST_ERROR") problems.push({ code: "INGEST_ERROR", lane: l.lane, detail: `lane ${l.lane}: ingest cannot run a camera (ffmpeg cannot start, the restart budget is spent, or the camera refuses our credentials: camera_ingest_error names which) and none delivers` });
      else if (p === PAUSE_STATE_UNREADABLE) problems.push({ code: PAUSE_STATE_UNREADABLE, lane: l.lane, detail: `lane ${l.lane}: closed because the paused-lane state file could not be read at start; an officer must pause or resume it` });
      else problems.push({ code: "LANE_PROBLEM", lane: l.lane, problem: p, detail: `lane ${l.lane}: ${p}` });
    }
  }
  return { ready: problems.length === 0, problems };
}
