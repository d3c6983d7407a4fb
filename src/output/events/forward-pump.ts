import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { RedisWrongTypeError, type ForwardResult } from "./forward.js";
import type { PendingQueue } from "./pending-queue.js";
import type { SpoolRecord } from "./spool-file.js";
import { WakeableSleep } from "./timers.js";

export interface ForwardPumpOptions {
  /** The Redis client; only its connection status is read here. */
  redis: { readonly status: string };
  clock: Clock;
  log: Logger;
  queue: PendingQueue;
  batchMax: number;
  /** How long to hold events while another instance owns the gateway id. */
  conflictPauseMs: number;
  /** False while another instance holds the owner lease; may throw (Redis down). */
  holdsLease(): Promise<boolean>;
  /** The forward script call for one batch, with its command timeout. */
  forward(batch: readonly SpoolRecord[]): Promise<ForwardResult>;
  /** Applies the spool bound (drops the oldest when full); the pump calls it after every attempt. */
  enforceBound(): void;
  /** The batch is in the stream (or was already) and has left the queue. */
  forwarded(batch: readonly SpoolRecord[]): void;
  /**
   * Redis lost positions it had acknowledged and now reaches only `reach` (the batch was not added):
   * put back what the spool still holds after it, at the queue's front, and report the rest. It must
   * stop asking about the lost positions, or every call answers the same.
   */
  rolledBack(reach: number, rollbacks: number): void;
}

/** Retry delays after consecutive forward failures; the last one repeats. */
export const BACKOFF_MS = [250, 500, 1000, 2000, 5000] as const;

export function backoffMs(failures: number): number {
  return BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)]!;
}

/**
 * The single forwarder: takes batches from the front of the queue, in order, and hands them to the
 * forward script, one call at a time (a second concurrent call could reorder the stream). While
 * Redis is down it waits (backoff, or the client's `ready` via `wake`), logs one warning per outage
 * and releases flush() callers at once: events stay on disk, and a shutdown must not hang.
 */
export class ForwardPump {
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private failures = 0;
  private downLogged = false;
  /** The wrong-type key last reported (`key type`): one error per key until forwarding works again. */
  private wrongTypeLogged: string | undefined;
  private up = false;
  private readonly waiters: Array<() => void> = [];
  private readonly pause: WakeableSleep;
  /**
   * `forwarded`: entries this process added; `alreadyForwarded`: resent ones the stream had;
   * `skippedIds`: reused ids refused; `reusedPositions`: added at or below the marker (part of
   * `forwarded`); `markerResets`: markers found damaged and reset; `redisRollbacks`: times Redis
   * no longer had what it had acknowledged.
   */
  readonly counts = { forwarded: 0, alreadyForwarded: 0, skippedIds: 0, reusedPositions: 0, markerResets: 0, redisRollbacks: 0 };

  constructor(private readonly o: ForwardPumpOptions) {
    this.pause = new WakeableSleep(o.clock);
  }

  /** The last forward attempt got its batch through to Redis (or, before any, the client was ready at open): false while Redis is down or a key of the wrong type refuses every batch. */
  get redisUp(): boolean {
    return this.up;
  }

  /**
   * Why forwarding is held while Redis answers: `wrongtype` from a batch refused for a stream or id set
   * of another Redis type until one goes through (for /metrics: only a person can fix the key).
   */
  get blockedBy(): "wrongtype" | undefined {
    return this.wrongTypeLogged !== undefined ? "wrongtype" : undefined;
  }

  /** Allows kicks from now on. */
  open(): void {
    this.started = true;
    this.up = this.o.redis.status === "ready";
  }

  /** Starts forwarding unless the pump already runs. */
  kick(): void {
    if (!this.started || this.stopped || this.running) return;
    this.running = this.run()
      .catch((e: unknown) => this.o.log.error({ err: e }, "spool pump stopped unexpectedly"))
      .finally(() => {
        this.running = undefined;
        this.resolveWaiters();
        if (!this.stopped && this.o.queue.length > 0) this.kick();
      });
  }

  /** Ends a retry pause now (the client is ready again, or the spool closes). */
  wake(): void {
    this.pause.wake();
  }

  /** Resolves when the queue is empty, or when Redis turns out to be unreachable. */
  drained(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Stops after the batch in flight (if any) has its answer. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pause.wake();
    if (this.running) await this.running;
  }

  /** Releases every drained() caller, whatever is left. */
  releaseWaiters(): void {
    this.resolveWaiters(true);
  }

  /** `force`: Redis is down, so waiting would hang a shutdown; the events stay on disk. */
  private resolveWaiters(force = false): void {
    if (!force && (this.o.queue.length > 0 || this.o.queue.inflight > 0)) return;
    for (const w of this.waiters.splice(0)) w();
  }

