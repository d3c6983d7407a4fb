/**
 * Contracts between pipeline stages: ingest -> decode -> verify -> lane -> output.
 * Pure data; no stage imports another stage's implementation through these.
 */

/** One camera frame of 8-bit luminance. `data` is transferred (not copied) to decode workers. */
export interface LumaFrame {
  cameraId: string;
  /** Per camera, increasing by one per frame read from ffmpeg (gaps mean frames were dropped). */
  seq: number;
  width: number;
  height: number;
  /** Bytes per row (>= width). */
  stride: number;
  data: Uint8Array;
  /** Monotonic ms (performance.now() domain of the main thread) when the last byte arrived. */
  receivedAt: number;
}

export type Point = [number, number];

export interface DecodedCode {
  text: string;
  bytes: Uint8Array;
  format: "QRCode";
  /** topLeft, topRight, bottomRight, bottomLeft in frame pixel coordinates. */
  corners: [Point, Point, Point, Point];
}

export interface DecodeTimings {
  /** Time the frame waited in the per-camera slot before a worker took it. */
  queueMs: number;
  /** Time spent decoding in the worker (all passes). */
  decodeMs: number;
  /** CPU time of the worker thread for this frame, when the runtime can tell (load-independent). */
  cpuMs?: number;
  /** The passes that ran, in order, and which one found the codes (if any). */
  passes: string[];
  foundBy?: string;
  /** The cascade stopped escalating because a more urgent frame waited for a worker (docs/lane.md "Scheduling"). */
  stoppedEarly?: boolean;
}

export interface DecodeResult {
  cameraId: string;
  seq: number;
  receivedAt: number;
  codes: DecodedCode[];
  timings: DecodeTimings;
  /** Set when the frame could not be decoded (worker crash, deadline, bad frame): never a verdict. */
  error?: { code: string; message: string };
}

export type VerdictKind = "PASS" | "FLAG" | "ERROR";
export type CredentialFormat = "pass" | "dcc" | "shc" | "unknown";

/** What the verifier returns. PII-free by construction: no names, no birth dates, no payload. */
export interface Verdict {
  verdict: VerdictKind;
  reason: string;
  format: CredentialFormat;
  kid?: string;
  issuer?: string;
  validFrom?: number;
  validUntil?: number;
  /** Salted short hash of the credential id (pass id, UVCI, SHC rid/jti), for replay and revocation. */
  credentialHash?: string;
  /** Policy rule id when reason is POLICY_REJECTED. */
  ruleId?: string;
  /** Trust data version the verdict was made with. */
  trustVersion?: string;
}

/** One decision per presentation, as published to displays, MQTT, streams and the ledger. */
export interface VerdictEvent extends Verdict {
  /** Globally unique event id (gateway id + lane + lane sequence), stable across retries. */
  id: string;
  gatewayId: string;
  lane: string;
  cameraId: string;
  /** Per-lane sequence number, increasing by one per verdict. */
  seq: number;
  /** Epoch ms when the verdict was made. */
  at: number;
  /** Monotonic ms from the frame's receive time to the verdict. */
  frameToVerdictMs: number;
  /** Monotonic ms from the code's first sighting in this presentation to the verdict. */
  firstSeenToVerdictMs: number;
  /** Short hash of the QR text (never the text). */
  payloadHash: string;
}

export type LaneState = "idle" | "pass" | "flag" | "out-of-service" | "paused";

export interface LaneStatus {
  lane: string;
  state: LaneState;
  /** Why the lane is out of service (camera down, trust stale, ...), as stable codes. */
  problems: string[];
  /** The current verdict when state is pass/flag. */
  verdict?: VerdictEvent;
  /** Epoch ms when the current pass/flag state ends: information only (the wall clock can step). */
  until?: number;
  /** When the current pass/flag state ends on this process's monotonic clock (`Clock.monotonic()`): what displays count with. */
  untilMono?: number;
}
