import type { Cluster, Redis } from "ioredis";
import type { Clock } from "../core/clock.js";
import type { DecodePool } from "../decode/index.js";
import { recentQuantiles, RedisReplayGuard, type FileSeqStore, type Lane, type LaneTelemetry, type ReplayGuard } from "../lane/index.js";
import type { HttpServer, LaneTelemetry as DashboardTelemetry } from "../output/http/index.js";
import type { ConfigReloadStats, MetricsCollectors } from "../output/metrics/index.js";
import type { StatsSnapshot } from "../output/mqtt/index.js";
import type { TrustStore } from "../verify/trust/index.js";
import type { CameraRig } from "./cameras.js";
import type { Outputs } from "./outputs.js";
import type { LanePauses } from "./pauses.js";

/** The running stages whose own stats interfaces /metrics and the MQTT stats topic read. */
export interface Observed {
  lanes: ReadonlyMap<string, Lane>;
  cameras: CameraRig;
  pool: DecodePool;
  trust: TrustStore;
  clock: Clock;
  displays?: () => Record<string, number>;
  redis?: Redis | Cluster;
  outputs?: () => Outputs | undefined;
  /** The replay guard the lanes share (only a Redis one can be degraded). */
  replay?: ReplayGuard;
  pauses?: LanePauses;
  /** The HTTP listeners: TLS certificate, refused requests and display streams. */
  http?: Pick<HttpServer, "tls" | "authRefusals" | "displayRefusals">;
  /** Config reloads by result (app/reload.ts). */
  reloads?: () => ConfigReloadStats;
  /** The event sequence store: which lanes' sequences were recovered at start. */
  seq?: Pick<FileSeqStore, "recovery">;
}

/** Read rate = share of decoded in-view frames in which the code was read (as on the dashboard). */
function readRate(s: { codesRead: number; missedReads: number }): number | undefined {
  return s.codesRead + s.missedReads > 0 ? s.codesRead / (s.codesRead + s.missedReads) : undefined;
}

/** The dashboard's read telemetry of one lane, from the lane's own counters. */
export function laneTelemetry(s: LaneTelemetry): DashboardTelemetry {
  const q = recentQuantiles(s);
  const rr = readRate(s);
  return {
    framesTried: s.verdicts ? s.framesTriedTotal / s.verdicts : 0,
    readFailures: s.readFailures,
    ...(rr !== undefined ? { readRate: rr } : {}),
    ...(q ? { firstSeenToVerdictMs: q } : {}),
  };
}

/** Scrape-time collectors for GatewayMetrics: each reads one stage's stats, nothing is copied in between. */
export function metricsCollectors(o: Observed): MetricsCollectors {
  const { pauses, http, reloads, seq } = o;
  return {
    cameras: () => o.cameras.info(),
    trust: () => o.trust.status(),
    trustCounters: () => o.trust.stats(),
    lanes: () => [...o.lanes.values()].map((l) => l.status()),
    laneCounters: () => Object.fromEntries([...o.lanes].map(([id, l]) => [id, l.stats()])),
    decodePool: () => o.pool.stats(),
    ...(o.displays ? { displays: o.displays } : {}),
    mqtt: () => o.outputs?.()?.mqttStats?.(),
    redisConnected: () => (o.redis ? o.redis.status === "ready" : undefined),
    spool: () => o.outputs?.()?.spoolStats?.(),
    ledger: () => o.outputs?.()?.ledgerStats?.(),
    ledgerAnchor: () => o.outputs?.()?.anchorStats?.(),
    replayGuardDegraded: () => (o.replay instanceof RedisReplayGuard ? o.replay.degraded : undefined),
    ...(pauses ? { pauses: () => ({ ...pauses.stats(), unknownLanes: pauses.unknownLanes() }) } : {}),
    ...(http ? { tls: () => http.tls(), authRefusals: () => http.authRefusals(), displayRefusals: () => http.displayRefusals() } : {}),
    ...(reloads ? { configReloads: reloads } : {}),
    ...(seq
      ? {
          eventSeq: () =>
            Object.fromEntries(
              [...o.lanes.keys()].map((lane) => {
                const r = seq.recovery(lane);
                return [lane, { recovered: r !== undefined, idsSkipped: r?.idsSkipped ?? 0 }];
              }),
            ),
        }
      : {}),
  };
}

/** Freshness and, once the clock is untrusted, that too (a field only ever added: docs/mqtt.md). */
function trustFlags(st: { stale: boolean; clockUntrusted?: unknown }): { stale: boolean; clockUntrusted?: boolean } {
  return { stale: st.stale, ...(st.clockUntrusted !== undefined ? { clockUntrusted: true } : {}) };
}

/** What the retained MQTT stats topic carries at each tick. */
export function statsSnapshot(o: Observed): StatsSnapshot {
  const pool = o.pool.stats();
  const displays = o.displays?.() ?? {};
  const now = o.clock.now();
  const trustK = o.trust.stats();
  return {
    cameras: o.cameras.info().map((c) => ({
      id: c.id,
      lane: c.lane,
      state: c.state,
      fpsIn: c.fpsIn,
      ...(c.framesIn !== undefined ? { framesIn: c.framesIn } : {}),
      framesDropped: c.framesDropped,
      ...(c.lastFrameAgeMs !== undefined ? { lastFrameAt: now - c.lastFrameAgeMs } : {}),
      ...(pool.cameras[c.id] ? { decode: pool.cameras[c.id]! } : {}),
      ...(c.framePathFailing !== undefined ? { framePathFailing: c.framePathFailing } : {}),
      ...(c.pictureProblem ? { pictureProblem: c.pictureProblem } : {}),
    })),
    lanes: [...o.lanes].map(([id, l]) => {
      const st = l.status();
      const rr = readRate(l.stats());
      return { lane: id, state: st.state, problems: st.problems, ...(rr !== undefined ? { readRate: rr } : {}), ...(o.displays ? { displays: displays[id] ?? 0 } : {}) };
    }),
    decode: { workers: pool.workers, busy: pool.busy, restarts: pool.restarts },
    ...outputsSnapshot(o),
    trust: { ...trustFlags(o.trust.status()), revocationDeltasRefused: trustK.revocationDeltasRefused, cacheCopiesRefused: trustK.cacheCopiesRefused },
  };
}

/** Spool and ledger numbers for the stats topic, each present only when that output runs. */
function outputsSnapshot(o: Observed): Pick<StatsSnapshot, "events" | "ledger"> {
  const out = o.outputs?.();
  const sp = out?.spool?.stats();
  const lg = out?.ledger?.stats();
  return {
    ...(sp ? { events: { pending: sp.pending, dropped: sp.dropped, forwarded: sp.forwarded, alreadyForwarded: sp.alreadyForwarded, skippedIds: sp.skippedIds, problems: sp.problems, writeErrors: sp.writeErrors, fsyncErrors: sp.fsyncErrors, degraded: sp.degraded } } : {}),
    ...(lg && out?.ledger ? { ledger: { entries: out.ledger.head()?.seq ?? 0, writeErrors: lg.writeErrors, fsyncErrors: lg.fsyncErrors, degraded: lg.degraded } } : {}),
  };
}
