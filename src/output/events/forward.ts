import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import type { SpoolRecord } from "./spool-file.js";

/**
 * Atomic, idempotent forwarding: one script call XADDs a batch in order and moves this
 * spool's marker (highest forwarded position) in the same step, skipping positions at or
 * below it. A crash or timeout between XADD and our local state write therefore never
 * duplicates an entry, and no stream scan is needed (the stream may be shared by many gateways).
 * Second guard, by event id: the ids this spool forwarded recently are kept in a sorted set
 * (score = position) in the same slot, and an id already there is never added again. One full-suite
 * run under load showed duplicated ids that the position marker alone did not stop (cause not
 * found; Redis itself kept script effects atomic across SIGKILL/SIGTERM in a targeted test), so
 * exactly-once by event id is enforced where it is promised.
 * KEYS[1] stream, KEYS[2] marker, KEYS[3] recent ids; ARGV: ttlSeconds, maxLen, then 6 values per record.
 */
export const FORWARD_LUA = `
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local ttl = tonumber(ARGV[1])
local maxlen = tonumber(ARGV[2])
local added = 0
local i = 3
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  if n > last and redis.call('ZSCORE', KEYS[3], ARGV[i+1]) then
    last = n
  elseif n > last then
    local r
    if maxlen > 0 then
      r = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'id', ARGV[i+1], 'lane', ARGV[i+2], 'verdict', ARGV[i+3], 'reason', ARGV[i+4], 'event', ARGV[i+5])
    else
      r = redis.pcall('XADD', KEYS[1], '*', 'id', ARGV[i+1], 'lane', ARGV[i+2], 'verdict', ARGV[i+3], 'reason', ARGV[i+4], 'event', ARGV[i+5])
    end
    if type(r) == 'table' and r.err then
      -- Scripts are not rolled back: record what did go in, so the retry skips it.
      if added > 0 then redis.call('SET', KEYS[2], last, 'EX', ttl); redis.call('EXPIRE', KEYS[3], ttl) end
      return redis.error_reply(r.err)
    end
    redis.call('ZADD', KEYS[3], n, ARGV[i+1])
    last = n
    added = added + 1
  end
  i = i + 6
end
redis.call('SET', KEYS[2], last, 'EX', ttl)
-- Keep the id guard bounded: ids far behind the marker cannot come back (they left the spool).
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', last - 100000)
redis.call('EXPIRE', KEYS[3], ttl)
return added
`;
const FORWARD_SHA = createHash("sha1").update(FORWARD_LUA).digest("hex");

/** Redis Cluster's rule: the first non-empty {...} decides the slot. */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open < 0) return undefined;
  const close = key.indexOf("}", open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return key.slice(open + 1, close);
}

/**
 * The marker must live in the stream's cluster slot (a script may only touch one slot):
 * a stream without a tag hashes as its whole name, which `{name}` reproduces exactly.
 */
export function markerKey(stream: string, gatewayId: string, epoch: string): string {
  const tag = hashTag(stream);
  if (tag !== undefined) return `{${tag}}:spool:${gatewayId}:${epoch}`;
  if (stream.includes("{") || stream.includes("}")) {
    throw new Error(`stream name '${stream}' has braces but no valid hash tag; use e.g. '{cpgw}:verdicts'`);
  }
  return `{${stream}}:spool:${gatewayId}:${epoch}`;
}

/** The recent-ids guard lives next to the marker, so it shares its cluster slot. */
export function idsKey(marker: string): string {
  return `${marker}:ids`;
}

export async function forwardBatch(
  redis: Redis | Cluster,
  keys: { stream: string; marker: string },
  batch: readonly SpoolRecord[],
  opts: { markerTtlS: number; maxLen: number },
): Promise<number> {
  const args: (string | number)[] = [opts.markerTtlS, opts.maxLen];
  for (const r of batch) args.push(r.n, r.id, r.lane, r.verdict, r.reason, r.json);
  try {
    return Number(await redis.evalsha(FORWARD_SHA, 3, keys.stream, keys.marker, idsKey(keys.marker), ...args));
  } catch (e) {
    // Scripts vanish when Redis restarts without persistence or fails over; send the body once.
    if (!String((e as Error).message).includes("NOSCRIPT")) throw e;
    return Number(await redis.eval(FORWARD_LUA, 3, keys.stream, keys.marker, idsKey(keys.marker), ...args));
  }
}
