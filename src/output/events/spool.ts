import type { Cluster, Redis } from "ioredis";
import type { Logger } from "../../core/logger.js";
import type { VerdictEvent } from "../../core/types.js";
import { systemClock, type Clock, type TimerHandle } from "../../core/clock.js";
import { toWireEvent } from "./wire.js";
import { headerLine, loadSpool, recordLine, SpoolFile, writeState, type SpoolRecord, type SpoolState } from "./spool-file.js";
import { randomBytes } from "node:crypto";
import { forwardBatch, markerKey } from "./forward.js";
import { evictionHazard, maxmemoryPolicies, ownerKey, releaseLease, renewLease } from "./redis-guards.js";

export type FsyncPolicy = "always" | "interval" | "never";

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
  /** Resent records the stream already had (the position marker skipped them): a lost reply, a crash. */
  alreadyForwarded: number;
  /** Records NOT added because their event id was forwarded before under another position (a reused id). */
  skippedIds: number;
  pendingBytes: number;
  dropped: number;
  redisUp: boolean;
  pending: number;
  duplicates: number;
  /**
   * Why exactly-once cannot be promised right now: `REDIS_EVICTION_POLICY` (the marker can be evicted
   * while the stream stays), `GATEWAY_ID_CONFLICT` (another live process forwards for this gateway id;
   * this one holds its events in the spool meanwhile). Empty when all is well.
   */
  problems: string[];
}

