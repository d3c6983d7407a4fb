import { randomBytes } from "node:crypto";
import { freePort } from "../../bench/lib/net.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createRedisCache } from "../../src/verify/trust/shared-cache.js";
import { createTrustStore, type TrustStore } from "../../src/verify/trust/store.js";
import { credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import { captureLogs, ListServer, makeKeyPair, passEntry, signedList, tempDir, trustConfig } from "./helpers.js";

const prefix = `cpgw-test:${randomBytes(6).toString("hex")}:trust:`;
let redis: Redis;
let server: ListServer;
let tmps: Array<ReturnType<typeof tempDir>>;
let stores: TrustStore[];
let rootPath: string;
let root: Awaited<ReturnType<typeof makeKeyPair>>;

beforeAll(async () => {
  redis = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

beforeEach(async () => {
  server = new ListServer();
  await server.start();
  tmps = [];
  stores = [];
  root = await makeKeyPair("root");
  const t = tempDir("root");
  tmps.push(t);
  rootPath = join(t.dir, "root.public.jwk.json");
  writeFileSync(rootPath, JSON.stringify(root.pub));
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
});

afterEach(async () => {
  for (const s of stores) await s.stop();
  await server.stop();
  for (const t of tmps) t.cleanup();
});

/** Each gateway has its own state dir (another machine at the same site). */
async function gateway(clock: FakeClock, r: Redis, source = server.url) {
  const t = tempDir("gw");
  tmps.push(t);
  const logs = captureLogs();
  const store = await createTrustStore({
    config: trustConfig({ lists: [{ source, rootKey: rootPath }], refreshIntervalS: 3600, maxAgeS: 6 * 3600 }),
    stateDir: t.dir,
    clock,
    logger: logs.logger,
    redis: r,
    redisPrefix: prefix,
    random: () => 0.5,
  });
  stores.push(store);
  return { store, logs, stateDir: t.dir };
}

describe("trust store with a shared Redis cache", () => {
  it("two gateways share one download: the second adopts the verified list from Redis", async () => {
    server.body = await signedList(root.priv, 4, [(await passEntry("k-shared")).entry]);
    const clock = new FakeClock(Date.now());
    const a = await gateway(clock, redis);
    await a.store.start();
    expect(server.hits).toBe(1);
    await server.stop(); // the second gateway cannot reach the server at all
    const b = await gateway(clock, redis);
    await b.store.start();
    expect(b.store.view().keysFor("k-shared", "pass")).toHaveLength(1);
    expect(b.store.status()).toMatchObject({ version: "4", stale: false, refreshedAt: a.store.status().refreshedAt });
    expect(b.logs.codes()).not.toContain("GW_TRUST_FETCH"); // satisfied by the peer, no download tried
    // B restarts with neither server nor Redis: the copy it adopted from Redis was kept on its disk.
    await b.store.stop();
    const logs = captureLogs();
    const b2 = await createTrustStore({
      config: trustConfig({ lists: [{ source: server.url, rootKey: rootPath }], refreshIntervalS: 3600, maxAgeS: 6 * 3600 }),
      stateDir: b.stateDir,
      clock,
      logger: logs.logger,
    });
    stores.push(b2);
    await b2.start();
    expect(b2.view().keysFor("k-shared", "pass")).toHaveLength(1);
    expect(b2.status()).toMatchObject({ version: "4", stale: false });
  });

  it("re-verifies what it reads from Redis: a forged copy is refused and the server is used", async () => {
    server.body = await signedList(root.priv, 2, [(await passEntry("k-real")).entry]);
    const attacker = await makeKeyPair("root");
    const forged = await signedList(attacker.priv, 99, [(await passEntry("k-forged")).entry]);
    const clock = new FakeClock(Date.now());
    const a = await gateway(clock, redis);
    await a.store.start();
    const key = (await redis.keys(`${prefix}list:*`))[0]!;
    await redis.hset(key, "jws", forged, "version", "99");
    const b = await gateway(clock, redis);
    await b.store.start();
    expect(b.store.view().keysFor("k-forged", "pass")).toEqual([]);
    expect(b.store.view().keysFor("k-real", "pass")).toHaveLength(1);
    expect(b.logs.codes()).toContain("GW_TRUST_SIGNATURE");
  });

  it("never lets a peer roll the shared copy back to an older version", async () => {
    const cache = createRedisCache({ redis, prefix, logger: captureLogs().logger });
    expect(await cache.putList("x", { jws: "v5", version: 5, fetchedAt: 1 })).toBe(true);
    expect(await cache.putList("x", { jws: "v4", version: 4, fetchedAt: 2 })).toBe(false);
    expect(await cache.touchList("x", 5, 10)).toBe(true);
    expect(await cache.touchList("x", 4, 20)).toBe(false);
    expect(await cache.getList("x")).toMatchObject({ jws: "v5", version: 5, fetchedAt: 10 });
  });

  it("shares revocation deltas: published on one gateway, seen by the other after its next refresh", async () => {
    server.body = await signedList(root.priv, 1, [], { revocations: [{ type: "id-hash", hashes: [credentialIdHashHex("OLD")] }] });
    const clock = new FakeClock(Date.now());
    const a = await gateway(clock, redis);
    const b = await gateway(clock, redis);
    await a.store.start();
    await b.store.start();
    const bView = b.store.view();
    const r = await a.store.publishRevocations({ add: [credentialIdHashHex("NEW-1"), credentialIdHashHex("NEW-2")], remove: [credentialIdHashHex("OLD")] });
    expect(r.shared).toBe(true);
    expect(a.store.view().isRevoked({ format: "pass", id: "NEW-1" })).toBe(true);
    await b.store.refreshNow();
    const v = b.store.view();
    expect(["NEW-1", "NEW-2", "OLD", "OTHER"].map((id) => v.isRevoked({ format: "dcc", id }))).toEqual([true, true, false, false]);
    expect(bView.isRevoked({ format: "pass", id: "NEW-1" })).toBe(false); // old snapshot unchanged
    await a.store.publishRevocations({ shc: [{ issuer: "https://shc.example", kid: "k1", add: ["rid-9"] }] });
    // No refresh: the stream poll (sharedPollS, 30 s on the injected clock) picks it up.
    const updated = new Promise((r) => b.store.on("updated", r));
    clock.advance(30_000);
    await updated;
    expect(b.store.view().isRevoked({ format: "shc", issuer: "https://shc.example", kid: "k1", id: "rid-9" })).toBe(true);
    await expect(a.store.publishRevocations({ add: ["not-a-hash"] })).rejects.toThrow(/32 hex digits/);
    // A third gateway starting later replays the whole stream.
    const c = await gateway(clock, redis);
    await c.store.start();
    expect(c.store.view().isRevoked({ format: "pass", id: "NEW-2" })).toBe(true);
    expect(c.store.view().isRevoked({ format: "pass", id: "OLD" })).toBe(false);
  });

  it("works on local state when Redis is unreachable, and says so once", async () => {
    const port = await freePort();
    const dead = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 500 });
    dead.on("error", () => undefined); // the gateway owns the client and its error listener
    try {
      server.body = await signedList(root.priv, 8, [(await passEntry("k-local")).entry]);
      const clock = new FakeClock(Date.now());
      const g = await gateway(clock, dead);
      await g.store.start();
      expect(g.store.view().keysFor("k-local", "pass")).toHaveLength(1);
      expect(g.store.status()).toMatchObject({ version: "8", stale: false });
      const pub = await g.store.publishRevocations({ add: [credentialIdHashHex("LOCAL")] });
      expect(pub.shared).toBe(false);
      expect(g.store.view().isRevoked({ format: "pass", id: "LOCAL" })).toBe(true);
      await g.store.refreshNow();
      expect(g.logs.codes().filter((c) => c === "GW_REDIS_UNAVAILABLE")).toHaveLength(1);
      expect(g.logs.codes()).not.toContain("GW_TRUST_FETCH");
    } finally {
      dead.disconnect();
    }
  });
});

