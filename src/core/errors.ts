/**
 * Stable error codes for operational failures (config, camera, trust, output).
 * Verdict reason codes live in src/verify/reasons.ts; these are for the gateway itself.
 * Codes are documented in docs/errors.md; a test keeps both in step.
 */
export const GatewayErrorCodes = {
  GW_CONFIG_INVALID: "The configuration file failed validation; the process refuses to start.",
  GW_CONFIG_UNREADABLE: "The configuration file could not be read or parsed as YAML.",
  GW_CONFIG_ENV_MISSING: "A ${VAR} reference in the configuration names an unset environment variable.",
  GW_USAGE: "The command line was malformed.",
  GW_WASM_MISSING: "The zxing-wasm reader binary was not found on local disk.",
  GW_WASM_CHECKSUM: "The zxing-wasm reader binary does not match the package's published SHA-256.",
  GW_DECODE_TIMEOUT: "A decode worker passed its deadline and was replaced.",
  GW_DECODE_CRASH: "A decode worker threw or exited and was replaced.",
  GW_DECODE_BAD_FRAME: "A frame's dimensions or stride do not match its buffer.",
  GW_IMAGE_UNREADABLE: "An image file could not be read or decoded.",
  GW_VIDEO_UNREADABLE: "A video file could not be probed or its frames read (decode CLIP).",
  GW_CAMERA_FAILED: "A camera exceeded its restart budget and is marked failed (still retried slowly).",
  GW_TRUST_FETCH: "A trust source could not be fetched; the last good copy stays in use.",
  GW_TRUST_SIGNATURE: "A trust list failed signature verification; the last good copy stays in use.",
  GW_TRUST_STALE: "Trust data is older than its configured max age.",
  GW_CLOCK_UNTRUSTED: "The local clock differs from a trust server's Date header by more than trust.maxClockDriftS, or runs that much behind a signed trust list's issuedAt: validity cannot be judged (verdicts CLOCK_UNTRUSTED; lanes out of service with clockAction out-of-service).",
  GW_REDIS_UNAVAILABLE: "The configured Redis could not be reached; local state is used meanwhile.",
  GW_SPOOL_FULL: "The event spool reached its size bound; the oldest events are being dropped.",
  GW_SPOOL_STATE_WRITE: "The event spool's state file (stateDir/spool/spool.state.json: epoch, forwarded position) could not be written, fsynced or renamed (a full or failing disk); events keep flowing and the save is retried at every sync. Logged when it starts failing and (info) when a save works again. Until then a restart resumes from the older position: the Redis marker skips what was already forwarded.",
  GW_MQTT_UNAVAILABLE: "The MQTT broker could not be reached; verdicts for lights are dropped (never sent late) until it returns.",
  GW_MQTT_COMMAND_REJECTED: "An MQTT lane command (pause/resume) was refused: bad payload or wrong token (the payload is never logged).",
  GW_LEDGER_BROKEN: "A ledger file failed hash-chain verification.",
  GW_EVENTS_SEQ_FAILED: "A lane's event sequence number could not be read or persisted; the lane is out of service (EVENTS_SEQ_ERROR) so no event id is ever reused.",
  GW_EVENTS_SEQ_RECOVERED: "A lane's sequence file was missing or damaged while events exist; ids resume after the highest recorded id plus a gap.",
  GW_EVENTS_ID_SKIPPED: "The forward script refused events whose ids this spool had already forwarded (an id handed out twice); they are counted, not in the stream.",
  GW_EVENTS_MARKER_AHEAD: "The spool's forward marker in Redis was at or above positions the stream never got (spool positions reused after a power cut or a restored spool, or a marker changed in Redis): those events were added, not skipped; a marker that was no position was reset.",
  GW_EVENTS_REDIS_ROLLED_BACK: "Redis no longer has the forward marker of verdict events it acknowledged (older snapshot, lagging replica, restart without persistence, eviction): the events the spool file still holds were sent again, the others are reported lost with their count.",
  GW_EVENTS_REDIS_WRONGTYPE: "The stream or the spool's id set in Redis holds another Redis type (a hand-made key, another program's key under that name): forwarding is held, the events stay in the bounded spool and are sent once a person deletes or renames the key; a forward marker of another type is deleted and written anew (the id set still prevents duplicates).",
  GW_REDIS_EVICTION_POLICY: "Redis maxmemory-policy (volatile-* or allkeys-*) can evict the stream (events lost) or the spool's marker (duplicates).",
  GW_GATEWAY_ID_CONFLICT: "Another live process forwards events for this gateway.id to the same stream; this one keeps its events in the local spool until the other's lease expires.",
  GW_LEDGER_FSYNC: "The ledger could not be written or flushed to disk; the ledger is marked degraded and the process keeps running.",
  GW_LEDGER_DAMAGED: "At start, the newest ledger file's last complete line is not a ledger entry: the ledger stays off (nothing is written to it) until the file is repaired; lanes, spool and MQTT go on.",
  GW_LEDGER_LOCKED: "At start, another live process holds the ledger directory's lock (two gateways sharing gateway.stateDir): this one leaves its ledger off; lanes, spool and MQTT go on.",
  GW_LEDGER_ANCHOR: "The ledger head could not be published to Redis or MQTT, or the signing key could not be loaded.",
  GW_ADMIN_UNAUTHORIZED: "An admin API request had no valid bearer token.",
  GW_ADMIN_ACTION_FAILED: "An admin action (reload, trust refresh, pause) failed; the previous state stays.",
  GW_PAUSE_STATE_UNREADABLE: "The paused-lane state file (stateDir/lanes/paused.json) exists but cannot be read; every lane starts paused until an officer resumes it.",
  GW_LANE_UNKNOWN: "An admin request named a lane that is not configured.",
  GW_TLS_RELOAD_FAILED: "A changed TLS certificate or key could not be loaded (or watched); the current certificate stays in use.",
  GW_RELOAD_UNSUPPORTED: "Config reload was requested but this process was not started from a config file.",
  GW_CAMERA_SPAWN: "ffmpeg could not be started for a camera (missing or not executable); retried with backoff, the lane reports INGEST_ERROR.",
  GW_CAMERA_AUTH: "A camera refused the gateway's credentials (RTSP 401 Unauthorized or 403 Forbidden); retried every failedRetryMs, not counted toward the restart budget, the lane reports INGEST_ERROR.",
  GW_TIMER_FAULT: "A timer callback threw or rejected; the guarded clock contained it (logged, counted in internal_faults_total) and the process keeps running.",
  GW_UNHANDLED_REJECTION: "A promise rejection reached no handler; it is logged and counted and the process keeps running.",
  GW_UNCAUGHT_EXCEPTION: "An exception reached the top of the stack; it is logged and counted, the gateway stops gracefully and exits 70 for a clean restart.",
  GW_INTERNAL_FAULT: "A guarded callback (e.g. a lane decision) failed; logged and counted, the process keeps running.",
  GW_LANE_DECISION_FAILED: "A lane could not finish a decision (e.g. its sequence store failed); no verdict was published for that presentation.",
  GW_STATE_DIR_LOCKED: "Another live gateway holds the lock file in gateway.stateDir (its pid is named); this one refuses to start (exit 2) so two never share event ids or the ledger. A lock whose pid is gone, or reused by a later process, is taken over with a warning; so is a lock from another host (a recreated container) that its holder has not refreshed for 60 s.",
  GW_STATE_DIR_UNWRITABLE: "gateway.stateDir (or its ledger, spool or lanes directory on another filesystem) cannot take a write: full (ENOSPC, EDQUOT), read-only (EROFS, e.g. ext4 remounted after an error), refused (EACCES, EPERM) or failing (EIO); the path and errno are named. `config check` reports it and `run` refuses to start: exit 75 (EX_TEMPFAIL) for a full, over-quota, read-only or failing disk, which the systemd unit restarts so the gateway comes back once space is freed; exit 2, not restarted, for permissions (EACCES, EPERM) or a path through a file (ENOTDIR), which no restart fixes.",
} as const;

export type GatewayErrorCode = keyof typeof GatewayErrorCodes;

export class GatewayError extends Error {
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "GatewayError";
  }
}
