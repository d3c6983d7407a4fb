import type { Cluster, Redis } from "ioredis";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { evictionHazard, maxmemoryPolicies } from "./redis-guards.js";
import { withTimeout } from "./timers.js";

export interface EvictionCheckOptions {
  redis: Redis | Cluster;
  clock: Clock;
  log: Logger;
  commandTimeoutMs: number;
}

/**
 * Reads the maxmemory-policy of every node the stream can live on (at start and on every
 * reconnect: a failover can bring a differently configured node) and remembers the first hazard.
 * It warns and reports rather than refusing to forward: holding every event until the spool bound
 * drops them would lose more than a duplicate does.
 */
export class EvictionCheck {
  /** The hazardous policy seen at the last successful check, undefined when all is well. */
  policy: string | undefined;

  constructor(private readonly o: EvictionCheckOptions) {}

  async check(): Promise<void> {
    const { redis, clock, log, commandTimeoutMs } = this.o;
    try {
      const policies = await withTimeout(clock, maxmemoryPolicies(redis), commandTimeoutMs);
      const bad = policies.find(evictionHazard);
      // Logged once per policy seen, not at every reconnect of a known hazard.
      if (bad && bad !== this.policy) {
        log.error(
          { code: "GW_REDIS_EVICTION_POLICY", maxmemoryPolicy: bad },
          "redis maxmemory-policy can evict the stream (events lost) or the spool's marker and id set (resent events duplicated); set maxmemory-policy noeviction",
        );
      }
      this.policy = bad;
    } catch (e) {
      log.warn({ err: (e as Error).message }, "could not read redis maxmemory-policy (INFO memory); the eviction check is skipped");
    }
  }
}
