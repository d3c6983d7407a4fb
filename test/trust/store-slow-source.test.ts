import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { shcKid } from "../../src/verify/trust/keys.js";
import { credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import { signRevocationDelta } from "../../src/verify/trust/signed-delta.js";
import { MAX_CRLS_PER_ISSUER } from "../../src/verify/trust/sources/shc-crl.js";
import { createTrustStore, type TrustStore } from "../../src/verify/trust/store.js";
import { deleteKeysWith } from "../support/redis.js";
import { captureLogs, ListServer, makeKeyPair, passEntry, signedList, tempDir, trustConfig, until } from "./helpers.js";

/**
 * Audit (verify/trust) #3: one slow CRL host held back every trust update. CRLs were fetched one
 * after another, the view was rebuilt only after every source settled, the Redis revocation poll
 * was skipped while a refresh ran, and start-up waited for the first refresh.
 */
const tmp = tempDir("slow");
afterAll(() => tmp.cleanup());

/** An SHC issuer whose JWKS has `n` keys announcing a CRL; CRL requests are held until released (or answered, with `answer`). */
async function crlHost(n: number, answer = false) {
  const keys = Array.from({ length: n }, () => {
    const j = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
    return { kty: "EC", crv: "P-256", x: j.x!, y: j.y!, use: "sig", alg: "ES256", crlVersion: 1 };
  });
  const held: ServerResponse[] = [];
  const crlHits: string[] = [];
  const srv = createServer((req, res) => {
    if (req.url === "/iss/.well-known/jwks.json") return void res.writeHead(200, { etag: '"j"' }).end(JSON.stringify({ keys }));
    const kid = /\/crl\/([^/]+)\.json$/.exec(req.url ?? "")?.[1];
    if (!kid) return void res.writeHead(404).end();
    crlHits.push(decodeURIComponent(kid));
    if (answer) return void res.writeHead(200).end(JSON.stringify({ kid: decodeURIComponent(kid), method: "rid", ctr: 1, rids: [] }));
    held.push(res);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return {
    issuer: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/iss`,
    kids: keys.map((k) => shcKid(k)),
    crlHits,
    /** CRL requests waiting for an answer now. */
    pending: () => held.filter((r) => !r.writableEnded && !r.destroyed).length,
    release: () => {
      for (const r of held.splice(0)) if (!r.writableEnded) r.writeHead(404).end();
    },
    close: async () => {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

/** A signed list file with one pass key; `revoked` ids are revoked in it. */
async function listFile(tag: string, extra: Record<string, unknown> = {}) {
  const root = await makeKeyPair("root");
  const dir = join(tmp.dir, tag);
  const rootPath = join(tmp.dir, `${tag}.root.jwk`);
  writeFileSync(rootPath, JSON.stringify(root.pub));
  const pass = await passEntry("moh-1");
  const path = `${dir}.list.jws`;
  const write = async (version: number, revoked: string[] = []) =>
    writeFileSync(path, await signedList(root.priv, version, [pass.entry], { ...(revoked.length ? { revocations: [{ type: "id-hash", hashes: revoked.map(credentialIdHashHex) }] } : {}), ...extra }));
  await write(1);
  return { list: { source: path, rootKey: rootPath }, write };
}

function settledFlag(p: Promise<unknown>): { done: boolean } {
  const f = { done: false };
  void p.finally(() => (f.done = true)).catch(() => undefined);
  return f;
}

describe("a slow CRL host holds back no other trust update (audit #3)", () => {
  it("an issuer's CRLs are fetched all at once, and the signed list's new revocation applies while they hang", async () => {
    const host = await crlHost(12);
    const { list, write } = await listFile("concurrent");
    // A long timeout: nothing here may wait for it.
    const store = await createTrustStore({ config: trustConfig({ lists: [list], jwks: [{ issuer: host.issuer, allowInsecureHttp: true }], fetchTimeoutS: 60 }), stateDir: join(tmp.dir, "concurrent-state"), clock: new FakeClock(Date.now()), logger: captureLogs().logger });
    try {
      const starting = store.start();
      await until(() => host.pending() === 12);
      host.release();
      await starting;
      await write(2, ["P-1"]);
      const refresh = store.refreshNow();
      const flag = settledFlag(refresh);
      await until(() => host.pending() === 12);
      // The list source settled: its revocation is in use while the CRL host still holds the refresh.
      await until(() => store.view().isRevoked({ format: "pass", id: "P-1" }));
      expect(store.status().version.split("+")[0]).toBe("2");
      expect(flag.done).toBe(false);
      host.release();
      await refresh;
      expect(store.status().sources[1]!.error).toBe("GW_TRUST_FETCH:crl-http-status");
      // stop() aborts CRL downloads in flight too: shutdown never waits for the 60 s timeout.
      const again = settledFlag(store.refreshNow());
      await until(() => host.pending() === 12);
      await store.stop();
      expect(again.done).toBe(true);
    } finally {
      await store.stop();
      await host.close();
    }
  });

  it("CRLs that never answer cost one fetchTimeoutS per refresh, not one per key", async () => {
    const host = await crlHost(12);
    const store = await createTrustStore({ config: trustConfig({ jwks: [{ issuer: host.issuer, allowInsecureHttp: true }], fetchTimeoutS: 1 }), stateDir: join(tmp.dir, "deadline-state"), clock: new FakeClock(Date.now()), logger: captureLogs().logger });
    try {
      await store.start();
      const t0 = performance.now();
      await store.refreshNow();
      // Sequential fetches took 12 s here; all at once under one deadline, about 1 s.
      expect(performance.now() - t0).toBeLessThan(4_000);
      expect(store.status().sources[0]!.error).toBe("GW_TRUST_FETCH:crl-network");
    } finally {
      await store.stop();
      await host.close();
    }
  });

  it(`at most ${MAX_CRLS_PER_ISSUER} CRLs per issuer are loaded; the cards of the keys past that are TRUST_STALE`, async () => {
    const host = await crlHost(MAX_CRLS_PER_ISSUER + 4, true);
    const store = await createTrustStore({ config: trustConfig({ jwks: [{ issuer: host.issuer, allowInsecureHttp: true }] }), stateDir: join(tmp.dir, "cap-state"), clock: new FakeClock(Date.now()), logger: captureLogs().logger });
    try {
      await store.start();
      expect(new Set(host.crlHits).size).toBe(MAX_CRLS_PER_ISSUER);
      const stale = host.kids.map((kid) => store.view().revocationsStale!({ format: "shc", issuer: host.issuer, kid, id: "r" }, Date.now()));
      expect(stale).toEqual(host.kids.map((_, i) => i >= MAX_CRLS_PER_ISSUER));
      expect(store.status().sources[0]!.error).toBe("GW_TRUST_FETCH:crl-content");
    } finally {
      await store.stop();
      await host.close();
    }
  });
});

describe("the Redis revocation poll runs while a refresh waits on a slow host (audit #3c)", () => {
  const prefix = `cpgw-test:${randomBytes(6).toString("hex")}:trust:`;
  let redis: Redis;
  beforeAll(async () => {
    redis = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
  });
  afterAll(async () => {
    await deleteKeysWith(redis, prefix);
    redis.disconnect();
  });

  it("a delta published during the refresh applies at the next poll, before the refresh ends", async () => {
    const host = await crlHost(2);
    const signer = await makeKeyPair("rev-1");
    const { list } = await listFile("poll", { revocationSigners: [{ kid: "rev-1", jwk: signer.pub }] });
    const clock = new FakeClock(Date.now());
    const store: TrustStore = await createTrustStore({ config: trustConfig({ lists: [list], jwks: [{ issuer: host.issuer, allowInsecureHttp: true }], fetchTimeoutS: 60 }), stateDir: join(tmp.dir, "poll-state"), clock, logger: captureLogs().logger, redis, redisPrefix: prefix });
    try {
      const starting = store.start();
      await until(() => host.pending() === 2);
      host.release();
      await starting;
      const refresh = store.refreshNow();
      const flag = settledFlag(refresh);
      await until(() => host.pending() === 2);
      await redis.xadd(`${prefix}revocations`, "*", "d", await signRevocationDelta({ add: [credentialIdHashHex("SITE-1")] }, signer.priv));
      clock.advance(30_000); // sharedPollS
      await until(() => store.view().isRevoked({ format: "pass", id: "SITE-1" }));
      expect(flag.done).toBe(false);
      host.release();
      await refresh;
      expect(store.view().isRevoked({ format: "pass", id: "SITE-1" })).toBe(true);
    } finally {
      await store.stop();
      await host.close();
    }
  });
});

describe("start({ untilUsable }) (audit #3d)", () => {
  it("returns on fresh disk copies while the first refresh hangs; waits when a source has nothing usable", async () => {
    const server = new ListServer();
    await server.start();
    const root = await makeKeyPair("root");
    const rootPath = join(tmp.dir, "usable.root.jwk");
    writeFileSync(rootPath, JSON.stringify(root.pub));
    server.body = await signedList(root.priv, 3, [(await passEntry("k-disk")).entry]);
    const clock = new FakeClock(Date.now());
    const open = (stateDir: string, fetchTimeoutS: number) => createTrustStore({ config: trustConfig({ lists: [{ source: server.url, rootKey: rootPath }], maxAgeS: 6 * 3600, fetchTimeoutS }), stateDir, clock, logger: captureLogs().logger });
    const stores: TrustStore[] = [];
    try {
      const first = await open(join(tmp.dir, "usable-state"), 10);
      stores.push(first);
      await first.start();
      await first.stop();

      server.behaviour = "hang";
      const hits = server.hits;
      const second = await open(join(tmp.dir, "usable-state"), 60);
      stores.push(second);
      await second.start({ untilUsable: true });
      // In service on the disk copy; the download it did not wait for is still hanging.
      expect(second.view().keysFor("k-disk", "pass")).toHaveLength(1);
      expect(second.status()).toMatchObject({ version: "3", stale: false });
      await until(() => server.hits > hits);
      await second.stop();

      // No disk copy: nothing usable, so start waits for the refresh to settle (here, its timeout).
      const empty = await open(join(tmp.dir, "usable-empty"), 1);
      stores.push(empty);
      const starting = empty.start({ untilUsable: true });
      const flag = settledFlag(starting);
      await until(() => server.hits > hits + 1);
      expect(flag.done).toBe(false);
      await starting;
      expect(empty.status()).toMatchObject({ stale: true });

      // A disk copy older than maxAgeS is not usable either.
      clock.advance(7 * 3600_000);
      const old = await open(join(tmp.dir, "usable-state"), 1);
      stores.push(old);
      const oldStart = old.start({ untilUsable: true });
      const oldFlag = settledFlag(oldStart);
      await until(() => server.hits > hits + 2);
      expect(oldFlag.done).toBe(false);
      await oldStart;
    } finally {
      for (const s of stores) await s.stop();
      await server.stop();
    }
  });
});
