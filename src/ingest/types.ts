import type { Socket } from "node:net";
import type { CameraConfig } from "./options.js";

export type { CameraConfig };

/**
 * A supervisor's states, plus two that only a camera with a substream (paired.ts) reports:
 * `standby` (main stream off by policy, the substream watches: counted as up) and `warming` (the
 * main stream is starting after activity: not up, codes are not read yet).
 */
export type CameraState = "starting" | "online" | "stalled" | "backoff" | "failed" | "stopped" | "standby" | "warming";

/** States in which the camera's lane can read what it shows (at once, or as soon as activity starts the main stream). */
export const CAMERA_UP_STATES: ReadonlySet<string> = new Set<CameraState>(["online", "standby"]);

/** Per-camera numbers, read in-process by the server and the metrics exporter. */
export interface CameraStats {
  id: string;
  lane: string;
  state: CameraState;
  /** The input URL with credentials masked. */
  url: string;
  /** Frames read from ffmpeg per second, over the last few seconds. */
  fpsIn: number;
  /** Frames read from ffmpeg since start (all processes). */
  framesIn: number;
  /** Frames read but not handed on (burst after a gap, frames of a process already declared dead). */
  framesDropped: number;
  /** The part of framesDropped that arrived in a burst after a gap or at process start. */
  burstDropped: number;
  /** Milliseconds since the last frame was read; absent before the first frame. */
  lastFrameAgeMs?: number;
  reconnectsLastHour: number;
  stallsLastHour: number;
  /** Restarts and stalls since start (counters for /metrics). */
  reconnectsTotal: number;
  stallsTotal: number;
  /** ffmpeg stderr lines that report corrupt or concealed frames. */
  corruptWarnings: number;
  /** Times the frame consumer (decode hand-off) threw; frames keep flowing. */
  consumerErrors: number;
  /** ffmpeg processes that did not exit after SIGKILL and were given up since start (each may still hold CPU and a camera session). */
  ffmpegAbandoned: number;
  /** False while the camera's host does not answer its probe (an outage being waited out); absent for a source with no host to probe (file). */
  hostReachable?: boolean;
  /** Exits counted toward the restart budget within restartWindowMs (outages are not counted). */
  restartsInWindow: number;
  /** Why ingest cannot run this camera (ffmpeg failed to spawn, the camera refused our credentials, or restart budget exceeded); cleared by the next good frame. */
  ingestError?: "GW_CAMERA_SPAWN" | "GW_CAMERA_AUTH" | "GW_CAMERA_FAILED";
  /** The frame rate the current process settled at, present when it is more than 1.3 x the configured `fps` (a config mismatch). */
  fpsAboveConfig?: number;
  /** CPU of the current ffmpeg process (100 = one core) since the previous stats() call. */
  ffmpegCpuPercent?: number;
  /** Increments with every ffmpeg process (and on stop); events of older generations are ignored. */
  generation: number;
  /** Cameras with a substream (mainStream: on-activity): the substream's own supervisor. */
  subStream?: { state: CameraState; url: string; fpsIn: number; framesIn: number; ffmpegCpuPercent?: number; fpsAboveConfig?: number };
  /** ...whether the main stream is meant to run now (activity within warmHoldMs, or substream down). */
  mainActive?: boolean;
  /** ...times activity started the main stream. */
  warmStarts?: number;
}

/** The minimal readable side we use from a child's stdout/stderr. */
export interface ByteStream {
  on(event: "data", fn: (chunk: Uint8Array) => void): unknown;
}

/** What the supervisor needs of a child process; Node's ChildProcess fits, and so do test fakes. */
export interface SpawnedProcess {
  readonly pid: number | undefined;
  /** Null when the spawner was given a socket to use as the process's stdout. */
  readonly stdout: ByteStream | null;
  readonly stderr: ByteStream;
  kill(signal: NodeJS.Signals): boolean;
  on(event: "exit", fn: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: "error", fn: (err: Error) => void): unknown;
}

/**
 * Injected so supervisors are tested with a scripted fake ffmpeg. `stdin`: written to the child's
 * stdin, then closed. `stdout`: a socket to be the child's stdout (the socket transport); without
 * it, the child's stdout is a pipe the spawner makes.
 */
export type Spawner = (command: string, args: readonly string[], stdin?: string, stdout?: Socket) => SpawnedProcess;
