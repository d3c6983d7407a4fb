import { describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { FakeClock } from "../../src/core/clock.js";
import { OwnerLease } from "../../src/output/events/owner-lease.js";
import { captureLogger } from "./helpers.js";

const settle = () => new Promise((r) => setImmediate(r));

/** The lease scripts' semantics (redis-guards.ts): take when free or ours, release only our own. */
class LeaseRedis {
  status = "ready";
  holder: string | undefined;
  asks = 0;
  releases = 0;
  hang = false;
  evalsha(_sha: string, _n: number, _key: string, instance: string): Promise<string> {
    this.asks++;
    if (this.hang) return new Promise(() => undefined);
    if (this.holder === undefined || this.holder === instance) this.holder = instance;
    return Promise.resolve(this.holder);
  }
  eval(_lua: string, _n: number, _key: string, instance: string): Promise<number> {
    this.releases++;
    if (this.holder !== instance) return Promise.resolve(0);
    this.holder = undefined;
    return Promise.resolve(1);
  }
}

function setup(ttlMs = 15_000) {
  const clock = new FakeClock();
  const redis = new LeaseRedis();
  const { logger, lines } = captureLogger();
  let held = 0;
  const lease = new OwnerLease({
    redis: redis as unknown as Redis,
    clock,
    log: logger,
    key: "{s}:owner:gw-1",
    instance: "me",
    ttlMs,
    commandTimeoutMs: 1000,
    gatewayId: "gw-1",
    stream: "s",
    pending: () => 7,
    onHeld: () => held++,
  });
  const conflicts = () => lines.filter((l) => l.includes('"code":"GW_GATEWAY_ID_CONFLICT"'));
  return { clock, redis, lease, lines, conflicts, held: () => held };
}

describe("OwnerLease", () => {
  it("takes a free lease and asks Redis again only after a third of the TTL", async () => {
    const { clock, redis, lease } = setup(15_000);
    expect(await lease.ensure()).toBe(true);
    expect(redis.holder).toBe("me");
    expect(await lease.ensure()).toBe(true);
    expect(redis.asks).toBe(1);
    clock.advance(4_999);
    await lease.ensure();
    expect(redis.asks).toBe(1);
    clock.advance(1);
    await lease.ensure();
    expect(redis.asks).toBe(2);
    expect(lease.conflict).toBe(false);
  });

  it("force and invalidate ask Redis even while the lease is fresh", async () => {
    const { redis, lease } = setup();
    await lease.ensure();
    await lease.ensure(true);
    expect(redis.asks).toBe(2);
    lease.invalidate();
    await lease.ensure();
    expect(redis.asks).toBe(3);
  });

  it("another live holder is a conflict: logged at once, then at most once a minute, asked every time", async () => {
    const { clock, redis, lease, conflicts } = setup();
    redis.holder = "other";
    expect(await lease.ensure()).toBe(false);
    expect(lease.conflict).toBe(true);
    expect(conflicts()).toHaveLength(1);
    expect(conflicts()[0]).toContain('"level":"error"');
    expect(conflicts()[0]).toContain('"pending":7');
    clock.advance(59_999);
    expect(await lease.ensure()).toBe(false);
    expect(redis.asks).toBe(2);
    expect(conflicts()).toHaveLength(1);
    clock.advance(1);
    await lease.ensure();
    expect(conflicts()).toHaveLength(2);
  });

  it("resumes (with a log) when the other holder lets go, and a later conflict is logged at once again", async () => {
    const { redis, lease, lines, conflicts } = setup();
    redis.holder = "other";
    await lease.ensure();
    redis.holder = undefined;
    expect(await lease.ensure()).toBe(true);
    expect(lease.conflict).toBe(false);
    expect(lines.some((l) => l.includes("gateway id lease acquired: forwarding resumes"))).toBe(true);
    redis.holder = "other";
    await lease.ensure(true);
    expect(conflicts()).toHaveLength(2);
  });

  it("a hung lease command fails after the command timeout", async () => {
    const { clock, redis, lease } = setup();
    redis.hang = true;
    const p = lease.ensure();
    clock.advance(1000);
    await expect(p).rejects.toThrow("timed out after 1000 ms");
  });

  it("renews every third of the TTL while Redis is ready, tells the spool, and stop ends it", async () => {
    const { clock, redis, lease, held } = setup(3000);
    lease.startRenewal();
    clock.advance(1000);
    await settle();
    expect([redis.asks, held()]).toEqual([1, 1]);
    redis.status = "reconnecting";
    clock.advance(1000);
    await settle();
    expect([redis.asks, held()]).toEqual([1, 1]);
    redis.status = "ready";
    clock.advance(1000);
    await settle();
    expect([redis.asks, held()]).toEqual([2, 2]);
    lease.stop();
    expect(clock.pendingCount).toBe(0);
    lease.startRenewal();
    expect(clock.pendingCount).toBe(0);
  });

  it("a renewal that finds another holder does not tell the spool to forward", async () => {
    const { clock, redis, lease, held } = setup(3000);
    redis.holder = "other";
    lease.startRenewal();
    clock.advance(1000);
    await settle();
    expect(held()).toBe(0);
    expect(lease.conflict).toBe(true);
    lease.stop();
  });

  it("release frees our lease at a clean stop", async () => {
    const { redis, lease } = setup();
    await lease.ensure();
    await lease.release();
    expect(redis.holder).toBeUndefined();
    expect(redis.releases).toBe(1);
  });

  it("release does not even try while another instance holds the lease (ours lapsed meanwhile)", async () => {
    const { redis, lease } = setup();
    await lease.ensure();
    redis.holder = "other";
    await lease.ensure(true);
    await lease.release();
    expect(redis.releases).toBe(0);
    expect(redis.holder).toBe("other");
  });

  it("release does nothing before the lease was held or after a reconnect reset it", async () => {
    const { redis, lease } = setup();
    redis.holder = "me"; // left by an earlier life of this instance id: not ours to judge
    await lease.release();
    expect(redis.holder).toBe("me");
    await lease.ensure();
    lease.invalidate();
    await lease.release();
    expect(redis.holder).toBe("me");
    expect(redis.releases).toBe(0);
  });
});
