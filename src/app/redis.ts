import type { Cluster, Redis } from "ioredis";
import type { Logger } from "../core/logger.js";
import type { RedisConfig } from "../output/options.js";
import { createRedisClient } from "../output/events/redis-client.js";

/**
 * One shared ioredis client (events' retry policy: retries forever, single commands fail fast).
 * Connection errors are logged once per outage and never thrown: every user of Redis has a
 * local fallback (replay guard in-process, spool on disk, trust from its disk copy).
 */
export function openRedis(cfg: RedisConfig, logger: Logger): Redis | Cluster {
  const log = logger.child({ module: "redis" });
  const client = createRedisClient(cfg);
  let down = false;
  client.on("error", (e: Error) => {
    if (down) return;
    down = true;
    log.warn({ code: "GW_REDIS_UNAVAILABLE", err: e.message }, "Redis unreachable; local fallbacks in use");
  });
  client.on("ready", () => {
    if (down) log.info("Redis reachable again");
    down = false;
  });
  return client;
}