  private async run(): Promise<void> {
    const { redis, log, queue } = this.o;
    while (!this.stopped && queue.length > 0) {
      if (redis.status !== "ready") {
        this.up = false;
        if (!this.downLogged) {
          this.downLogged = true;
          log.warn({ code: "GW_REDIS_UNAVAILABLE", status: redis.status, pending: queue.length }, "redis unavailable: spooling events locally");
        }
        this.resolveWaiters(true);
        await this.pause.sleep(1000);
        continue;
      }
      const batch = queue.take(this.o.batchMax);
      try {
        if (!(await this.o.holdsLease())) {
          // Another process forwards for this gateway id: keep our events local (the lease logs it).
          queue.release();
          this.up = true;
          this.resolveWaiters(true);
          this.o.enforceBound();
          await this.pause.sleep(this.o.conflictPauseMs);
          continue;
        }
        const res = await this.o.forward(batch);
        if (res.rolledBack !== undefined) {
          // Nothing of the batch went in: what Redis lost goes first, so the stream keeps position order.
          queue.release();
          this.countMarkerReset(res);
          this.counts.redisRollbacks++;
          this.o.rolledBack(res.rolledBack, this.counts.redisRollbacks);
          this.up = true;
          this.failures = 0;
          this.o.enforceBound();
          continue;
        }
        queue.ack(batch.length);
        this.count(batch.length, res);
        if (this.downLogged) log.info({ pending: queue.length, forwarded: this.counts.forwarded }, "redis reachable again: spooled events forwarded");
        if (this.wrongTypeLogged) log.info({ pending: queue.length, forwarded: this.counts.forwarded }, "redis key of the wrong type fixed: spooled events forwarded");
        this.downLogged = false;
        this.wrongTypeLogged = undefined;
        this.up = true;
        this.failures = 0;
        this.o.forwarded(batch);
      } catch (e) {
        queue.release();
        if (e instanceof RedisWrongTypeError) this.wrongType(e);
        else if (!this.downLogged) {
          this.downLogged = true;
          log.warn({ code: "GW_REDIS_UNAVAILABLE", err: (e as Error).message, pending: queue.length }, "forwarding to redis failed: spooling events locally");
        }
        // Also for a wrong-type key: Redis answers, but nothing reaches the stream.
        this.up = false;
        this.resolveWaiters(true);
        const delay = backoffMs(this.failures);
        this.failures++;
        this.o.enforceBound();
        await this.pause.sleep(delay);
      }
      this.o.enforceBound();
    }
  }

  /**
   * Redis answers but refuses every batch until a person fixes the key: said once per key as what it
   * is, not as an outage, and retried with the same backoff (the spool bound still applies).
   */
  private wrongType(e: RedisWrongTypeError): void {
    if (this.wrongTypeLogged === `${e.key} ${e.type}`) return;
    this.wrongTypeLogged = `${e.key} ${e.type}`;
    this.o.log.error({ code: e.code, key: e.key, type: e.type, pending: this.o.queue.length }, `${e.message}: events are kept in the spool (bounded) and forwarding is retried until the key is deleted or renamed`);
  }

  /** The script's count, not the batch size: resent records the stream already had are not "forwarded". */
  private count(batchLen: number, res: ForwardResult): void {
    const c = this.counts;
    c.forwarded += res.added;
    c.skippedIds += res.skippedIds.length;
    c.alreadyForwarded += batchLen - res.added - res.skippedIds.length;
    c.reusedPositions += res.reused.length;
    this.countMarkerReset(res);
    if (res.reused.length > 0) {
      // Nothing is lost here, but it shows that the spool's positions went back (a power cut within
      // the fsync interval, a restored spool), or that the marker was moved or the id set lost in Redis.
      this.o.log.warn(
        { code: "GW_EVENTS_MARKER_AHEAD", added: res.reused.length, reusedTotal: c.reusedPositions, records: res.reused.slice(0, 20) },
        "events at or below the forward marker whose ids the id set did not hold were added (spool positions reused, or the marker moved or the id set was lost in Redis)",
      );
    }
    if (res.skippedIds.length > 0) {
      this.o.log.warn(
        { code: "GW_EVENTS_ID_SKIPPED", skipped: res.skippedIds.length, skippedTotal: c.skippedIds, ids: res.skippedIds.slice(0, 20) },
        "events not added to the stream: their event ids were already forwarded by this spool (an id was handed out twice)",
      );
    }
  }

  private countMarkerReset(res: ForwardResult): void {
    if (res.markerReplaced !== undefined) {
      this.counts.markerResets++;
      this.o.log.error(
        { code: "GW_EVENTS_REDIS_WRONGTYPE", key: res.markerReplaced.key, type: res.markerReplaced.type, markerResets: this.counts.markerResets },
        "the spool's forward marker key in Redis held another type (changed outside the gateway): deleted and written anew from the id set and the last acknowledged position; a resend is skipped only while the id set still holds its id",
      );
    }
    if (res.markerWas === undefined) return;
    const c = this.counts;
    c.markerResets++;
    this.o.log.error(
      { code: "GW_EVENTS_MARKER_AHEAD", markerWas: res.markerWas, markerResets: c.markerResets },
      "the spool's forward marker in Redis was no position or far above the ids it guards (changed outside the gateway): reset; events whose ids the stream lacks are added",
    );
  }
}
