import { afterEach, describe, expect, it } from "vitest";
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";
import { FakeClock } from "../../src/core/clock.js";
import { createEventSpool } from "../../src/output/events/spool.js";
import { captureLogger, makeEvent, rmDir, tmpDir } from "./helpers.js";

/** Just enough of ioredis for the forward script: the marker semantics, and calls that can hang. */
class FakeRedis extends EventEmitter {
  status = "ready";
  entries: string[] = [];
  marker = 0;
  hang = false;
  held: Array<() => void> = [];
  calls = 0;
  /** The forward script (3 keys) or the owner lease (1 key: always granted to the caller). */
  evalsha(_sha: string, nkeys: number, ...rest: (string | number)[]): Promise<unknown> {
    if (nkeys === 1) return Promise.resolve(String(rest[1]));
    const rec = rest.slice(5);
    this.calls++;
    const run = () => {
      let added = 0;
      for (let i = 0; i < rec.length; i += 6) {
        const n = Number(rec[i]);
        if (n <= this.marker) continue;
        this.entries.push(String(rec[i + 1]));
        this.marker = n;
        added++;
      }
      return [added];
    };
    if (!this.hang) return Promise.resolve(run());
    return new Promise((resolve) => this.held.push(() => resolve(run())));
  }
  /** Lease release. */
  eval(): Promise<number> {
    return Promise.resolve(1);
  }
  info(): Promise<string> {
    return Promise.resolve("# Memory\r\nmaxmemory_policy:noeviction\r\n");
  }
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(rmDir));
const settle = () => new Promise((r) => setImmediate(r));

describe("event spool with a fake clock and a scripted Redis", () => {
  it("times out a hung command, retries with backoff, and the late completion adds nothing twice", async () => {
    const dir = tmpDir("spool-fake");
    dirs.push(dir);
    const clock = new FakeClock();
    const redis = new FakeRedis();
    const { logger, lines } = captureLogger();
    const spool = createEventSpool({ dir, fsync: "never", maxBytes: 1 << 20, redis: redis as unknown as Redis, stream: "s", logger, clock, commandTimeoutMs: 10_000 });
    await spool.start();
    redis.hang = true;
    for (let i = 1; i <= 3; i++) spool.append(makeEvent("gw-f", "L1", i));
    await settle();
    expect(redis.calls).toBe(1);
    clock.advance(9_999);
    await settle();
    expect(spool.stats()).toMatchObject({ forwarded: 0, redisUp: true });
    clock.advance(1);
    await settle();
    expect(spool.stats().redisUp).toBe(false);
    expect(lines.some((l) => l.includes("GW_REDIS_UNAVAILABLE") && l.includes("timed out"))).toBe(true);
    // Redis answers again; the retry waits for the first backoff step (250 ms), not a busy loop.
    redis.hang = false;
    clock.advance(249);
    await settle();
    expect(redis.calls).toBe(1);
    clock.advance(1);
    await settle();
    await settle();
    expect(redis.calls).toBe(2);
    expect(spool.stats()).toMatchObject({ forwarded: 3, pending: 0, redisUp: true });
    // The hung call finally completes inside Redis: the marker makes it a no-op.
    redis.held.splice(0).forEach((f) => f());
    await settle();
    expect(redis.entries).toEqual(["gw-f:L1:1", "gw-f:L1:2", "gw-f:L1:3"]);
    await spool.close();
  });

  it("waits for the client's ready event instead of polling fast while Redis is down", async () => {
    const dir = tmpDir("spool-fake");
    dirs.push(dir);
    const clock = new FakeClock();
    const redis = new FakeRedis();
    redis.status = "reconnecting";
    const spool = createEventSpool({ dir, fsync: "interval", maxBytes: 1 << 20, redis: redis as unknown as Redis, stream: "s", logger: captureLogger().logger, clock });
    await spool.start();
    spool.append(makeEvent("gw-f", "L1", 1));
    await settle();
    expect(redis.calls).toBe(0);
    // One 1 s re-check, the fsync timer and the lease renewal: nothing spins.
    expect(clock.pendingCount).toBeLessThanOrEqual(3);
    redis.status = "ready";
    redis.emit("ready");
    await settle();
    await settle();
    expect(redis.entries).toEqual(["gw-f:L1:1"]);
    await spool.close();
    expect(clock.pendingCount).toBe(0);
  });
});
