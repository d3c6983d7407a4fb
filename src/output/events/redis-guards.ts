import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { hashTag } from "./forward.js";

/**
 * Redis set-ups under which the exactly-once forwarding cannot hold, checked before and while the
 * spool forwards. Pure helpers plus two small Redis calls; the spool decides what to do.
 */

/**
 * `volatile-*` evicts keys with a TTL (the spool's marker and id guard have one, the stream has
 * none); `allkeys-*` may evict the stream too. An evicted stream loses events; an evicted marker and
 * id set let the next resend duplicate entries. `noeviction` (the default) is safe.
 */
export function evictionHazard(policy: string): boolean {
  return policy.startsWith("volatile-") || policy.startsWith("allkeys-");
}

/** Parses `maxmemory_policy` from an `INFO memory` reply (CONFIG GET is often disabled on managed Redis). */
export function parseMaxmemoryPolicy(info: string): string | undefined {
  return /^maxmemory_policy:([^\r\n]+)/m.exec(info)?.[1]?.trim();
}

/** The policy of every node the stream can live on (a cluster: each master), e.g. `["noeviction"]`. */
export async function maxmemoryPolicies(redis: Redis | Cluster): Promise<string[]> {
  const nodes = "nodes" in redis && typeof redis.nodes === "function" ? redis.nodes("master") : [redis as Redis];
  const out: string[] = [];
  for (const n of nodes) {
    const p = parseMaxmemoryPolicy(await n.info("memory"));
    out.push(p ?? "unknown");
  }
  return out;
}

/**
 * Owner lease: one key per (stream, gateway id) holding the random instance id of the spool that
 * forwards for that gateway, with a TTL it keeps refreshing. Two processes with the same
 * `gateway.id` would hand out the same event ids into one stream (and consumers dedupe by id):
 * the second one sees the other's instance id and must not forward while that lease lives.
 */
export const LEASE_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return cur
`;
const LEASE_SHA = createHash("sha1").update(LEASE_LUA).digest("hex");

export const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** In the stream's slot (same rule as the marker), so a cluster needs no cross-slot call. */
export function ownerKey(stream: string, gatewayId: string): string {
  const tag = hashTag(stream) ?? stream;
  return `{${tag}}:owner:${gatewayId}`;
}

/** Takes or refreshes the lease; returns the holder's instance id (ours when we hold it). */
export async function renewLease(redis: Redis | Cluster, key: string, instance: string, ttlMs: number): Promise<string> {
  try {
    return String(await redis.evalsha(LEASE_SHA, 1, key, instance, ttlMs));
  } catch (e) {
    if (!String((e as Error).message).includes("NOSCRIPT")) throw e;
    return String(await redis.eval(LEASE_LUA, 1, key, instance, ttlMs));
  }
}

export async function releaseLease(redis: Redis | Cluster, key: string, instance: string): Promise<void> {
  await redis.eval(RELEASE_LUA, 1, key, instance);
}
