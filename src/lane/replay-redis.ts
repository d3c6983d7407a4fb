import { randomUUID } from "node:crypto";
import type { Logger } from "../core/logger.js";
import { LocalReplayGuard, type ReplayClaim, type ResizableReplayGuard } from "./replay-guard.js";

/** The few commands of ioredis the guard uses (a seam for tests). */
export interface RedisLike {
  set(key: string, value: string, px: "PX", ms: number, nx: "NX"): Promise<"OK" | null>;
  get(key: string): Promise<string | null>;
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
  readonly status?: string;
}

export interface RedisReplayGuardOptions {
  redis: RedisLike;
  keyPrefix: string;
  windowMs: number;
  local: LocalReplayGuard;
  logger: Logger;
  /** A command slower than this counts as Redis being down for this claim. */
  timeoutMs?: number;
}

/** Deletes the key only while it still holds this claim's value: never another gateway's or a later claim. */
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

/** The lane in a stored claim value `lane:token` (a bare lane from gateways that stored only that). */
function holderLane(value: string): string {
  const i = value.lastIndexOf(":");
  return i < 0 ? value : value.slice(0, i);
}

/**
 * Shared replay guard across gateways: `SET prefix:replay:HASH lane:token PX window NX` makes the
 * first use win atomically (the token, unique per claim, lets this gateway give back a claim it
 * did not use, and only that one). When Redis is unreachable the in-process guard answers (logged
 * once per outage, never thrown): a checkpoint keeps working, only cross-gateway replays
 * are missed meanwhile. Redis is a cache, never the authority: what this gateway saw itself
 * (its own claims and those Redis told it of) is asked first, so a Redis that lost the key (a
 * restart without persistence, an eviction, FLUSHALL, a writer deleting it) cannot make a replay
 * at this gateway look like a first use.
 */
export class RedisReplayGuard implements ResizableReplayGuard {
  private down = false;
  private windowMs: number;

  constructor(private readonly o: RedisReplayGuardOptions) {
    this.windowMs = o.windowMs;
  }

  /**
   * New claims get the new window; the claims this gateway holds get it too (LocalReplayGuard).
   * Keys already in Redis keep the expiry they were set with.
   */
  setWindowMs(windowMs: number): void {
    this.windowMs = windowMs;
    this.o.local.setWindowMs(windowMs);
  }

  /** True from a failed or slow Redis command until one succeeds again: claims are checked in-process only. */
  get degraded(): boolean {
    return this.down;
  }

  async claim(credentialHash: string, lane: string): Promise<ReplayClaim> {
    if (this.windowMs <= 0) return { replayed: false };
    const seen = this.o.local.holder(credentialHash);
    if (seen !== undefined) return { replayed: true, firstLane: seen };
    const key = this.key(credentialHash);
    const token = randomUUID();
    try {
      const set = await withTimeout(this.o.redis.set(key, `${lane}:${token}`, "PX", this.windowMs, "NX"), this.o.timeoutMs ?? 250);
      this.up();
      if (set === "OK") {
        this.o.local.remember(credentialHash, lane, token);
        return { replayed: false };
      }
      const value = await withTimeout(this.o.redis.get(key), this.o.timeoutMs ?? 250).catch(() => null);
      const holder = value === null ? undefined : holderLane(value);
      this.o.local.remember(credentialHash, holder ?? lane);
      return holder ? { replayed: true, firstLane: holder } : { replayed: true };
    } catch (e) {
      this.markDown(e);
      // Same token: a SET that timed out may still have landed, and a release must remove it too.
      return { ...this.o.local.claimSync(credentialHash, lane, token), degraded: true };
    }
  }

  /**
   * Local first (a claim right after, on this gateway, goes to Redis, where the delete is queued
   * ahead of it on the same connection), then compare-and-delete in Redis. When Redis cannot be
   * told, the local claim is put back and this rejects: the claim stands, nothing passes because of it.
   */
  async release(credentialHash: string, lane: string): Promise<void> {
    const own = this.o.local.takeOwn(credentialHash, lane);
    if (own === undefined) return;
    try {
      await withTimeout(this.o.redis.eval(RELEASE, 1, this.key(credentialHash), `${lane}:${own.token}`), this.o.timeoutMs ?? 250);
      this.up();
    } catch (e) {
      this.o.local.restore(credentialHash, own);
      this.markDown(e);
      throw e;
    }
  }

  private key(credentialHash: string): string {
    return `${this.o.keyPrefix}replay:${credentialHash}`;
  }

  private markDown(e: unknown): void {
    if (this.down) return;
    this.down = true;
    this.o.logger.warn({ code: "GW_REDIS_UNAVAILABLE", err: (e as Error).message }, "replay guard: Redis unreachable, using in-process guard");
  }

  private up(): void {
    if (this.down) {
      this.down = false;
      this.o.logger.info({ code: "GW_REDIS_UNAVAILABLE" }, "replay guard: Redis reachable again");
    }
  }

  close(): Promise<void> {
    return this.o.local.close();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`redis command timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
