import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import type { SpoolRecord } from "./spool-file.js";

/**
 * Atomic, idempotent forwarding: one script call XADDs a batch in order and moves this
 * spool's marker (highest forwarded position) in the same step, skipping positions at or
 * below it. A crash or timeout between XADD and our local state write therefore never
 * duplicates an entry, and no stream scan is needed (the stream may be shared by many gateways).
 * Second guard, by event id: the ids this spool forwarded recently are kept in a sorted set
 * (score = position) in the same slot, and an id already there is never added again. A position
 * above the marker with a known id means the id was handed out twice (a sequence file that lost
 * its last write, two gateways with one id): that event is NOT in the stream, so the script
 * returns those ids and the caller counts and logs them. It never drops one silently.
 * KEYS[1] stream, KEYS[2] marker, KEYS[3] recent ids; ARGV: ttlSeconds, maxLen, then 6 values per record.
 * Returns { added, skippedId1, skippedPos1, skippedId2, skippedPos2, ... }.
 */
export const FORWARD_LUA = `
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local ttl = tonumber(ARGV[1])
local maxlen = tonumber(ARGV[2])
local added = 0
local skipped = {}
local i = 3
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  if n > last and redis.call('ZSCORE', KEYS[3], ARGV[i+1]) then
    skipped[#skipped + 1] = ARGV[i+1]
    skipped[#skipped + 1] = ARGV[i]
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
local out = { added }
for k = 1, #skipped do out[#out + 1] = skipped[k] end
return out
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

export interface ForwardResult {
  /** Entries this call added to the stream. */
  added: number;
  /** Records above the marker whose id this spool had already forwarded: not added (a reused id). */
  skippedIds: Array<{ id: string; n: number }>;
}

export async function forwardBatch(
  redis: Redis | Cluster,
  keys: { stream: string; marker: string },
  batch: readonly SpoolRecord[],
  opts: { markerTtlS: number; maxLen: number },
): Promise<ForwardResult> {
  const args: (string | number)[] = [opts.markerTtlS, opts.maxLen];
  for (const r of batch) args.push(r.n, r.id, r.lane, r.verdict, r.reason, r.json);
  let reply: unknown;
  try {
    reply = await redis.evalsha(FORWARD_SHA, 3, keys.stream, keys.marker, idsKey(keys.marker), ...args);
  } catch (e) {
    // Scripts vanish when Redis restarts without persistence or fails over; send the body once.
    if (!String((e as Error).message).includes("NOSCRIPT")) throw e;
    reply = await redis.eval(FORWARD_LUA, 3, keys.stream, keys.marker, idsKey(keys.marker), ...args);
  }
  return parseForwardReply(reply);
}

export function parseForwardReply(reply: unknown): ForwardResult {
  if (!Array.isArray(reply) || reply.length % 2 !== 1 || !Number.isSafeInteger(Number(reply[0]))) {
    throw new Error(`unexpected forward script reply: ${JSON.stringify(reply)?.slice(0, 80)}`);
  }
  const skippedIds: ForwardResult["skippedIds"] = [];
  for (let i = 1; i < reply.length; i += 2) skippedIds.push({ id: String(reply[i]), n: Number(reply[i + 1]) });
  return { added: Number(reply[0]), skippedIds };
}
