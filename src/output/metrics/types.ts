import type { LaneStatus } from "../../core/types.js";
import type { TrustStatus } from "../../verify/trust/types.js";
import type { PictureProblem } from "../../ingest/picture-check.js";

/** What /metrics needs to know about each camera at scrape time (same shape the dashboard uses). */
export interface CameraStats {
  id: string;
  lane: string;
  state: string;
  fpsIn: number;
  framesDropped: number;
  lastFrameAgeMs?: number;
  reconnectsLastHour: number;
  stallsLastHour: number;
  /** Frames read since start (all processes). */
  framesIn?: number;
  /** ffmpeg restarts since start. */
  restarts?: number;
  /** Stalls (no frame within the stall timeout) since start. */
  stalls?: number;
  /** Frames arrive but the path after ingest has failed for a while (app/lane-health.ts FramePathHealth). */
  framePathFailing?: boolean;
  /** Frames arrive but the picture is frozen or blank (ingest/picture-check.ts); absent while it is fine or the check is off. */
  pictureProblem?: PictureProblem;
  /** The part of the ingest drops that arrived in a burst after a gap or at process start, since start. */
  burstDropped?: number;
  /** ffmpeg stderr lines reporting corrupt or concealed frames, since start. */
  corruptWarnings?: number;
  /** ffmpeg processes that survived SIGKILL and were given up, since start. */
  ffmpegAbandoned?: number;
  /** False while the camera's host does not answer (an outage); absent for a source with no host (file). */
  hostReachable?: boolean;
  /** Why ingest cannot run the camera now (GW_CAMERA_SPAWN, GW_CAMERA_FAILED); absent when it can. */
  ingestError?: string;
  /**
   * Per stream, whether its current process settled at more than 1.3 x the stream's configured fps
   * (ingest stats().fpsAboveConfig): `main` for every camera, `sub` only for one with a substream.
   */
  aboveConfiguredFps?: { main: boolean; sub?: boolean };
}

/** Per-camera decode counters of the pool (cumulative). */
export interface DecodeCameraCounters {
  submitted: number;
  decoded: number;
  dropped: number;
  failed: number;
  /** Cascades stopped early for a more urgent waiting frame (absent: not counted). */
  stoppedEarly?: number;
}

export interface DecodePoolStats {
  /** Configured worker slots. */
  workers: number;
  /** Workers started and ready to take a frame. */
  live?: number;
  /** Same as live (the name the blindness rule uses). */
  ready?: number;
  /** Frames that passed the decode deadline since start. */
  timeouts?: number;
  busy: number;
  restarts: number;
  /** Frames waiting for a worker (at most one per camera: the latest wins). */
  queued?: number;
  cameras: Record<string, DecodeCameraCounters>;
}

export interface MqttStats {
  connected: number;
  links: number;
  reconnects: number;
  verdictsPublished: number;
  verdictsDropped: number;
  commandsAccepted?: number;
  commandsRejected?: number;
  /** Publishes the client reported failed, by kind (a closed set: status, paused, stats, discovery, verdict). */
  publishErrors?: Record<string, number>;
}

export interface SpoolStats {
  spooled: number;
  forwarded: number;
  pending: number;
  pendingBytes: number;
  dropped: number;
  /** Resent records the stream already had (a lost reply, a crash): not added again. */
  alreadyForwarded?: number;
  /** Records not added because their event id was forwarded before under another position (a reused id). */
  skippedIds?: number;
  reusedPositions?: number;
  markerResets?: number;
  /** Times Redis no longer had events it had acknowledged (GW_EVENTS_REDIS_ROLLED_BACK). */
  redisRollbacks?: number;
  /** Why exactly-once cannot be promised now (REDIS_EVICTION_POLICY:<policy>, GATEWAY_ID_CONFLICT). */
  problems?: string[];
  /** Why forwarding to the stream is held though Redis answers (`wrongtype`: the stream or id set key holds another Redis type); absent while it is not. */
  forwardBlocked?: string;
  /** Failed spool writes (record append, state file, compaction rewrite) since start. */
  writeErrors?: number;
  /** Failed spool fsync or close calls since start. */
  fsyncErrors?: number;
  /** True while events whose append failed are held in memory only. */
  degraded?: boolean;
  /** Records the last run left in the spool file, queued again when the spool started. */
  recoveredAtStart?: number;
  /** Spool file lines dropped as unreadable when the spool started (torn, damaged): events perhaps lost. */
  recordsDamaged?: number;
  /** The state file was missing at start; the spool file's header gave the epoch and position floor. */
  stateRecovered?: boolean;
  /** State file and header were both missing at start: a new epoch, the stream may get duplicates. */
  stateLost?: boolean;
}

export interface LedgerStats {
  /** Entries in the chain (the head's sequence number). */
  entries: number;
  /** Epoch ms of the last successful append. */
  lastWriteAt?: number;
  writeErrors: number;
  /** fsync (or close) calls that failed: entries written but perhaps not on disk. */
  fsyncErrors?: number;
  /** True once a write or fsync failed since start. */
  degraded?: boolean;
  /** Partial last lines (an entry torn by a crash) cut from the ledger files when it started. */
  tornEntriesCut?: number;
  /** The ledger did not start: its newest file's last entry is damaged (GW_LEDGER_DAMAGED). */
  damaged?: boolean;
}

