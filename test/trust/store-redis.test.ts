import { createPrivateKey, randomBytes, type JsonWebKey } from "node:crypto";
import { freePort } from "../../bench/lib/net.js";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createVerifier, issuePass } from "../../src/verify/index.js";
import { typicalPass } from "../verify/support/pass.js";
import { createRedisCache } from "../../src/verify/trust/shared-cache.js";
import { createTrustStore, type TrustStore } from "../../src/verify/trust/store.js";
import { credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import { signRevocationDelta } from "../../src/verify/trust/signed-delta.js";
import { captureLogs, ListServer, makeKeyPair, passEntry, signedList, tempDir, trustConfig } from "./helpers.js";
import { deleteKeysWith } from "../support/redis.js";

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
  await deleteKeysWith(redis, prefix);
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
  await deleteKeysWith(redis, prefix);
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
  it("two gateways share one list: the second adopts the verified list from Redis, as fresh as its signed issuedAt", async () => {
    server.body = await signedList(root.priv, 4, [(await passEntry("k-shared")).entry]);
    const issuedAt = Date.parse((JSON.parse(Buffer.from(server.body.split(".")[1]!, "base64url").toString()) as { issuedAt: string }).issuedAt);
    const clock = new FakeClock(Date.now());
    const a = await gateway(clock, redis);
    await a.store.start();
    expect(server.hits).toBe(1);
    await server.stop(); // the second gateway cannot reach the server at all
    const b = await gateway(clock, redis);
    await b.store.start();
    expect(b.store.view().keysFor("k-shared", "pass")).toHaveLength(1);
    // Freshness is the list's signed time, not the fetch time a peer wrote into Redis.
    expect(b.store.status()).toMatchObject({ version: "4", stale: false, refreshedAt: issuedAt });
    expect(b.logs.codes()).toContain("GW_TRUST_FETCH"); // its own download was still tried
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
    expect(b2.status()).toMatchObject({ version: "4", stale: false, refreshedAt: issuedAt });
  });

  it("a list adopted from Redis whose disk copy cannot be written is in use, and the disk is blamed, not Redis", async () => {
    server.body = await signedList(root.priv, 4, [(await passEntry("k-disk")).entry]);
    const clock = new FakeClock(Date.now());
    const a = await gateway(clock, redis);
    await a.store.start();
    await server.stop();
    const b = await gateway(clock, redis);
    // Where B's copy of the list goes, something in the way (a disk that cannot take it behaves alike).
    const id = createHash("sha256").update(server.url).digest("hex").slice(0, 16);
    mkdirSync(join(b.stateDir, "trust", `list-${id}.body`), { recursive: true });
    await b.store.start();
    expect(b.store.view().keysFor("k-disk", "pass")).toHaveLength(1);
    expect(b.store.stats().cacheCopiesRefused).toBe(0);
    const recs = b.logs.records();
    expect(recs.some((r) => r.reason === "disk" && /could not be saved/.test(String(r.msg)))).toBe(true);
    expect(recs.some((r) => /shared cache copy of trust list rejected/.test(String(r.msg)))).toBe(false);
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

  it("shares signed revocation deltas: published on one gateway, seen by the other after its next refresh", async () => {
    const signer = await makeKeyPair("rev-1");
    server.body = await signedList(root.priv, 1, [], {
      revocations: [{ type: "id-hash", hashes: [credentialIdHashHex("OLD")] }],
      revocationSigners: [{ kid: "rev-1", jwk: signer.pub }],
    });
    const clock = new FakeClock(Date.now());
    const a = await gateway(clock, redis);
    const b = await gateway(clock, redis);
    await a.store.start();
    await b.store.start();
    const bView = b.store.view();
    const d1 = await signRevocationDelta({ add: [credentialIdHashHex("NEW-1"), credentialIdHashHex("NEW-2"), credentialIdHashHex("GONE")] }, signer.priv, 1000);
    const r = await a.store.publishRevocations(d1);
    expect(r.shared).toBe(true);
    expect(a.store.view().isRevoked({ format: "pass", id: "NEW-1" })).toBe(true);
    // A signed removal withdraws a delta's own addition, never what the signed list revokes (OLD).
    await a.store.publishRevocations(await signRevocationDelta({ remove: [credentialIdHashHex("GONE"), credentialIdHashHex("OLD")] }, signer.priv, 2000));
    await b.store.refreshNow();
    const v = b.store.view();
    expect(["NEW-1", "NEW-2", "GONE", "OLD", "OTHER"].map((id) => v.isRevoked({ format: "dcc", id }))).toEqual([true, true, false, true, false]);
    expect(bView.isRevoked({ format: "pass", id: "NEW-1" })).toBe(false); // old snapshot unchanged
    await a.store.publishRevocations(await signRevocationDelta({ shc: [{ issuer: "https://shc.example", kid: "k1", add: ["rid-9"] }] }, signer.priv, 3000));
    // No refresh: the stream poll (sharedPollS, 30 s on the injected clock) picks it up.
    const updated = new Promise((r) => b.store.on("updated", r));
    clock.advance(30_000);
    await updated;
    expect(b.store.view().isRevoked({ format: "shc", issuer: "https://shc.example", kid: "k1", id: "rid-9" })).toBe(true);
    await expect(signRevocationDelta({ add: ["not-a-hash"] }, signer.priv)).rejects.toThrow(/32 hex digits/);
    // A third gateway starting later replays the whole stream.
    const c = await gateway(clock, redis);
    await c.store.start();
    expect(c.store.view().isRevoked({ format: "pass", id: "NEW-2" })).toBe(true);
    expect(c.store.view().isRevoked({ format: "pass", id: "OLD" })).toBe(true);
    expect(c.store.view().isRevoked({ format: "pass", id: "GONE" })).toBe(false);
    expect(c.store.stats()).toMatchObject({ revocationDeltasApplied: 3, revocationDeltasRefused: 0 });
  });

  it("works on local state when Redis is unreachable, and says so once", async () => {
    const port = await freePort();
    const dead = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 500 });
    dead.on("error", () => undefined); // the gateway owns the client and its error listener
    try {
      const signer = await makeKeyPair("rev-local");
      server.body = await signedList(root.priv, 8, [(await passEntry("k-local")).entry], { revocationSigners: [{ kid: "rev-local", jwk: signer.pub }] });
      const clock = new FakeClock(Date.now());
      const g = await gateway(clock, dead);
      await g.store.start();
      expect(g.store.view().keysFor("k-local", "pass")).toHaveLength(1);
      expect(g.store.status()).toMatchObject({ version: "8", stale: false });
      const pub = await g.store.publishRevocations(await signRevocationDelta({ add: [credentialIdHashHex("LOCAL")] }, signer.priv));
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


/** A pass signed by a key of the list, valid around `at`, and the verdict a lane would show for it. */
async function passFixture(kid: string) {
  const { entry, priv } = await passEntry(kid, "VN-MOH");
  const at = Math.floor(Date.now() / 1000);
  const text = issuePass(typicalPass({ passId: "P-ATTACK-1", declaredAt: at - 3600, validFrom: at - 3600, validUntil: at + 30 * 86400 }), kid, createPrivateKey({ key: priv as JsonWebKey, format: "jwk" }));
  const verdict = (store: TrustStore, nowMs: number) => {
    const v = createVerifier({ trust: () => store.view(), salt: "s", clockSkewS: 60 }).verify(text, { nowMs });
    return `${v.verdict} ${v.reason}`;
  };
  return { entry, verdict, hash: credentialIdHashHex("P-ATTACK-1") };
}

describe("Redis and disk are caches, never authorities (issue #11.1, #11.2)", () => {
  it("an unsigned XADD cannot un-revoke what the signed list revokes; it is refused and counted", async () => {
    const signer = await makeKeyPair("rev-1");
    const p = await passFixture("k-att");
    server.body = await signedList(root.priv, 1, [p.entry], { revocations: [{ type: "id-hash", hashes: [p.hash] }], revocationSigners: [{ kid: "rev-1", jwk: signer.pub }] });
    const clock = new FakeClock(Date.now());
    const g = await gateway(clock, redis);
    await g.store.start();
    expect(p.verdict(g.store, clock.now())).toBe("FLAG REVOKED");
    // What an attacker with write access to the site's Redis did: an unsigned delta, replayed at every start.
    await redis.xadd(`${prefix}revocations`, "*", "d", JSON.stringify({ remove: [p.hash] }));
    await g.store.refreshNow();
    expect(p.verdict(g.store, clock.now())).toBe("FLAG REVOKED");
    const g2 = await gateway(clock, redis);
    await g2.store.start();
    expect(p.verdict(g2.store, clock.now())).toBe("FLAG REVOKED");
    expect(g.store.stats().revocationDeltasRefused).toBe(1);
    expect(g2.store.stats()).toMatchObject({ revocationDeltasRefused: 1, revocationDeltasApplied: 0 });
    // Even a properly signed removal only withdraws delta additions, never the list's revocation.
    await g.store.publishRevocations(await signRevocationDelta({ remove: [p.hash] }, signer.priv));
    expect(p.verdict(g.store, clock.now())).toBe("FLAG REVOKED");
  });

  it("deltas signed by a key the list does not name for revocation are refused and counted", async () => {
    const signer = await makeKeyPair("rev-1");
    const impostor = await makeKeyPair("rev-1"); // same kid, other key
    const p = await passFixture("k-att2");
    server.body = await signedList(root.priv, 1, [p.entry], { revocationSigners: [{ kid: "rev-1", jwk: signer.pub }] });
    const clock = new FakeClock(Date.now());
    const g = await gateway(clock, redis);
    await g.store.start();
    expect(p.verdict(g.store, clock.now())).toBe("PASS OK");
    for (const key of [impostor.priv, root.priv]) {
      const forged = await signRevocationDelta({ add: [p.hash] }, key);
      await expect(g.store.publishRevocations(forged)).rejects.toThrow(/revocation signer|does not verify/);
      await redis.xadd(`${prefix}revocations`, "*", "d", forged);
    }
    await g.store.refreshNow();
    expect(p.verdict(g.store, clock.now())).toBe("PASS OK");
    expect(g.store.stats()).toMatchObject({ revocationDeltasRefused: 2, revocationDeltasApplied: 0 });
    // The real signer revokes; re-appending an older signed "remove" after it changes nothing (signed order).
    const oldRemove = await signRevocationDelta({ remove: [p.hash] }, signer.priv, 1000);
    await g.store.publishRevocations(await signRevocationDelta({ add: [p.hash] }, signer.priv, 2000));
    await redis.xadd(`${prefix}revocations`, "*", "d", oldRemove);
    await g.store.refreshNow();
    expect(p.verdict(g.store, clock.now())).toBe("FLAG REVOKED");
    // Trimming the stream does not forget a verified revocation.
    await redis.xtrim(`${prefix}revocations`, "MAXLEN", 0);
    await g.store.refreshNow();
    expect(p.verdict(g.store, clock.now())).toBe("FLAG REVOKED");
  });

  it("a delta whose signer the list names only later is applied then (the stream is read again under the new signers)", async () => {
    const signer = await makeKeyPair("rev-late");
    const p = await passFixture("k-late");
    server.body = await signedList(root.priv, 1, [p.entry]);
    const clock = new FakeClock(Date.now());
    const g = await gateway(clock, redis);
    await g.store.start();
    await redis.xadd(`${prefix}revocations`, "*", "d", await signRevocationDelta({ add: [p.hash] }, signer.priv));
    for (let i = 0; i < 50; i++) await redis.xadd(`${prefix}revocations`, "*", "d", `garbage-${i}`);
    await g.store.refreshNow();
    expect(p.verdict(g.store, clock.now())).toBe("PASS OK");
    expect(g.store.stats()).toMatchObject({ revocationDeltasApplied: 0, revocationDeltasRefused: 51 });
    server.body = await signedList(root.priv, 2, [p.entry], { revocationSigners: [{ kid: "rev-late", jwk: signer.pub }] });
    server.etag = '"late-2"';
    await g.store.refreshNow();
    expect(p.verdict(g.store, clock.now())).toBe("FLAG REVOKED");
    expect(g.store.stats()).toMatchObject({ revocationDeltasApplied: 1, revocationDeltasRefused: 51 }); // each refusal counted once
  });

  it("a delta accepted from the stream stays applied after the stream is lost and the gateway restarts: kept on disk, verified again when loaded", async () => {
    const signer = await makeKeyPair("rev-disk");
    const p = await passFixture("k-delta-disk");
    server.body = await signedList(root.priv, 1, [p.entry], { revocationSigners: [{ kid: "rev-disk", jwk: signer.pub }] });
    const clock = new FakeClock(Date.now());
    const a = await gateway(clock, redis);
    const b = await gateway(clock, redis);
    await a.store.start();
    await b.store.start();
    await a.store.publishRevocations(await signRevocationDelta({ add: [p.hash] }, signer.priv));
    await b.store.refreshNow();
    expect(p.verdict(b.store, clock.now())).toBe("FLAG REVOKED");
    // The stream is lost (DEL, a Redis restart without persistence, an eviction), then B restarts on its state dir.
    await redis.del(`${prefix}revocations`);
    await b.store.stop();
    const restart = async () => {
      const s = await createTrustStore({
        config: trustConfig({ lists: [{ source: server.url, rootKey: rootPath }], refreshIntervalS: 3600, maxAgeS: 6 * 3600 }),
        stateDir: b.stateDir,
        clock,
        logger: captureLogs().logger,
        redis,
        redisPrefix: prefix,
      });
      stores.push(s);
      await s.start();
      return s;
    };
    const b2 = await restart();
    expect(p.verdict(b2, clock.now())).toBe("FLAG REVOKED");
    expect(b2.stats()).toMatchObject({ revocationDeltasApplied: 1, revocationDeltasRefused: 0, cacheCopiesRefused: 0 });
    // Once the signed list carries the revocation the disk copy lets the delta go; the list keeps it revoked.
    server.body = await signedList(root.priv, 2, [p.entry], { revocations: [{ type: "id-hash", hashes: [p.hash] }], revocationSigners: [{ kid: "rev-disk", jwk: signer.pub }] });
    server.etag = '"carried-2"';
    await b2.refreshNow();
    await b2.stop();
    const b3 = await restart();
    expect(p.verdict(b3, clock.now())).toBe("FLAG REVOKED");
    expect(b3.stats().revocationDeltasApplied).toBe(0);
  });

  it("the disk copy of the deltas is no authority: a delta written into it without a named signer's key is refused, a damaged copy is refused and counted", async () => {
    const signer = await makeKeyPair("rev-disk2");
    const impostor = await makeKeyPair("rev-disk2");
    const p = await passFixture("k-delta-forged");
    server.body = await signedList(root.priv, 1, [p.entry], { revocationSigners: [{ kid: "rev-disk2", jwk: signer.pub }] });
    const clock = new FakeClock(Date.now());
    const g = await gateway(clock, redis);
    await g.store.start();
    await g.store.publishRevocations(await signRevocationDelta({ add: [credentialIdHashHex("GENUINE")] }, signer.priv));
    await g.store.stop();
    await redis.del(`${prefix}revocations`);
    const file = join(g.stateDir, "trust", "revocation-deltas.json");
    const saved = JSON.parse(readFileSync(file, "utf8")) as { deltas: Array<{ id: string; jws: string }> };
    expect(saved.deltas).toHaveLength(1);
    saved.deltas.push({ id: "0-1", jws: await signRevocationDelta({ add: [p.hash] }, impostor.priv) }, { id: "0-2", jws: "not a jws" });
    writeFileSync(file, JSON.stringify(saved));
    const open = async () => {
      const s = await createTrustStore({ config: trustConfig({ lists: [{ source: server.url, rootKey: rootPath }] }), stateDir: g.stateDir, clock, logger: captureLogs().logger, redis, redisPrefix: prefix });
      stores.push(s);
      await s.start();
      return s;
    };
    const g2 = await open();
    expect(p.verdict(g2, clock.now())).toBe("PASS OK");
    expect(g2.view().isRevoked({ format: "pass", id: "GENUINE" })).toBe(true);
    expect(g2.stats()).toMatchObject({ revocationDeltasApplied: 1, revocationDeltasRefused: 2 });
    await g2.stop();
    // Cut short (written by something else than the gateway's tmp, fsync, rename): refused whole, counted, never half-read.
    writeFileSync(file, '{"deltas":[{"id":"1-0","jws":"ey');
    const g3 = await open();
    expect(g3.view().isRevoked({ format: "pass", id: "GENUINE" })).toBe(false);
    expect(g3.stats()).toMatchObject({ revocationDeltasApplied: 0, cacheCopiesRefused: 1 });
    // Kept aside for a person, not erased by the next save.
    const aside = readdirSync(join(g.stateDir, "trust")).filter((f) => f.startsWith("revocation-deltas.json.refused-"));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(g.stateDir, "trust", aside[0]!), "utf8")).toBe('{"deltas":[{"id":"1-0","jws":"ey');
  });

  it("deltas that add up past trust.maxListBytes are still kept and loaded: the copy has its own bound, so a restart without the stream does not un-revoke", async () => {
    const signer = await makeKeyPair("rev-big");
    const p = await passFixture("k-delta-big");
    server.body = await signedList(root.priv, 1, [p.entry], { revocationSigners: [{ kid: "rev-big", jwk: signer.pub }] });
    const clock = new FakeClock(Date.now());
    const t = tempDir("gw-big");
    tmps.push(t);
    const open = async () => {
      const s = await createTrustStore({ config: trustConfig({ lists: [{ source: server.url, rootKey: rootPath }], maxListBytes: 4096 }), stateDir: t.dir, clock, logger: captureLogs().logger, redis, redisPrefix: prefix });
      stores.push(s);
      await s.start();
      return s;
    };
    const g = await open();
    // A mass revocation: 200 hashes, about 13 kB signed, more than the sites's 4 kB list bound.
    const many = Array.from({ length: 199 }, (_, i) => credentialIdHashHex(`MASS-${i}`));
    await g.publishRevocations(await signRevocationDelta({ add: [p.hash, ...many] }, signer.priv));
    expect(p.verdict(g, clock.now())).toBe("FLAG REVOKED");
    await g.stop();
    expect(statSync(join(t.dir, "trust", "revocation-deltas.json")).size).toBeGreaterThan(4096);
    await redis.del(`${prefix}revocations`);
    const g2 = await open();
    expect(p.verdict(g2, clock.now())).toBe("FLAG REVOKED");
    expect(g2.stats()).toMatchObject({ revocationDeltasApplied: 1, cacheCopiesRefused: 0 });
  });

  it("a fetchedAt set 10 years ahead in Redis neither stops the download of v2 nor keeps v1 fresh", async () => {
    const p = await passFixture("k-fresh");
    server.body = await signedList(root.priv, 1, [p.entry]);
    const clock = new FakeClock(Date.now());
    const a = await gateway(clock, redis);
    await a.store.start();
    const key = (await redis.keys(`${prefix}list:*`))[0]!;
    await redis.hset(key, "fetchedAt", String(clock.now() + 10 * 365 * 86_400_000));
    server.body = await signedList(root.priv, 2, [p.entry], { revocations: [{ type: "id-hash", hashes: [p.hash] }] });
    server.etag = '"v2"';
    const b = await gateway(clock, redis);
    await b.store.start();
    expect(b.store.status().version).toBe("2");
    expect(p.verdict(b.store, clock.now())).toBe("FLAG REVOKED");
    clock.advance(3600_000);
    await a.store.refreshNow();
    expect(a.store.status().version).toBe("2");
    expect(p.verdict(a.store, clock.now())).toBe("FLAG REVOKED");
  });

  it("with the trust server down past maxAgeS, verdicts are TRUST_STALE even when Redis says fresh", async () => {
    const p = await passFixture("k-stale");
    server.body = await signedList(root.priv, 3, [p.entry]);
    const clock = new FakeClock(Date.now());
    const g = await gateway(clock, redis); // maxAgeS 6 h
    await g.store.start();
    expect(p.verdict(g.store, clock.now())).toBe("PASS OK");
    server.behaviour = "500";
    const key = (await redis.keys(`${prefix}list:*`))[0]!;
    for (let h = 0; h < 8; h++) {
      clock.advance(3600_000);
      await redis.hset(key, "fetchedAt", String(clock.now())); // a Redis writer keeps "confirming" the copy
      await g.store.refreshNow();
    }
    expect(g.store.status().stale).toBe(true);
    expect(p.verdict(g.store, clock.now())).toBe("FLAG TRUST_STALE");
  });

  it("the on-disk copy cannot claim freshness: a future fetchedAt in its meta file is ignored", async () => {
    const p = await passFixture("k-disk");
    server.body = await signedList(root.priv, 5, [p.entry]);
    const clock = new FakeClock(Date.now());
    const g = await gateway(clock, redis);
    await g.store.start();
    await g.store.stop();
    const dir = join(g.stateDir, "trust");
    const meta = readdirSync(dir).find((f) => f.startsWith("list-") && f.endsWith(".meta.json"))!;
    writeFileSync(join(dir, meta), JSON.stringify({ fetchedAt: clock.now() + 10 * 365 * 86_400_000 }));
    await server.stop();
    clock.advance(7 * 86_400_000); // a week with the trust server down
    const logs = captureLogs();
    const offline = await createTrustStore({
      config: trustConfig({ lists: [{ source: server.url, rootKey: rootPath }], refreshIntervalS: 3600, maxAgeS: 6 * 3600 }),
      stateDir: g.stateDir,
      clock,
      logger: logs.logger,
    });
    stores.push(offline);
    await offline.start();
    expect(offline.status()).toMatchObject({ version: "5", stale: true });
    expect(p.verdict(offline, clock.now())).toBe("FLAG TRUST_STALE");
  });

  it("an older genuine list in Redis (with a lying version field) never replaces the newer one held", async () => {
    const p = await passFixture("k-roll");
    const v1 = await signedList(root.priv, 1, [p.entry]);
    server.body = await signedList(root.priv, 2, [p.entry], { revocations: [{ type: "id-hash", hashes: [p.hash] }] });
    const clock = new FakeClock(Date.now());
    const g = await gateway(clock, redis);
    await g.store.start();
    const key = (await redis.keys(`${prefix}list:*`))[0]!;
    await redis.hset(key, "jws", v1, "version", "99", "fetchedAt", String(clock.now()));
    await server.stop();
    await g.store.refreshNow();
    expect(g.store.status().version).toBe("2");
    expect(p.verdict(g.store, clock.now())).toBe("FLAG REVOKED");
    expect(g.store.stats().cacheCopiesRefused).toBe(1);
  });
});
