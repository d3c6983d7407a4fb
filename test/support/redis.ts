import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll } from "vitest";

/**
 * Deletes every key of the shared Redis that contains `prefix`: plain keys (`prefix...`) and
 * hash-tagged ones derived from a prefixed stream (`{prefix...}:owner:gw`), so a test leaves nothing.
 */
export async function deleteKeysWith(redis: Pick<Redis, "keys" | "del">, prefix: string): Promise<void> {
  const keys = await redis.keys(`*${prefix}*`);
  if (keys.length) await redis.del(...keys);
}

/**
 * A client of the shared Redis at `url` and a fresh key prefix for one test file; after the file's
 * tests, every key with the prefix is deleted and the client closed.
 */
export function redisScratch(url: string): { redis: Redis; prefix: string } {
  const prefix = `cpgw-test-${randomBytes(4).toString("hex")}:`;
  const redis = new Redis(url);
  afterAll(async () => {
    await deleteKeysWith(redis, prefix);
    redis.disconnect();
  });
  return { redis, prefix };
}