/** A lane's event sequence as this process found it at start (lane/seq-store.ts FileSeqStore.recovery()). */
export interface EventSeqStats {
  /** The seq file was missing, damaged or behind the recorded ids, and ids resumed past a gap. */
  recovered: boolean;
  /** Ids left unused by that recovery (0 without one). */
  idsSkipped: number;
}

/** One sink of the ledger head anchor (output/ledger HeadAnchor.stats()). */
export interface LedgerAnchorSinkStats {
  /** Heads the sink accepted. */
  published: number;
  failures: number;
  /** Sequence number of the newest head the sink accepted; absent before the first. */
  anchoredSeq?: number;
}

/** Where the ledger head is anchored outside the ledger directory, and how far each copy is behind. */
export interface LedgerAnchorStats {
  /** Heads that could not be signed (published unsigned). */
  signErrors: number;
  /** Per sink name (`redis`, `mqtt`), from its first attempt on. */
  sinks: Record<string, LedgerAnchorSinkStats>;
}

/** The paused-lane state file's failures since start (app/pauses.ts LanePauses). */
export interface PauseStoreStats {
  /** The file existed but could not be read: every lane started paused. */
  loadErrors: number;
  /** Pauses that applied but could not be written: a restart would reopen those lanes. */
  saveErrors: number;
  /** Lanes closed only because the file could not be read at start, until an officer pauses or resumes each. */
  unknownLanes?: string[];
}

/** Trust store counters (monotonic since start, except the applied deltas). */
export interface TrustCounters {
  revocationDeltasApplied: number;
  revocationDeltasRefused: number;
  cacheCopiesRefused: number;
}

/** Lane read counters (cumulative), a subset of the lane's telemetry. */
export interface LaneCounters {
  framesDecoded: number;
  codesRead: number;
  missedReads: number;
  readFailures: number;
  presentations: number;
  replayDegraded: number;
  verdictsDropped: number;
  /** Decisions that failed outside verification: a code was read and no verdict was published (absent: not counted). */
  decisionErrors?: number;
}

/** A TLS listener's certificate in service and its failed reloads (output/http HttpServer.tls()). */
export interface TlsListenerStats {
  /** `public` (the read-only listener; the admin listener has no TLS). */
  listener: string;
  /** Epoch ms the certificate in service expires; absent when it could not be parsed. */
  validTo?: number;
  /** Reloads of changed files that failed, and directory watches that could not be set up, since start. */
  reloadErrors: number;
}

/** Requests a listener refused for authentication, by the guard's reason (never a token or header value). */
export interface AuthRefusalCount {
  listener: string;
  reason: string;
  count: number;
}

/** Lane display streams refused (stream limits) or cut off (slow reader) per configured lane. */
export interface DisplayRefusalCount {
  lane: string;
  reason: string;
  count: number;
}

/** Config reloads since start (app/reload.ts Reloader.stats()). */
export interface ConfigReloadStats {
  applied: number;
  /** Applying a valid config failed part-way (a section could not start; the reload is reported failed). */
  failed: number;
  /** The file could not be read or did not validate: nothing was applied. */
  invalid: number;
  /** Epoch ms of the last reload that applied; absent before the first. */
  lastAppliedAt?: number;
  /** True while the last applied reload named sections that need a restart (their old values still run). */
  restartRequired: boolean;
}

/** Pulled at scrape time, so the numbers are never older than the scrape. Each is optional. */
export interface MetricsCollectors {
  cameras?: () => CameraStats[];
  trust?: () => TrustStatus;
  trustCounters?: () => TrustCounters;
  lanes?: () => LaneStatus[];
  laneCounters?: () => Record<string, LaneCounters>;
  /** Connected lane displays (SSE streams) per lane. */
  displays?: () => Record<string, number>;
  decodePool?: () => DecodePoolStats;
  /** undefined when MQTT is not configured (the series are then absent). */
  mqtt?: () => MqttStats | undefined;
  /** undefined when Redis is not configured (the series is then absent). */
  redisConnected?: () => boolean | undefined;
  spool?: () => SpoolStats | undefined;
  ledger?: () => LedgerStats | undefined;
  /** Per configured lane: whether its event sequence was recovered at start. */
  eventSeq?: () => Record<string, EventSeqStats>;
  /** undefined when the ledger is off (the series are then absent). */
  ledgerAnchor?: () => LedgerAnchorStats | undefined;
  /** undefined without a Redis replay guard (the series is then absent). */
  replayGuardDegraded?: () => boolean | undefined;
  pauses?: () => PauseStoreStats;
  /** Frame-path failures after ingest per camera since start (consumer threw, decode error). */
  consumerErrors?: () => Record<string, number>;
  /** One entry per TLS listener (none without TLS). */
  tls?: () => TlsListenerStats[];
  authRefusals?: () => AuthRefusalCount[];
  displayRefusals?: () => DisplayRefusalCount[];
  configReloads?: () => ConfigReloadStats;
}
