import type { Cluster, Redis } from "ioredis";
import type { Logger } from "../../core/logger.js";

/**
 * Site-wide cache in Redis so the gateways at one site fetch a trust list once and share
 * revocation deltas. Redis is never trusted with keys: a list read from it is re-verified
 * against the pinned root by every reader, exactly like a download. Every call degrades to
 * "not available" (undefined / false) within a bounded time, so a dead Redis costs one timeout
 * per refresh and never blocks verification (which does not touch Redis at all).
 */
export interface SharedList {
  jws: string;
  fetchedAt: number;
  version: number;
  etag?: string;
}

export interface SharedCache {
  getList(id: string): Promise<SharedList | undefined>;
  putList(id: string, list: SharedList): Promise<boolean>;
  touchList(id: string, version: number, fetchedAt: number): Promise<boolean>;
  /** Appends a signed delta (compact JWS, see signed-delta.ts) to the site's stream. */
  publishRevocations(signedDelta: string): Promise<boolean>;
  /**
   * Raw stream entries after `afterId` ("0" = from the start), oldest first. Nothing here is
   * trusted: the store verifies each entry's signature against the signers the trust list names.
   */
  readRevocations(afterId: string, max?: number): Promise<{ lastId: string; entries: Array<{ id: string; data: string }>; reset: boolean } | undefined>;
}

export interface RedisCacheOptions {
  redis: Redis | Cluster;
  prefix: string;
  logger: Logger;
  opTimeoutMs?: number;
}

// Only ever raise the shared copy's version: two gateways racing can never roll the site back.
const PUT_LIST = `local v = redis.call('HGET', KEYS[1], 'version')
if v and tonumber(v) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'jws', ARGV[2], 'fetchedAt', ARGV[3], 'etag', ARGV[4])
return 1`;
const TOUCH_LIST = `local v = redis.call('HGET', KEYS[1], 'version')
local f = redis.call('HGET', KEYS[1], 'fetchedAt')
if (not v) or tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
if f and tonumber(f) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'fetchedAt', ARGV[2])
return 1`;

export function createRedisCache(opts: RedisCacheOptions): SharedCache {
  const { redis, prefix, logger } = opts;
  const timeoutMs = opts.opTimeoutMs ?? 2000;
  let down = false;

  const noteDown = (why: string): undefined => {
    if (!down) logger.warn({ code: "GW_REDIS_UNAVAILABLE", why }, "shared trust cache unavailable; using local state");
    down = true;
    return undefined;
  };

  async function ready(): Promise<boolean> {
    if (redis.status === "ready") return true;
    if (redis.status === "end" || redis.status === "close") return false;
    // Known down and still not connected: answer at once; ioredis keeps reconnecting in the background.
    if (down && redis.status !== "wait") return false;
    if (redis.status === "wait") redis.connect().catch(() => undefined);
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(t);
        redis.off("ready", onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const t = setTimeout(() => done(false), Math.min(timeoutMs, 1000));
      redis.once("ready", onReady);
    });
  }

  async function run<T>(what: string, op: () => Promise<T>): Promise<T | undefined> {
    if (!(await ready())) return noteDown(`not connected (${redis.status})`);
    let timer: NodeJS.Timeout | undefined;
    try {
      const res = await Promise.race([
        op(),
        new Promise<never>((_, rej) => {
          timer = setTimeout(() => rej(new Error(`${what} timed out`)), timeoutMs);
        }),
      ]);
      if (down) logger.info({ module: "trust" }, "shared trust cache available again");
      down = false;
      return res;
    } catch (e) {
      return noteDown(`${what}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  const listKey = (id: string) => `${prefix}list:${id}`;
  const streamKey = `${prefix}revocations`;

  return {
    async getList(id) {
      const h = await run("getList", () => redis.hgetall(listKey(id)));
      if (!h || !h.jws || !h.version || !h.fetchedAt) return undefined;
      const version = Number(h.version);
      const fetchedAt = Number(h.fetchedAt);
      if (!Number.isSafeInteger(version) || !Number.isFinite(fetchedAt)) return undefined;
      return { jws: h.jws, version, fetchedAt, ...(h.etag ? { etag: h.etag } : {}) };
    },
    async putList(id, list) {
      const r = await run("putList", () => redis.eval(PUT_LIST, 1, listKey(id), String(list.version), list.jws, String(list.fetchedAt), list.etag ?? ""));
      return r === 1;
    },
    async touchList(id, version, fetchedAt) {
      const r = await run("touchList", () => redis.eval(TOUCH_LIST, 1, listKey(id), String(version), String(fetchedAt)));
      return r === 1;
    },
    async publishRevocations(signedDelta) {
      const r = await run("publishRevocations", () => redis.xadd(streamKey, "*", "d", signedDelta));
      return typeof r === "string";
    },
    async readRevocations(afterId, max = 100_000) {
      return run("readRevocations", async () => {
        const entries: Array<{ id: string; data: string }> = [];
        let last = afterId;
        let reset = false;
        if (afterId !== "0") {
          // Our position fell out of a trimmed stream: the caller must rebuild from the start.
          const first = await redis.xrange(streamKey, "-", "+", "COUNT", 1);
          if (first.length > 0 && compareIds(first[0]![0], afterId) > 0 && !(await existsId(redis, streamKey, afterId))) {
            reset = true;
            last = "0";
          }
        }
        while (entries.length < max) {
          const batch = await redis.xrange(streamKey, last === "0" ? "-" : `(${last}`, "+", "COUNT", 1000);
          if (batch.length === 0) break;
          for (const [id, fields] of batch) {
            last = id;
            const i = fields.indexOf("d");
            entries.push({ id, data: i < 0 || i + 1 >= fields.length ? "" : fields[i + 1]! });
          }
        }
        return { lastId: last, entries, reset };
      });
    },
  };
}

async function existsId(redis: Redis | Cluster, key: string, id: string): Promise<boolean> {
  const r = await redis.xrange(key, id, id);
  return r.length > 0;
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am - bm || as - bs;
}
