import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import type { AckedPosition, SpoolRecord } from "./spool-file.js";

/** Positions below the marker whose ids the id set keeps; what is older was forwarded long ago. */
export const ID_WINDOW = 100_000;

/**
 * Atomic, idempotent forwarding: one script call XADDs a batch in order and records, in the same
 * step, each added id in a sorted set (score = spool position, kept for the last ID_WINDOW positions)
 * and this spool's highest forwarded position (the marker). No stream scan is needed (the stream may
 * be shared by many gateways), and a crash or timeout between XADD and our local state write never
 * duplicates an entry.
 * A record is skipped only when the id set proves its event is in the stream:
 * - its id is there under its own position: a resend (a lost reply, a crash);
 * - its id is there under another position: the id was handed out twice (a sequence file that lost
 *   its last write, two gateways with one id). That event is NOT in the stream, so the script
 *   returns it and the caller counts and logs it.
 * Anything else is added, also at or below the marker: positions come back when the disk lost the
 * spool's tail after a power cut (interval fsync) or the spool was restored from a copy, and those
 * are new events (skipping them by position lost them silently, for ever once the copy was older
 * than ID_WINDOW positions). They are returned too, for a log.
 * The marker moves with the id set, so it is never far above the set's highest position; one that is
 * no number or is far above was written by something else and is reset to that position (returned):
 * left in place, a huge one emptied the id set at the trim below and a non-number failed every call.
 * `acked` is the highest position Redis acknowledged to this spool (0: none, or too long ago to
 * tell). When neither the marker nor the id set reaches it, Redis lost acknowledged writes (an older
 * RDB, a failover to a lagging replica, a restart without persistence, eviction): the script adds
 * nothing and returns how far Redis still reaches, so the spool can put back what it still holds
 * after that point first and the stream keeps position order.
 * A key of the wrong Redis type (a hand-made key, another program's key under our name) failed
 * every call before, read as "Redis unavailable" for ever. The stream and the id set are checked
 * first and, when of another type, nothing is written and { -1, key, type } returned: the stream is
 * the record and the id set the only proof of what it holds, so neither is ever replaced here (a
 * person fixes it; the spool keeps the events). The marker is our bookkeeping, so a marker of another
 * type is deleted and reported (markerType), and written anew as max(id set's highest position,
 * acked): another program's key is no sign that Redis lost data. Taken for a rollback when the id set
 * was gone too, it made the spool resend what the stream already held, and the stream got every event
 * twice (the stream entries carry no spool position to read the marker back from).
 * KEYS[1] stream, KEYS[2] marker, KEYS[3] recent ids; ARGV: ttlSeconds, maxLen, window, acked, then
 * 6 values per record. Returns { added, markerWas ('' when sound), rolledBack ('' or the position
 * Redis still reaches), #skipped, markerType ('' or the type of the marker deleted), skipped
 * (id, n)..., reused (id, n)... }.
 */
