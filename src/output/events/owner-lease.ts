import type { Cluster, Redis } from "ioredis";
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { releaseLease, renewLease } from "./redis-guards.js";
import { withTimeout } from "./timers.js";

export interface OwnerLeaseOptions {
  redis: Redis | Cluster;
  clock: Clock;
  log: Logger;
  /** ownerKey(stream, gateway id). */
  key: string;
  /** This process's random instance id (the lease's value). */
  instance: string;
  ttlMs: number;
  commandTimeoutMs: number;
  /** For the conflict log only. */
  gatewayId: string | undefined;
  stream: string;
  /** Events held locally right now (for the conflict log). */
  pending: () => number;
  /** A timed renewal found the lease held by us (forwarding may go on). */
  onHeld: () => void;
}

const CONFLICT_LOG_EVERY_MS = 60_000;

/**
 * The owner lease for (stream, gateway id) as one process sees it (see redis-guards.ts for why it
 * exists): whether we hold it, whether another live instance does (a conflict), a timer that renews
 * it every third of its TTL, and its release at a clean stop.
 */
export class OwnerLease {
  private freshUntil = 0;
  private timer: TimerHandle | undefined;
  private holder: string | undefined;
  private conflictLoggedAt: number | undefined;
  private stopped = false;

  constructor(private readonly o: OwnerLeaseOptions) {}

  /** Another live instance holds the lease: this one must not forward. */
  get conflict(): boolean {
    return this.holder !== undefined;
  }

  /**
   * True while this process holds the lease. Asks Redis at most every third of the TTL unless
   * `force`d or in conflict (then every call, so forwarding resumes as soon as the other lets go).
   */
  async ensure(force = false): Promise<boolean> {
    const o = this.o;
    const now = o.clock.monotonic();
    if (!force && this.holder === undefined && now < this.freshUntil) return true;
    const holder = await withTimeout(o.clock, renewLease(o.redis, o.key, o.instance, o.ttlMs), o.commandTimeoutMs);
    if (holder === o.instance) {
      if (this.holder !== undefined) o.log.warn({ gatewayId: o.gatewayId, stream: o.stream }, "gateway id lease acquired: forwarding resumes");
      this.holder = undefined;
      this.freshUntil = now + o.ttlMs / 3;
      return true;
    }
    // Loud at the start of a conflict, then once a minute: a log flood would hide everything else.
    if (this.holder === undefined || this.conflictLoggedAt === undefined || now - this.conflictLoggedAt >= CONFLICT_LOG_EVERY_MS) {
      o.log.error(
        { code: "GW_GATEWAY_ID_CONFLICT", gatewayId: o.gatewayId, stream: o.stream, pending: o.pending() },
        "another live gateway process uses this gateway.id on this stream: events stay in the local spool until its lease expires; give every gateway its own id",
      );
      this.conflictLoggedAt = now;
    }
    this.holder = holder;
    return false;
  }

  /** The client reconnected: ask Redis before the next forward (the key may have expired meanwhile). */
  invalidate(): void {
    this.freshUntil = 0;
  }

  /** Renews every third of the TTL, also while idle, so the lease never lapses between verdicts. */
  startRenewal(): void {
    if (this.stopped) return;
    const o = this.o;
    this.timer = o.clock.setTimeout(() => {
      this.timer = undefined;
      const run = o.redis.status === "ready" ? this.ensure(true) : Promise.resolve(false);
      run
        .then((held) => {
          if (held) o.onHeld();
        })
        .catch((e: unknown) => o.log.debug({ err: (e as Error).message }, "lease renewal failed (redis down?)"))
        .finally(() => this.startRenewal());
    }, o.ttlMs / 3);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A clean stop frees the id at once, so a restart forwards without waiting out the TTL. */
  async release(): Promise<void> {
    const o = this.o;
    if (o.redis.status !== "ready" || this.holder !== undefined || this.freshUntil <= 0) return;
    await withTimeout(o.clock, releaseLease(o.redis, o.key, o.instance), 2000).catch((e: unknown) => o.log.debug({ err: (e as Error).message }, "lease release failed"));
  }
}
