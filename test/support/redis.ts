import type { Redis } from "ioredis";

/**
 * Deletes every key of the shared Redis that contains `prefix`: plain keys (`prefix...`) and
 * hash-tagged ones derived from a prefixed stream (`{prefix...}:owner:gw`), so a test leaves nothing.
 */
export async function deleteKeysWith(redis: Pick<Redis, "keys" | "del">, prefix: string): Promise<void> {
  const keys = await redis.keys(`*${prefix}*`);
  if (keys.length) await redis.del(...keys);
}