export const FORWARD_LUA = `
local streamType = redis.call('TYPE', KEYS[1]).ok
if streamType ~= 'stream' and streamType ~= 'none' then return { -1, KEYS[1], streamType } end
local idsType = redis.call('TYPE', KEYS[3]).ok
if idsType ~= 'zset' and idsType ~= 'none' then return { -1, KEYS[3], idsType } end
local ttl = tonumber(ARGV[1])
local maxlen = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local acked = tonumber(ARGV[4])
local top = redis.call('ZREVRANGE', KEYS[3], 0, 0, 'WITHSCORES')
local known = tonumber(top[2] or '0')
local markerType = redis.call('TYPE', KEYS[2]).ok
local raw = nil
local last = 0
if markerType == 'string' or markerType == 'none' then
  markerType = ''
  raw = redis.call('GET', KEYS[2])
  last = tonumber(raw or '0')
else
  -- Someone else's key under our name says nothing about what the stream holds: not a rollback.
  -- Written at once, so a call failing below does not leave a missing marker for the next one.
  last = math.max(known, acked)
  redis.call('DEL', KEYS[2])
  redis.call('SET', KEYS[2], last, 'EX', ttl)
end
local markerWas = ''
if raw and (not last or last < 0 or last ~= math.floor(last) or last > known + window) then
  markerWas = string.sub(raw, 1, 40)
  last = known
end
-- The id set stands in for a marker that is gone alone (deleted, evicted): its resends are still
-- caught by id. Only when both are behind what Redis acknowledged was data lost.
local reach = math.max(last, known)
if reach < acked then
  if markerWas ~= '' then redis.call('SET', KEYS[2], last, 'EX', ttl) end
  return { 0, markerWas, reach, 0, markerType }
end
local added = 0
local skipped = {}
local reused = {}
local i = 5
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local seen = redis.call('ZSCORE', KEYS[3], ARGV[i+1])
  if seen then
    if tonumber(seen) ~= n then
      skipped[#skipped + 1] = ARGV[i+1]
      skipped[#skipped + 1] = ARGV[i]
    end
  else
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
    if n <= last then
      reused[#reused + 1] = ARGV[i+1]
      reused[#reused + 1] = ARGV[i]
    end
    added = added + 1
  end
  if n > last then last = n end
  i = i + 6
end
redis.call('SET', KEYS[2], last, 'EX', ttl)
-- Keep the id guard bounded: ids far behind the marker cannot come back (they left the spool).
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', last - window)
redis.call('EXPIRE', KEYS[3], ttl)
local out = { added, markerWas, '', #skipped / 2, markerType }
for k = 1, #skipped do out[#out + 1] = skipped[k] end
for k = 1, #reused do out[#out + 1] = reused[k] end
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
  /** Records whose id this spool had already forwarded under another position: not added (a reused id). */
  skippedIds: Array<{ id: string; n: number }>;
  /** Records at or below the marker whose ids the id set did not hold (reused positions): added, part of `added`. */
  reused: Array<{ id: string; n: number }>;
  /** The marker's value (up to 40 characters) when it was no position or far above the id set, and was reset. */
  markerWas?: string;
  /**
   * The marker key held another Redis type (`type`): deleted and written anew at the id set's highest
   * position or `acked`, whichever is higher (never reported as a rollback).
   */
  markerReplaced?: { key: string; type: string };
  /**
   * Set when Redis no longer reaches the `acked` position it acknowledged: how far it does (the
   * marker, or the id set's highest position without one; 0 when both are gone). Nothing was added.
   */
  rolledBack?: number;
}

/** Markers and id sets expire after this many idle seconds (refreshed by every forward). */
export const MARKER_TTL_S = 30 * 86400;

/**
 * The `acked` to send: the highest position Redis acknowledged under this marker key, or 0 once the
 * marker may have expired by itself (a day before its TTL ends after the last acknowledgement),
 * since a marker gone after a month without verdicts is no loss.
 */
export function ackedForScript(acked: AckedPosition | undefined, marker: string, now: number, ttlS = MARKER_TTL_S): number {
  if (!acked || acked.n <= 0 || acked.marker !== marker) return 0;
  return now - acked.at < (ttlS - 86400) * 1000 ? acked.n : 0;
}

export async function forwardBatch(
  redis: Redis | Cluster,
  keys: { stream: string; marker: string },
  batch: readonly SpoolRecord[],
  opts: { markerTtlS: number; maxLen: number; acked?: number },
): Promise<ForwardResult> {
  const args: (string | number)[] = [opts.markerTtlS, opts.maxLen, ID_WINDOW, opts.acked ?? 0];
  for (const r of batch) args.push(r.n, r.id, r.lane, r.verdict, r.reason, r.json);
  let reply: unknown;
  try {
    reply = await redis.evalsha(FORWARD_SHA, 3, keys.stream, keys.marker, idsKey(keys.marker), ...args);
  } catch (e) {
    // Scripts vanish when Redis restarts without persistence or fails over; send the body once.
    if (!String((e as Error).message).includes("NOSCRIPT")) throw e;
    reply = await redis.eval(FORWARD_LUA, 3, keys.stream, keys.marker, idsKey(keys.marker), ...args);
  }
  return parseForwardReply(reply, keys.marker);
}

/**
 * The stream or the id set holds another Redis type: the script wrote nothing. Not an outage: it
 * lasts until a person deletes or renames the key, and every retry answers the same.
 */
export class RedisWrongTypeError extends Error {
  readonly code = "GW_EVENTS_REDIS_WRONGTYPE";
  constructor(
    readonly key: string,
    readonly type: string,
  ) {
    super(`redis key ${key} is a ${type}, not the ${key.endsWith(":ids") ? "sorted set of forwarded ids" : "stream"} the spool forwards to`);
    this.name = "RedisWrongTypeError";
  }
}

/** added, markerWas, rolledBack, #skipped, markerType; then (id, n) pairs. */
const HEADER = 5;

export function parseForwardReply(reply: unknown, marker: string): ForwardResult {
  if (Array.isArray(reply) && reply.length === 3 && Number(reply[0]) === -1) throw new RedisWrongTypeError(String(reply[1]), String(reply[2]));
  const skippedCount = Array.isArray(reply) ? Number(reply[3]) : NaN;
  const rolledBack = Array.isArray(reply) && reply[2] !== "" ? Number(reply[2]) : undefined;
  if (
    !Array.isArray(reply) ||
    reply.length < HEADER ||
    (reply.length - HEADER) % 2 !== 0 ||
    !Number.isSafeInteger(Number(reply[0])) ||
    !Number.isSafeInteger(skippedCount) ||
    HEADER + 2 * skippedCount > reply.length ||
    (rolledBack !== undefined && !Number.isSafeInteger(rolledBack))
  ) {
    throw new Error(`unexpected forward script reply: ${JSON.stringify(reply)?.slice(0, 80)}`);
  }
  const pairs = (from: number, to: number) => {
    const out: Array<{ id: string; n: number }> = [];
    for (let i = from; i < to; i += 2) out.push({ id: String(reply[i]), n: Number(reply[i + 1]) });
    return out;
  };
  const skipEnd = HEADER + 2 * skippedCount;
  const markerWas = String(reply[1] ?? "");
  const markerType = String(reply[4] ?? "");
  return {
    added: Number(reply[0]),
    skippedIds: pairs(HEADER, skipEnd),
    reused: pairs(skipEnd, reply.length),
    ...(markerWas ? { markerWas } : {}),
    ...(markerType ? { markerReplaced: { key: marker, type: markerType } } : {}),
    ...(rolledBack !== undefined ? { rolledBack } : {}),
  };
}
