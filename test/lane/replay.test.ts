import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { FakeClock } from "../../src/core/clock.js";
import { createLogger } from "../../src/core/logger.js";
import { LocalReplayGuard } from "../../src/lane/replay-guard.js";
import { RedisReplayGuard, type RedisLike } from "../../src/lane/replay-redis.js";
import { Writable } from "node:stream";
import { deleteKeysWith } from "../support/redis.js";

function collectingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger({ level: "info", destination }), lines };
}

describe("LocalReplayGuard", () => {
  it("first claim wins; the same hash within the window is replayed; after it, free again", async () => {
    const clock = new FakeClock();
    const g = new LocalReplayGuard(clock, 1000);
    expect(await g.claim("h1", "A")).toEqual({ replayed: false });
    expect(await g.claim("h1", "B")).toEqual({ replayed: true, firstLane: "A" });
    expect(await g.claim("h2", "B")).toEqual({ replayed: false });
    clock.advance(1000);
    expect(await g.claim("h1", "B")).toEqual({ replayed: false });
  });

  it("a zero window disables the guard", async () => {
    const g = new LocalReplayGuard(new FakeClock(), 0);
    await g.claim("h", "A");
    expect((await g.claim("h", "A")).replayed).toBe(false);
  });

  it("release gives back the lane's own claim only: another lane's, or one learnt from Redis, stays", async () => {
    const g = new LocalReplayGuard(new FakeClock(), 1000);
    await g.claim("h1", "A");
    await g.release("h1", "B");
    expect(await g.claim("h1", "B")).toEqual({ replayed: true, firstLane: "A" });
    await g.release("h1", "A");
    expect(await g.claim("h1", "B")).toEqual({ replayed: false });
    g.remember("h2", "A");
    await g.release("h2", "A");
    expect(await g.claim("h2", "B")).toEqual({ replayed: true, firstLane: "A" });
  });

  it("expired claims are swept so memory stays bounded", async () => {
    const clock = new FakeClock();
    const g = new LocalReplayGuard(clock, 100);
    for (let i = 0; i < 1000; i++) await g.claim(`h${i}`, "A");
    clock.advance(200);
    await g.claim("x", "A");
    expect(g.size).toBe(1);
  });
});

