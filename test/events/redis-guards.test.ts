import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createEventSpool, type EventSpool } from "../../src/output/events/spool.js";
import { evictionHazard, ownerKey, parseMaxmemoryPolicy } from "../../src/output/events/redis-guards.js";
import { captureLogger, makeEvent, RedisChild, rid, rmDir, SHARED_REDIS, tmpDir, waitFor } from "./helpers.js";

const dirs: string[] = [];
const spools: EventSpool[] = [];
const clients: Redis[] = [];
const children: RedisChild[] = [];
let shared: Redis;
const cleanup: string[] = [];

beforeAll(async () => {
  shared = new Redis(SHARED_REDIS);
  await shared.ping();
});
afterEach(async () => {
  for (const s of spools.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmDir(d);
});
afterAll(async () => {
  for (const k of cleanup) {
    const more = await shared.keys(`{${k}}:*`);
    await shared.del(k, ...more);
  }
  shared.disconnect();
  for (const c of clients) c.disconnect();
  for (const c of children) await c.destroy();
});

function spoolOn(redis: Redis, stream: string, over: Partial<Parameters<typeof createEventSpool>[0]> = {}) {
  const dir = tmpDir("guard");
  dirs.push(dir);
  const { logger, lines } = captureLogger();
  const s = createEventSpool({ dir, fsync: "never", maxBytes: 1 << 20, redis, stream, logger, gatewayId: "gw-dup", ...over });
  spools.push(s);
  return { spool: s, lines };
}

const ids = async (r: Redis, stream: string) => (await r.xrange(stream, "-", "+")).map(([, f]) => f[f.indexOf("id") + 1]);

describe("maxmemory-policy that can evict the position marker", () => {
  it("knows which policies are hazards", () => {
    expect(parseMaxmemoryPolicy("# Memory\r\nused_memory:1\r\nmaxmemory_policy:allkeys-lru\r\n")).toBe("allkeys-lru");
    expect(["noeviction", "volatile-lru", "volatile-ttl", "allkeys-lfu", "allkeys-random"].map(evictionHazard)).toEqual([false, true, true, true, true]);
  });

  for (const policy of ["allkeys-lru", "volatile-lru"]) {
    it(`warns loudly and reports a problem with ${policy} (own redis-server), and still forwards`, async () => {
      const child = await RedisChild.create(["--maxmemory", "64mb", "--maxmemory-policy", policy]);
      children.push(child);
      await child.start();
      const redis = new Redis(child.url, { maxRetriesPerRequest: 1 });
      clients.push(redis);
      await redis.ping();
      const stream = `guard:${rid()}`;
      const { spool, lines } = spoolOn(redis, stream);
      await spool.start();
      expect(spool.stats().problems).toEqual([`REDIS_EVICTION_POLICY:${policy}`]);
      const err = lines.find((l) => l.includes('"code":"GW_REDIS_EVICTION_POLICY"'));
      expect(err).toContain('"level":"error"');
      expect(err).toContain(policy);
      spool.append(makeEvent("gw-dup", "L1", 1));
      await spool.flush();
      expect(await ids(redis, stream)).toEqual(["gw-dup:L1:1"]);
    });
  }

  it("reports nothing with noeviction (the shared Redis)", async () => {
    const stream = `guard:${rid()}`;
    cleanup.push(stream);
    const { spool, lines } = spoolOn(shared, stream);
    await spool.start();
    expect(spool.stats().problems).toEqual([]);
    expect(lines.some((l) => l.includes("GW_REDIS_EVICTION_POLICY"))).toBe(false);
  });
});

describe("two gateways with the same gateway.id on one stream", () => {
  it("the second one refuses to forward (loud error, problem, events kept in its spool) until the first lets go", async () => {
    expect.hasAssertions();
    const stream = `guard:${rid()}`;
    cleanup.push(stream);
    const a = spoolOn(shared, stream, { leaseTtlMs: 1500 });
    await a.spool.start();
    const b = spoolOn(shared, stream, { leaseTtlMs: 1500 });
    await b.spool.start();
    expect(b.spool.stats().problems).toEqual(["GATEWAY_ID_CONFLICT"]);
    expect(a.spool.stats().problems).toEqual([]);
    const err = b.lines.find((l) => l.includes('"code":"GW_GATEWAY_ID_CONFLICT"'));
    expect(err).toContain('"level":"error"');
    a.spool.append(makeEvent("gw-dup", "L1", 1));
    b.spool.append(makeEvent("gw-dup", "L1", 1, { verdict: "FLAG", reason: "REVOKED" }));
    await a.spool.flush();
    // Well past several renewals of A's lease: B still holds its event.
    await new Promise((r) => setTimeout(r, 1200));
    expect(await ids(shared, stream)).toEqual(["gw-dup:L1:1"]);
    expect(b.spool.stats()).toMatchObject({ pending: 1, forwarded: 0 });
    // A stops cleanly (lease released): B takes over and forwards what it kept.
    await a.spool.close();
    await waitFor(() => b.spool.stats().forwarded === 1, "B forwards after A released the lease", 20_000, 50);
    expect(b.spool.stats().problems).toEqual([]);
    expect(await shared.get(ownerKey(stream, "gw-dup"))).not.toBeNull();
    expect(await ids(shared, stream)).toEqual(["gw-dup:L1:1", "gw-dup:L1:1"]);
  });

  it("a killed holder's lease expires after its TTL, so a restarted gateway forwards again", async () => {
    const stream = `guard:${rid()}`;
    cleanup.push(stream);
    // A lease left by a process that died (not released).
    await shared.set(ownerKey(stream, "gw-dup"), "deadbeefdeadbeef", "PX", 1200);
    const b = spoolOn(shared, stream, { leaseTtlMs: 1500 });
    await b.spool.start();
    expect(b.spool.stats().problems).toEqual(["GATEWAY_ID_CONFLICT"]);
    b.spool.append(makeEvent("gw-dup", "L1", 7));
    await waitFor(() => b.spool.stats().forwarded === 1, "forwarded once the dead lease expired", 20_000, 50);
    expect(await ids(shared, stream)).toEqual(["gw-dup:L1:7"]);
  });
});
