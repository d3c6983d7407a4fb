import type { Cluster, Redis } from "ioredis";
import { randomBytes } from "node:crypto";
import type { Logger } from "../../core/logger.js";
import type { VerdictEvent } from "../../core/types.js";
import { systemClock, type Clock } from "../../core/clock.js";
import { toWireEvent } from "./wire.js";
import { readHeldRecords, recordLine, type SpoolRecord } from "./spool-file.js";
import { ackedForScript, forwardBatch, MARKER_TTL_S, markerKey } from "./forward.js";
import { ownerKey } from "./redis-guards.js";
import { EvictionCheck } from "./eviction-check.js";
import { ForwardPump } from "./forward-pump.js";
import { OwnerLease } from "./owner-lease.js";
import { PendingQueue } from "./pending-queue.js";
import { RecentIds } from "./recent-ids.js";
import { SpoolDisk, type FsyncPolicy } from "./spool-disk.js";
import { withTimeout } from "./timers.js";

export type { FsyncPolicy } from "./spool-disk.js";

export interface EventSpoolOptions {
  dir: string;
  fsync: FsyncPolicy;
  maxBytes: number;
  redis?: Redis | Cluster;
  stream: string;
  logger: Logger;
  clock?: Clock;
  /** Used in the dedupe marker key; defaults to the first event's gateway id or "gw". */
  gatewayId?: string;
  /** XADD MAXLEN ~ N (0 = no trimming). */
  maxLen?: number;
  /** Called after each batch is acknowledged by Redis (metrics, benchmarks). */
  onForwarded?: (records: readonly SpoolRecord[]) => void;
  /** Tuning; defaults suit a checkpoint (a few verdicts per second, bursts after an outage). */
  batchMaxRecords?: number;
  commandTimeoutMs?: number;
  fsyncIntervalMs?: number;
  /** The spool file is rewritten without forwarded records once it is this big. */
  compactBytes?: number;
  /** Owner lease TTL (one forwarding process per gateway id and stream); refreshed every third of it. */
  leaseTtlMs?: number;
}

export interface SpoolStats {
  spooled: number;
  /** Entries this process added to the stream (the forward script's count, not the batch size). */
  forwarded: number;
  /** Resent records the stream already had (their id under the same position): a lost reply, a crash. */
  alreadyForwarded: number;
  /** Records NOT added because their event id was forwarded before under another position (a reused id). */
  skippedIds: number;
  /**
   * Records at or below the Redis marker that the stream did not have, added (in `forwarded`): spool
   * positions reused after a power cut or a restored spool, or a marker moved in Redis.
   */
  reusedPositions: number;
  /** Markers found holding no position, one far above the ids they guard, or a key of another Redis type, and reset. */
  markerResets: number;
  /**
   * Times Redis no longer had events it had acknowledged (an older snapshot, a lagging replica, a
   * restart without persistence, eviction): what the spool file still held was sent again.
   */
  redisRollbacks: number;
  pendingBytes: number;
  dropped: number;
  redisUp: boolean;
  /** Why forwarding is held though Redis answers: `wrongtype` (GW_EVENTS_REDIS_WRONGTYPE) until a batch goes through; absent otherwise. */
  forwardBlocked?: "wrongtype";
  pending: number;
  duplicates: number;
  /**
   * Why exactly-once cannot be promised right now: `REDIS_EVICTION_POLICY` (Redis can evict the stream,
   * events lost, or the marker, duplicates), `GATEWAY_ID_CONFLICT` (another live process forwards for this gateway id;
   * this one holds its events in the spool meanwhile). Empty when all is well.
   */
  problems: string[];
  /** Spool writes that failed since start: record append, state file, compaction rewrite. */
  writeErrors: number;
  /** Spool fsync or close calls that failed since start. */
  fsyncErrors: number;
  /** Compactions that failed since start (also in writeErrors or fsyncErrors). */
  compactionErrors: number;
  /** True while events whose append failed are in memory only (lost if the process dies first). */
  degraded: boolean;
  /** Records the last run left in the spool file, queued again at start. */
  recoveredAtStart: number;
  /** Spool file lines dropped at start as unreadable (torn by a crash, damaged): events perhaps lost. */
  recordsDamaged: number;
  /** True when the state file was missing at start and the spool file's header gave epoch and floor. */
  stateRecovered: boolean;
  /** True when state file and header were both missing at start: a new epoch (duplicates possible). */
  stateLost: boolean;
}