describe("RedisReplayGuard (real Redis on 127.0.0.1:6379)", () => {
  const prefix = `cpgw-test-${randomBytes(6).toString("hex")}:`;
  const redis = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  afterAll(async () => {
    await deleteKeysWith(redis, prefix);
    redis.disconnect();
  });

  it("shares claims between two gateways through SET NX PX", async () => {
    await redis.connect();
    const { logger } = collectingLogger();
    const mk = () => new RedisReplayGuard({ redis, keyPrefix: prefix, windowMs: 5000, local: new LocalReplayGuard(new FakeClock(), 5000), logger });
    const gw1 = mk();
    const gw2 = mk();
    expect(await gw1.claim("c1", "A")).toEqual({ replayed: false });
    expect(await gw2.claim("c1", "B")).toEqual({ replayed: true, firstLane: "A" });
    const ttl = await redis.pttl(`${prefix}replay:c1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);
    // Exactly one winner when two lanes claim at once.
    const both = await Promise.all([gw1.claim("c2", "A"), gw2.claim("c2", "B")]);
    expect(both.filter((c) => !c.replayed)).toHaveLength(1);
  });

  it("falls back to the in-process guard when Redis is down, logs once, never throws", async () => {
    const dead = new Redis({ host: "127.0.0.1", port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    dead.on("error", () => {});
    const { logger, lines } = collectingLogger();
    const g = new RedisReplayGuard({ redis: dead, keyPrefix: prefix, windowMs: 5000, local: new LocalReplayGuard(new FakeClock(), 5000), logger });
    expect(await g.claim("d1", "A")).toEqual({ replayed: false, degraded: true });
    // Known here: a certain replay, whatever Redis would say (so not a degraded answer).
    expect(await g.claim("d1", "B")).toEqual({ replayed: true, firstLane: "A" });
    expect(await g.claim("d2", "B")).toEqual({ replayed: false, degraded: true });
    await new Promise((r) => setTimeout(r, 20));
    expect(lines.filter((l) => l.includes("GW_REDIS_UNAVAILABLE"))).toHaveLength(1);
    dead.disconnect();
  });

  it("a Redis that lost the key (restart, eviction, FLUSHALL) cannot turn a replay at this gateway into a first use", async () => {
    const { logger } = collectingLogger();
    const g = new RedisReplayGuard({ redis, keyPrefix: prefix, windowMs: 5000, local: new LocalReplayGuard(new FakeClock(), 5000), logger });
    expect(await g.claim("f1", "A")).toEqual({ replayed: false });
    await redis.del(`${prefix}replay:f1`);
    // Same gateway, same or another lane: still a replay, by what it saw itself.
    expect(await g.claim("f1", "A")).toEqual({ replayed: true, firstLane: "A" });
    expect(await g.claim("f1", "B")).toEqual({ replayed: true, firstLane: "A" });
    // Another gateway only has Redis to ask: with the key gone it cannot know (the limit of a cache).
    const other = new RedisReplayGuard({ redis, keyPrefix: prefix, windowMs: 5000, local: new LocalReplayGuard(new FakeClock(), 5000), logger });
    expect(await other.claim("f1", "C")).toEqual({ replayed: false });
    // A claim this gateway learnt from Redis is kept the same way.
    await redis.del(`${prefix}replay:f1`);
    expect(await other.claim("f1", "C")).toEqual({ replayed: true, firstLane: "C" });
  });

  it("a second use after the window, claimed through Redis, is remembered with its own window: a key lost then cannot pass a replay", async () => {
    const clock = new FakeClock();
    const { logger } = collectingLogger();
    const g = new RedisReplayGuard({ redis, keyPrefix: prefix, windowMs: 5000, local: new LocalReplayGuard(clock, 5000), logger });
    expect(await g.claim("s1", "A")).toEqual({ replayed: false });
    // An hour later the first window is long over (Redis has expired its key): a genuine new use.
    clock.advance(3_600_000);
    await redis.del(`${prefix}replay:s1`);
    expect(await g.claim("s1", "A")).toEqual({ replayed: false });
    // Redis loses the new key a minute into the new window: the gateway still knows.
    clock.advance(1000);
    await redis.del(`${prefix}replay:s1`);
    expect(await g.claim("s1", "B")).toEqual({ replayed: true, firstLane: "A" });
  });

  it("claims learnt from a healthy Redis are swept when their window ends, so memory stays bounded", async () => {
    const clock = new FakeClock();
    const local = new LocalReplayGuard(clock, 1000);
    const fake: RedisLike = { set: () => Promise.resolve("OK"), get: () => Promise.resolve(null), eval: () => Promise.resolve(0) };
    const g = new RedisReplayGuard({ redis: fake, keyPrefix: "t:", windowMs: 1000, local, logger: collectingLogger().logger });
    for (let i = 0; i < 2000; i++) {
      await g.claim(`m${i}`, "A");
      clock.advance(10);
    }
    clock.advance(2000);
    await g.claim("last", "A");
    expect(local.size).toBe(1);
  });

  it("release compare-and-deletes: the gateway's own unused claim goes, another gateway's or a later claim stays", async () => {
    const { logger } = collectingLogger();
    const mk = () => new RedisReplayGuard({ redis, keyPrefix: prefix, windowMs: 5000, local: new LocalReplayGuard(new FakeClock(), 5000), logger });
    const gw1 = mk();
    const gw2 = mk();
    const key = `${prefix}replay:r1`;
    expect(await gw1.claim("r1", "A")).toEqual({ replayed: false });
    expect(await redis.get(key)).toMatch(/^A:[0-9a-f-]{36}$/);
    // Another gateway's lane A cannot release it: it made no claim.
    await gw2.release("r1", "A");
    expect(await redis.exists(key)).toBe(1);
    await gw1.release("r1", "A");
    expect(await redis.exists(key)).toBe(0);
    expect(await gw2.claim("r1", "B")).toEqual({ replayed: false });
    expect(await gw1.claim("r1", "A")).toEqual({ replayed: true, firstLane: "B" });
    // A claim that expired in Redis and was made again elsewhere is not removed by a late release of the first.
    expect(await gw1.claim("r2", "A")).toEqual({ replayed: false });
    await redis.set(`${prefix}replay:r2`, "C:another-claim", "PX", 5000);
    await gw1.release("r2", "A");
    expect(await redis.get(`${prefix}replay:r2`)).toBe("C:another-claim");
    // A value stored by a gateway that wrote only the lane still names the lane.
    await redis.set(`${prefix}replay:r3`, "D", "PX", 5000);
    expect(await gw1.claim("r3", "A")).toEqual({ replayed: true, firstLane: "D" });
  });

  it("a release Redis cannot take rejects and leaves the claim standing here", async () => {
    const local = new LocalReplayGuard(new FakeClock(), 5000);
    const fake: RedisLike = { set: () => Promise.resolve("OK"), get: () => Promise.resolve(null), eval: () => Promise.reject(new Error("ECONNREFUSED")) };
    const { logger, lines } = collectingLogger();
    const g = new RedisReplayGuard({ redis: fake, keyPrefix: "t:", windowMs: 5000, local, logger });
    await g.claim("x1", "A");
    await expect(g.release("x1", "A")).rejects.toThrow("ECONNREFUSED");
    expect(local.holder("x1")).toBe("A");
    expect(g.degraded).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(lines.filter((l) => l.includes("GW_REDIS_UNAVAILABLE"))).toHaveLength(1);
  });

  it("a claim made through Redis is remembered locally for a later outage", async () => {
    const local = new LocalReplayGuard(new FakeClock(), 5000);
    const { logger } = collectingLogger();
    const g = new RedisReplayGuard({ redis, keyPrefix: prefix, windowMs: 5000, local, logger });
    await g.claim("e1", "A");
    expect(local.claimSync("e1", "B")).toEqual({ replayed: true, firstLane: "A" });
  });
});

describe("RedisReplayGuard.degraded", () => {
  it("is set by a failed or slow command and cleared by the next one that succeeds", async () => {
    let mode: "up" | "down" | "slow" = "up";
    const redis: RedisLike = {
      set: () => (mode === "up" ? Promise.resolve("OK") : mode === "down" ? Promise.reject(new Error("ECONNREFUSED")) : new Promise<never>(() => {})),
      get: () => Promise.resolve(null),
      eval: () => Promise.resolve(0),
    };
    const g = new RedisReplayGuard({ redis, keyPrefix: "t:", windowMs: 5000, local: new LocalReplayGuard(new FakeClock(), 5000), logger: collectingLogger().logger, timeoutMs: 5 });
    expect(g.degraded).toBe(false);
    await g.claim("a", "L1");
    expect(g.degraded).toBe(false);
    mode = "down";
    expect(await g.claim("b", "L1")).toMatchObject({ degraded: true });
    expect(g.degraded).toBe(true);
    mode = "up";
    await g.claim("c", "L1");
    expect(g.degraded).toBe(false);
    // A Redis that does not answer in time counts as down too.
    mode = "slow";
    await g.claim("d", "L1");
    expect(g.degraded).toBe(true);
  });
});