export interface EventSpool {
  append(ev: VerdictEvent): void;
  start(): Promise<void>;
  stats(): SpoolStats;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const RECENT_IDS = 4096;
const BACKOFF_MS = [250, 500, 1000, 2000, 5000];

/**
 * Local spool first, Redis Stream second: `append` writes the event to disk synchronously
 * (fsync per policy) and returns; a single pump forwards pending records in order with an
 * idempotent script (see forward.ts), so the stream gets each event exactly once.
 */
export function createEventSpool(opts: EventSpoolOptions): EventSpool {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger.child({ module: "events.spool" });
  const batchMax = opts.batchMaxRecords ?? 500;
  const commandTimeoutMs = opts.commandTimeoutMs ?? 10_000;
  const fsyncIntervalMs = opts.fsyncIntervalMs ?? 1000;
  const compactBytes = opts.compactBytes ?? 1 << 20;
  const redis = opts.redis;

  let state: SpoolState = { epoch: "", doneN: 0 };
  let file: SpoolFile | undefined;
  let pending: SpoolRecord[] = [];
  let pendingBytes = 0;
  let nextN = 1;
  let inflight = 0;
  let started = false;
  let closed = false;
  let pump: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let marker = "";
  let stateDirty = false;
  let fsyncTimer: TimerHandle | undefined;
  let dirtyData = false;
  let failures = 0;
  let redisUp = false;
  let downLogged = false;
  let diskFailed = false;
  let fullSince: number | undefined;
  let droppedSinceAlert = 0;
  const recent = new Set<string>();
  const recentOrder: string[] = [];
  const counters = { spooled: 0, forwarded: 0, alreadyForwarded: 0, skippedIds: 0, dropped: 0, duplicates: 0 };
  const leaseTtlMs = opts.leaseTtlMs ?? 15_000;
  const instance = randomBytes(8).toString("hex");
  const owner = redis ? ownerKey(opts.stream, opts.gatewayId ?? "gw") : "";
  let leaseFreshUntil = 0;
  let leaseTimer: TimerHandle | undefined;
  let conflictHolder: string | undefined;
  let conflictLoggedAt: number | undefined;
  let evictionPolicy: string | undefined;
  const flushWaiters: Array<() => void> = [];
  const onReady = () => {
    leaseFreshUntil = 0;
    void checkEvictionPolicy();
    wake?.();
  };

  /** Warns loudly (and reports a problem) when Redis could evict the marker but keep the stream. */
  async function checkEvictionPolicy(): Promise<void> {
    if (!redis || closed) return;
    try {
      const policies = await withTimeout(maxmemoryPolicies(redis), commandTimeoutMs);
      const bad = policies.find(evictionHazard);
      if (bad && bad !== evictionPolicy) {
        log.error(
          { code: "GW_REDIS_EVICTION_POLICY", maxmemoryPolicy: bad },
          "redis maxmemory-policy can evict the spool's position marker while the stream stays: resent events may be duplicated in the stream; set maxmemory-policy noeviction",
        );
      }
      evictionPolicy = bad;
    } catch (e) {
      log.warn({ err: (e as Error).message }, "could not read redis maxmemory-policy (INFO memory); the eviction check is skipped");
    }
  }

  /**
   * True while this process holds the owner lease for (stream, gateway id). Renewed at most every
   * third of its TTL; a holder that is another instance means two live gateways share one id.
   */
  async function ensureLease(force = false): Promise<boolean> {
    if (!redis) return false;
    const now = clock.monotonic();
    if (!force && conflictHolder === undefined && now < leaseFreshUntil) return true;
    const holder = await withTimeout(renewLease(redis, owner, instance, leaseTtlMs), commandTimeoutMs);
    if (holder === instance) {
      if (conflictHolder !== undefined) log.warn({ gatewayId: opts.gatewayId, stream: opts.stream }, "gateway id lease acquired: forwarding resumes");
      conflictHolder = undefined;
      leaseFreshUntil = now + leaseTtlMs / 3;
      return true;
    }
    if (conflictHolder === undefined || conflictLoggedAt === undefined || now - conflictLoggedAt >= 60_000) {
      log.error(
        { code: "GW_GATEWAY_ID_CONFLICT", gatewayId: opts.gatewayId, stream: opts.stream, pending: pending.length },
        "another live gateway process uses this gateway.id on this stream: events stay in the local spool until its lease expires; give every gateway its own id",
      );
      conflictLoggedAt = now;
    }
    conflictHolder = holder;
    return false;
  }

  function scheduleLeaseRenewal(): void {
    if (closed || !redis) return;
    leaseTimer = clock.setTimeout(() => {
      leaseTimer = undefined;
      const run = redis.status === "ready" ? ensureLease(true) : Promise.resolve(false);
      run
        .then((held) => {
          if (held && pending.length > 0) kick();
        })
        .catch((e: unknown) => log.debug({ err: (e as Error).message }, "lease renewal failed (redis down?)"))
        .finally(scheduleLeaseRenewal);
    }, leaseTtlMs / 3);
  }

  function saveState(sync: boolean): void {
    writeState(opts.dir, state, sync);
    stateDirty = false;
  }

  function scheduleFsync(): void {
    if (fsyncTimer || closed) return;
    fsyncTimer = clock.setTimeout(() => {
      fsyncTimer = undefined;
      try {
        if (dirtyData) file?.fsync();
        dirtyData = false;
        if (stateDirty) saveState(opts.fsync !== "never");
      } catch (e) {
        log.error({ err: e }, "spool fsync failed");
      }
    }, fsyncIntervalMs);
  }

  /** Oldest-first drop beyond the bound, never inside the batch Redis is working on. */
  function enforceBound(): void {
    if (inflight > 0) return;
    let dropped = 0;
    while (pendingBytes > opts.maxBytes && pending.length > 0) {
      const r = pending.shift()!;
      pendingBytes -= r.bytes;
      state.doneN = r.n;
      dropped++;
    }
    if (dropped === 0) return;
    counters.dropped += dropped;
    droppedSinceAlert += dropped;
    stateDirty = true;
    scheduleFsync();
    const now = clock.monotonic();
    // Loud but not a log flood: the first drop of an episode, then at most every 10 s.
    if (fullSince === undefined || now - fullSince >= 10_000) {
      log.error(
        { code: "GW_SPOOL_FULL", dropped: droppedSinceAlert, droppedTotal: counters.dropped, maxBytes: opts.maxBytes, pending: pending.length },
        "event spool full: dropping the oldest events",
      );
      fullSince = now;
      droppedSinceAlert = 0;
    }
  }

  /** `force`: Redis is down, so waiting would hang a shutdown; the events stay on disk. */
  function resolveFlushWaiters(force = false): void {
    if (!force && (pending.length > 0 || inflight > 0)) return;
    for (const w of flushWaiters.splice(0)) w();
  }

  /**
   * Forwarded records are cut from the file only once it has grown past `compactBytes`, so the
   * state write (fsynced: it must reach disk before records vanish, or positions could be reused
   * after a power loss) happens every few thousand events, not per batch.
   */
  function compact(): void {
    if (!file || file.size < compactBytes) return;
    if (pending.length > 0 && file.size < pendingBytes * 2) return;
    saveState(opts.fsync !== "never");
    file.rewrite(pending.map((r) => recordLine(r.n, r.json)));
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = clock.setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clock.clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });
  }

  function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = clock.setTimeout(() => reject(new Error(`redis command timed out after ${ms} ms`)), ms);
      p.then(
        (v) => {
          clock.clearTimeout(t);
          resolve(v);
        },
        (e: unknown) => {
          clock.clearTimeout(t);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  async function runPump(): Promise<void> {
    if (!redis) return;
    while (!closed && pending.length > 0) {
      if (redis.status !== "ready") {
        redisUp = false;
        if (!downLogged) {
          downLogged = true;
          log.warn({ code: "GW_REDIS_UNAVAILABLE", status: redis.status, pending: pending.length }, "redis unavailable: spooling events locally");
        }
        resolveFlushWaiters(true);
        await sleep(1000);
        continue;
      }
      const batch = pending.slice(0, batchMax);
      inflight = batch.length;
      try {
        if (!(await ensureLease())) {
          // Another process forwards for this gateway id: keep our events local, loudly (see ensureLease).
          inflight = 0;
          redisUp = true;
          resolveFlushWaiters(true);
          enforceBound();
          await sleep(Math.min(5000, leaseTtlMs / 3));
          continue;
        }
        const res = await withTimeout(forwardBatch(redis, { stream: opts.stream, marker }, batch, { markerTtlS: 30 * 86400, maxLen: opts.maxLen ?? 0 }), commandTimeoutMs);
        pending.splice(0, batch.length);
        for (const r of batch) pendingBytes -= r.bytes;
        state.doneN = Math.max(state.doneN, batch[batch.length - 1]!.n);
        counters.forwarded += res.added;
        counters.skippedIds += res.skippedIds.length;
        counters.alreadyForwarded += batch.length - res.added - res.skippedIds.length;
        if (res.skippedIds.length > 0) {
          log.warn(
            { code: "GW_EVENTS_ID_SKIPPED", skipped: res.skippedIds.length, skippedTotal: counters.skippedIds, ids: res.skippedIds.slice(0, 20) },
            "events not added to the stream: their event ids were already forwarded by this spool (an id was handed out twice)",
          );
        }
        if (downLogged) log.info({ pending: pending.length, forwarded: counters.forwarded }, "redis reachable again: spooled events forwarded");
        downLogged = false;
        redisUp = true;
        failures = 0;
        inflight = 0;
        // The marker in Redis already covers these; the local state only saves resending them.
        stateDirty = true;
        scheduleFsync();
        try {
          compact();
        } catch (e) {
          log.error({ err: e }, "spool compaction failed; the file keeps forwarded records until the next try");
        }
        opts.onForwarded?.(batch);
      } catch (e) {
        inflight = 0;
        if (!downLogged) {
          downLogged = true;
          log.warn({ code: "GW_REDIS_UNAVAILABLE", err: (e as Error).message, pending: pending.length }, "forwarding to redis failed: spooling events locally");
        }
        redisUp = false;
        resolveFlushWaiters(true);
        const delay = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)]!;
        failures++;
        enforceBound();
        await sleep(delay);
      }
      enforceBound();
    }
  }

  function kick(): void {
    if (!started || closed || !redis || pump) return;
    pump = runPump()
      .catch((e: unknown) => log.error({ err: e }, "spool pump stopped unexpectedly"))
      .finally(() => {
        pump = undefined;
        resolveFlushWaiters();
        if (!closed && pending.length > 0) kick();
      });
  }

  return {
    async start() {
      if (started) return;
      const loaded = loadSpool(opts.dir, clock.monotonic());
      state = loaded.state;
      pending = loaded.pending;
      pendingBytes = pending.reduce((a, r) => a + r.bytes, 0);
      nextN = loaded.nextN;
      if (loaded.badLines) log.warn({ badLines: loaded.badLines }, "spool had unreadable lines (torn write at a crash); they were skipped");
      if (loaded.stateLost) log.warn({ pending: pending.length }, "spool state file and header missing: pending events are resent under a new epoch (the stream may get duplicates; consumers dedupe by id)");
      if (loaded.stateRecovered) log.warn({ pending: pending.length, epoch: loaded.state.epoch }, "spool state file missing: epoch and position floor recovered from the spool file's header");
      marker = markerKey(opts.stream, opts.gatewayId ?? "gw", state.epoch);
      saveState(true);
      file = new SpoolFile(opts.dir, () => headerLine(state));
      file.rewrite(pending.map((r) => recordLine(r.n, r.json)));
      started = true;
      redisUp = redis?.status === "ready";
      redis?.on("ready", onReady);
      if (!redis) log.info("no redis configured: verdict events are not spooled for a stream");
      if (redis?.status === "ready") {
        await checkEvictionPolicy();
        await ensureLease(true).catch((e: unknown) => log.warn({ err: (e as Error).message }, "gateway id lease not taken yet"));
      }
      scheduleLeaseRenewal();
      enforceBound();
      kick();
    },

    append(ev) {
      if (!started || closed || !redis || !file) {
        if (closed || started) return;
        throw new Error("event spool: append() before start()");
      }
      const appendedAt = clock.monotonic();
      const wire = toWireEvent(ev);
      if (recent.has(wire.id)) {
        counters.duplicates++;
        return;
      }
      recent.add(wire.id);
      recentOrder.push(wire.id);
      if (recentOrder.length > RECENT_IDS) recent.delete(recentOrder.shift()!);
      const json = JSON.stringify(wire);
      const n = nextN++;
      const line = recordLine(n, json);
      try {
        file.append(line);
        if (opts.fsync === "always") file.fsync();
        else if (opts.fsync === "interval") {
          dirtyData = true;
          scheduleFsync();
        }
        diskFailed = false;
      } catch (e) {
        // A full or failing disk must not cost the event: it is still forwarded from memory.
        if (!diskFailed) log.error({ err: (e as Error).message, pending: pending.length }, "spool write failed: events kept in memory only until the disk recovers");
        diskFailed = true;
      }
      const bytes = Buffer.byteLength(line);
      pending.push({ n, id: wire.id, lane: wire.lane, verdict: wire.verdict, reason: wire.reason, json, bytes, appendedAt });
      pendingBytes += bytes;
      counters.spooled++;
      enforceBound();
      kick();
    },

    stats() {
      const problems: string[] = [];
      if (evictionPolicy) problems.push(`REDIS_EVICTION_POLICY:${evictionPolicy}`);
      if (conflictHolder !== undefined) problems.push("GATEWAY_ID_CONFLICT");
      return { ...counters, pendingBytes, redisUp: redisUp && redis?.status === "ready", pending: pending.length, problems };
    },

    /** Resolves when every spooled event is in the stream, or at once while Redis is unreachable. */
    flush() {
      if (!redis || closed || (pending.length === 0 && inflight === 0) || (!redisUp && redis.status !== "ready")) {
        try {
          file?.fsync();
        } catch (e) {
          log.error({ err: (e as Error).message }, "spool fsync failed");
        }
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => flushWaiters.push(resolve));
    },

    async close() {
      if (closed) return;
      closed = true;
      redis?.off("ready", onReady);
      wake?.();
      if (pump) await pump;
      if (fsyncTimer) clock.clearTimeout(fsyncTimer);
      if (leaseTimer) clock.clearTimeout(leaseTimer);
      // A clean stop frees the id at once, so a restart forwards without waiting out the TTL.
      if (redis?.status === "ready" && conflictHolder === undefined && leaseFreshUntil > 0) {
        await withTimeout(releaseLease(redis, owner, instance), 2000).catch((e: unknown) => log.debug({ err: (e as Error).message }, "lease release failed"));
      }
      if (file) {
        saveState(true);
        file.close();
      }
      for (const w of flushWaiters.splice(0)) w();
    },
  };
}