export interface EventSpool {
  append(ev: VerdictEvent): void;
  start(): Promise<void>;
  stats(): SpoolStats;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const RECENT_IDS = 4096;
const FULL_LOG_EVERY_MS = 10_000;

/**
 * Local spool first, Redis Stream second: `append` writes the event to disk synchronously
 * (fsync per policy) and returns; a single pump forwards pending records in order with an
 * idempotent script (see forward.ts), so the stream gets each event exactly once.
 * The parts: spool-disk.ts (file, state, fsync, compaction), pending-queue.ts, forward-pump.ts,
 * owner-lease.ts, eviction-check.ts, recent-ids.ts; this function wires them and keeps the counters.
 */
export function createEventSpool(opts: EventSpoolOptions): EventSpool {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger.child({ module: "events.spool" });
  const commandTimeoutMs = opts.commandTimeoutMs ?? 10_000;
  const leaseTtlMs = opts.leaseTtlMs ?? 15_000;
  const redis = opts.redis;

  const disk = new SpoolDisk({ dir: opts.dir, fsync: opts.fsync, fsyncIntervalMs: opts.fsyncIntervalMs ?? 1000, compactBytes: opts.compactBytes ?? 1 << 20, clock, log });
  const queue = new PendingQueue();
  const recent = new RecentIds(RECENT_IDS);
  const counters = { spooled: 0, dropped: 0, duplicates: 0 };
  let nextN = 1;
  let started = false;
  let closed = false;
  let marker = "";
  let fullLoggedAt: number | undefined;
  let droppedSinceLog = 0;

  /** Oldest-first drop beyond the bound (never inside the batch Redis is working on), loudly. */
  function enforceBound(): void {
    const cut = queue.dropOver(opts.maxBytes);
    if (!cut) return;
    disk.markDone(cut.lastN);
    // The dropped records are still in the file: while Redis takes nothing, only a rewrite keeps the
    // file near the bound. shouldCompact waits until the file is twice the pending bytes, so a long
    // outage rewrites the bound's worth once per bound's worth of verdicts, not on every verdict.
    disk.compact(queue.length, queue.bytes, () => queue.lines());
    reportDropped(cut.dropped);
  }

  function reportDropped(dropped: number): void {
    counters.dropped += dropped;
    droppedSinceLog += dropped;
    const now = clock.monotonic();
    // Loud but not a log flood: the first drop, then at most every 10 s.
    if (fullLoggedAt === undefined || now - fullLoggedAt >= FULL_LOG_EVERY_MS) {
      log.error(
        { code: "GW_SPOOL_FULL", dropped: droppedSinceLog, droppedTotal: counters.dropped, maxBytes: opts.maxBytes, pending: queue.length },
        "event spool full: dropping the oldest events",
      );
      fullLoggedAt = now;
      droppedSinceLog = 0;
    }
  }

  const lease = redis
    ? new OwnerLease({
        redis,
        clock,
        log,
        key: ownerKey(opts.stream, opts.gatewayId ?? "gw"),
        instance: randomBytes(8).toString("hex"),
        ttlMs: leaseTtlMs,
        commandTimeoutMs,
        gatewayId: opts.gatewayId,
        stream: opts.stream,
        pending: () => queue.length,
        onHeld: () => {
          if (queue.length > 0) pump?.kick();
        },
      })
    : undefined;
  const eviction = redis ? new EvictionCheck({ redis, clock, log, commandTimeoutMs }) : undefined;
  const pump = redis
    ? new ForwardPump({
        redis,
        clock,
        log,
        queue,
        batchMax: opts.batchMaxRecords ?? 500,
        conflictPauseMs: Math.min(5000, leaseTtlMs / 3),
        holdsLease: () => lease!.ensure(),
        forward: (batch) =>
          withTimeout(
            clock,
            forwardBatch(redis, { stream: opts.stream, marker }, batch, { markerTtlS: MARKER_TTL_S, maxLen: opts.maxLen ?? 0, acked: ackedForScript(disk.state.acked, marker, clock.now()) }),
            commandTimeoutMs,
          ),
        enforceBound,
        forwarded: (batch) => {
          // The marker in Redis already covers these; the local state only saves resending them.
          disk.markAcked(batch[batch.length - 1]!.n, clock.now(), marker);
          disk.compact(queue.length, queue.bytes, () => queue.lines());
          opts.onForwarded?.(batch);
        },
        rolledBack,
      })
    : undefined;

  /**
   * Redis lost what it had acknowledged after position `reach`. Forwarded records stay in the spool
   * file until a compaction: those go back to the queue's front; the others are gone from the stream
   * for good, and the log says how many (never silently).
   */
  function rolledBack(reach: number, rollbacks: number): void {
    const acked = disk.state.acked?.n ?? 0;
    let held: SpoolRecord[] = [];
    let readError: string | undefined;
    try {
      held = readHeldRecords(opts.dir, reach, acked, clock.monotonic());
    } catch (e) {
      readError = (e as Error).message;
    }
    queue.putBack(held);
    disk.rollBack(reach, held[0]?.n);
    log.error(
      { code: "GW_EVENTS_REDIS_ROLLED_BACK", reach, acked, resent: held.length, lost: acked - reach - held.length, rollbacks, ...(readError ? { readError } : {}) },
      "redis lost the forward marker of events it acknowledged (restored from an older snapshot, failed over to a lagging replica, restarted without persistence, or evicted), and with it most likely the events: those the spool file still holds are sent again, the others (lost) cannot be",
    );
  }

  const onReady = () => {
    lease?.invalidate();
    if (!closed) void eviction?.check();
    pump?.wake();
  };

  return {
    async start() {
      if (started) return;
      const loaded = disk.load(clock.monotonic(), opts.maxBytes);
      queue.reset(loaded.pending);
      nextN = loaded.nextN;
      marker = markerKey(opts.stream, opts.gatewayId ?? "gw", disk.state.epoch);
      disk.open(queue.lines());
      // After open: the rewrite has dropped them from the file, with the state covering them saved first.
      if (loaded.droppedOverBound > 0) reportDropped(loaded.droppedOverBound);
      started = true;
      pump?.open();
      redis?.on("ready", onReady);
      if (!redis) log.info("no redis configured: verdict events are not spooled for a stream");
      if (redis?.status === "ready") {
        if (!closed) await eviction!.check();
        await lease!.ensure(true).catch((e: unknown) => log.warn({ err: (e as Error).message }, "gateway id lease not taken yet"));
      }
      lease?.startRenewal();
      enforceBound();
      pump?.kick();
    },

    append(ev) {
      if (!started || closed || !redis || !disk.isOpen) {
        if (closed || started) return;
        throw new Error("event spool: append() before start()");
      }
      const appendedAt = clock.monotonic();
      const wire = toWireEvent(ev);
      if (recent.seen(wire.id)) {
        counters.duplicates++;
        return;
      }
      const json = JSON.stringify(wire);
      const n = nextN++;
      const line = recordLine(n, json);
      disk.append(line, queue.length, n);
      const bytes = Buffer.byteLength(line);
      queue.push({ n, id: wire.id, lane: wire.lane, verdict: wire.verdict, reason: wire.reason, json, bytes, appendedAt });
      counters.spooled++;
      enforceBound();
      pump?.kick();
    },

    stats() {
      const problems: string[] = [];
      if (eviction?.policy) problems.push(`REDIS_EVICTION_POLICY:${eviction.policy}`);
      if (lease?.conflict) problems.push("GATEWAY_ID_CONFLICT");
      const f = pump?.counts ?? { forwarded: 0, alreadyForwarded: 0, skippedIds: 0, reusedPositions: 0, markerResets: 0, redisRollbacks: 0 };
      return {
        spooled: counters.spooled,
        forwarded: f.forwarded,
        alreadyForwarded: f.alreadyForwarded,
        skippedIds: f.skippedIds,
        reusedPositions: f.reusedPositions,
        markerResets: f.markerResets,
        redisRollbacks: f.redisRollbacks,
        dropped: counters.dropped,
        duplicates: counters.duplicates,
        pendingBytes: queue.bytes,
        redisUp: (pump?.redisUp ?? false) && redis?.status === "ready",
        ...(pump?.blockedBy ? { forwardBlocked: pump.blockedBy } : {}),
        pending: queue.length,
        problems,
        ...disk.errors,
        degraded: disk.degraded,
        ...disk.recovery,
      };
    },

    /** Resolves when every spooled event is in the stream, or at once while Redis is unreachable. */
    flush() {
      if (!redis || !pump || closed || (queue.length === 0 && queue.inflight === 0) || (!pump.redisUp && redis.status !== "ready")) {
        disk.syncNow();
        return Promise.resolve();
      }
      return pump.drained();
    },

    async close() {
      if (closed) return;
      closed = true;
      redis?.off("ready", onReady);
      await pump?.stop();
      disk.stopTimer();
      lease?.stop();
      await lease?.release();
      disk.close();
      pump?.releaseWaiters();
    },
  };
}
