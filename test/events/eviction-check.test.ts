import { describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { FakeClock } from "../../src/core/clock.js";
import { EvictionCheck } from "../../src/output/events/eviction-check.js";
import { captureLogger } from "./helpers.js";

class InfoRedis {
  policy = "noeviction";
  fail = false;
  info(): Promise<string> {
    if (this.fail) return Promise.reject(new Error("ERR unknown command 'INFO'"));
    return Promise.resolve(`# Memory\r\nused_memory:1\r\nmaxmemory_policy:${this.policy}\r\n`);
  }
}

function setup() {
  const redis = new InfoRedis();
  const { logger, lines } = captureLogger();
  const check = new EvictionCheck({ redis: redis as unknown as Redis, clock: new FakeClock(), log: logger, commandTimeoutMs: 1000 });
  const errors = () => lines.filter((l) => l.includes('"code":"GW_REDIS_EVICTION_POLICY"'));
  return { redis, check, lines, errors };
}

describe("EvictionCheck", () => {
  it("noeviction is fine: no policy, no log", async () => {
    const { check, errors } = setup();
    await check.check();
    expect(check.policy).toBeUndefined();
    expect(errors()).toHaveLength(0);
  });

  it("a hazardous policy is reported and logged once, not at every reconnect", async () => {
    const { redis, check, errors } = setup();
    redis.policy = "allkeys-lru";
    await check.check();
    await check.check();
    expect(check.policy).toBe("allkeys-lru");
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toContain('"level":"error"');
    // A failover to a node with another hazard is news again.
    redis.policy = "volatile-ttl";
    await check.check();
    expect(errors()).toHaveLength(2);
  });

  it("the problem clears when Redis is fixed", async () => {
    const { redis, check } = setup();
    redis.policy = "volatile-lru";
    await check.check();
    redis.policy = "noeviction";
    await check.check();
    expect(check.policy).toBeUndefined();
  });

  it("an unreadable INFO is a warning and keeps what was known", async () => {
    const { redis, check, lines } = setup();
    redis.policy = "allkeys-lfu";
    await check.check();
    redis.fail = true;
    await expect(check.check()).resolves.toBeUndefined();
    expect(check.policy).toBe("allkeys-lfu");
    expect(lines.some((l) => l.includes("eviction check is skipped") && l.includes('"level":"warn"'))).toBe(true);
  });
});
