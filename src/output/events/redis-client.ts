import { Cluster, Redis } from "ioredis";
import type { RedisConfig } from "../options.js";

/** Capped exponential backoff with jitter, so a fleet of gateways does not reconnect in lockstep. */
export function redisRetryDelay(times: number): number {
  const base = Math.min(5000, 100 * 2 ** Math.min(times, 6));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * A client for the events spool (and anyone else who wants the same policy): retries forever,
 * fails single commands quickly instead of queueing them for the whole outage (the spool is the
 * queue). ioredis's keyPrefix is deliberately not applied: `redis.stream` is a full key name.
 */
/**
 * Errors that mean "this node cannot take writes now", not "this command is wrong": after a
 * failover the old primary answers READONLY over a connection that stays up, and without a new
 * connection (which Sentinel or the DNS name sends to the new primary) the events stream, the
 * shared replay guard and trust sharing would stay off until a restart. 1: reconnect; the failed
 * command is not sent again (its caller retries: the spool holds the events).
 */
export function reconnectOnRedisError(err: Error): 1 | false {
  return /^(READONLY|LOADING|MASTERDOWN)\b/.test(err.message) ? 1 : false;
}

export function createRedisClient(cfg: RedisConfig): Redis | Cluster {
  const common = { maxRetriesPerRequest: 1, connectTimeout: 5000, enableOfflineQueue: false, reconnectOnError: reconnectOnRedisError } as const;
  if (cfg.cluster && cfg.cluster.length > 0) {
    const nodes = cfg.cluster.map((hp) => {
      const i = hp.lastIndexOf(":");
      return i > 0 ? { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) } : { host: hp, port: 6379 };
    });
    return new Cluster(nodes, { clusterRetryStrategy: redisRetryDelay, enableOfflineQueue: false, redisOptions: common });
  }
  if (!cfg.url) throw new Error("redis: set either url or cluster");
  return new Redis(cfg.url, { ...common, retryStrategy: redisRetryDelay });
}
