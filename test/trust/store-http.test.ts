import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CompactSign, importJWK } from "jose";
import { FakeClock } from "../../src/core/clock.js";
import { TRUST_LIST_TYP } from "../../src/verify/trust/signed-list.js";
import { createTrustStore, type TrustStore } from "../../src/verify/trust/store.js";
import { credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import { captureLogs, ListServer, makeKeyPair, passEntry, signedList, tempDir, trustConfig } from "./helpers.js";

const HOUR = 3600_000;

let server: ListServer;
let tmp: ReturnType<typeof tempDir>;
let stores: TrustStore[];
let root: Awaited<ReturnType<typeof makeKeyPair>>;
let rootPath: string;

beforeEach(async () => {
  server = new ListServer();
  await server.start();
  tmp = tempDir("store");
  stores = [];
  root = await makeKeyPair("root");
  rootPath = join(tmp.dir, "root.public.jwk.json");
  writeFileSync(rootPath, JSON.stringify(root.pub));
});

afterEach(async () => {
  for (const s of stores) await s.stop();
  await server.stop();
  tmp.cleanup();
});

async function newStore(clock: FakeClock, over: Parameters<typeof trustConfig>[0] = {}) {
  const logs = captureLogs();
  const store = await createTrustStore({
    config: trustConfig({ lists: [{ source: server.url, rootKey: rootPath }], maxAgeS: 6 * 3600, refreshIntervalS: 3600, ...over }),
    stateDir: tmp.dir,
    clock,
    logger: logs.logger,
    random: () => 0.5,
  });
  stores.push(store);
  return { store, logs };
}

describe("trust store over HTTP", () => {
  it("loads a signed list, indexes keys by kid and format, and answers revocation lookups", async () => {
    const a = await passEntry("k-a", "XA");
    server.body = await signedList(root.priv, 1, [a.entry], { revocations: [{ type: "id-hash", hashes: [credentialIdHashHex("P-1")] }] });
    const clock = new FakeClock(Date.now());
    const { store } = await newStore(clock);
    await store.start();
    const v = store.view();
    expect(v.keysFor("k-a", "pass").map((k) => k.issuer)).toEqual(["XA"]);
    expect(v.keysFor("k-a", "dcc")).toEqual([]);
    expect(v.keysFor("nope", "pass")).toEqual([]);
    expect(v.isRevoked({ format: "pass", id: "P-1" })).toBe(true);
    expect(v.isRevoked({ format: "pass", id: "P-2" })).toBe(false);
    const st = store.status();
    expect(st).toMatchObject({ version: "1", stale: false, refreshedAt: clock.now() });
    expect(st.sources).toEqual([{ source: server.url, ok: true, refreshedAt: clock.now(), keys: 1 }]);
  });

  it("keeps the old list on a bad signature, a truncated body, a rollback and an HTTP error, logging stable codes", async () => {
    const a = await passEntry("k-a");
    server.body = await signedList(root.priv, 5, [a.entry]);
    const clock = new FakeClock(Date.now());
    const { store, logs } = await newStore(clock);
    const errors: unknown[] = [];
    store.on("error", (e) => errors.push(e));
    await store.start();
    const before = store.view();

    const attacker = await makeKeyPair("root");
    const evil = await passEntry("k-evil");
    const cases: Array<[() => Promise<void>, string, string]> = [
      [async () => { server.body = await signedList(attacker.priv, 6, [evil.entry]); server.etag = '"e1"'; }, "GW_TRUST_SIGNATURE", "signature"],
      [async () => { server.body = await signedList(root.priv, 6, [evil.entry]); server.etag = '"e2"'; server.behaviour = "truncate"; }, "GW_TRUST_FETCH", "truncated"],
      [async () => { server.behaviour = "ok"; server.body = await signedList(root.priv, 4, [evil.entry]); server.etag = '"e3"'; }, "GW_TRUST_SIGNATURE", "rollback"],
      [async () => { server.body = await signedList(root.priv, 5, [evil.entry]); server.etag = '"e4"'; }, "GW_TRUST_SIGNATURE", "rollback"],
      [async () => { server.body = "<html>maintenance</html>"; server.etag = '"e5"'; }, "GW_TRUST_SIGNATURE", "signature"],
      [async () => {
        // Correctly signed by the root, but not a trust list payload (wrong content).
        const key = await importJWK(root.priv, "ES256");
        server.body = await new CompactSign(Buffer.from(JSON.stringify({ version: 9, issuedAt: "soon", entries: "all" }))).setProtectedHeader({ alg: "ES256", typ: TRUST_LIST_TYP }).sign(key);
        server.etag = '"e5b"';
      }, "GW_TRUST_SIGNATURE", "schema"],
      [async () => { server.behaviour = "500"; }, "GW_TRUST_FETCH", "http-status"],
    ];
    for (const [arrange, code, reason] of cases) {
      await arrange();
      clock.advance(60_000);
      const st = await store.refreshNow();
      expect(st.version).toBe("5");
      expect(st.sources[0]).toMatchObject({ ok: false, error: `${code}:${reason}` });
      expect(store.view().keysFor("k-evil", "pass")).toEqual([]);
      expect(store.view().keysFor("k-a", "pass")).toHaveLength(1);
      expect(errors.at(-1)).toMatchObject({ code, reason });
    }
    // The lists here carry no expiry over plain http: that warning (once, `no-expiry`) is not a failure.
    expect(logs.records().filter((r) => String(r.code).startsWith("GW_TRUST") && r.reason !== "no-expiry").map((r) => r.code)).toEqual(cases.map((c) => c[1]));
    // A view taken before the failures still answers the same (snapshots are immutable).
    expect(before.keysFor("k-a", "pass")).toHaveLength(1);
    // The server recovers with a newer, correctly signed list: it is taken.
    server.behaviour = "ok";
    server.body = await signedList(root.priv, 6, [evil.entry]);
    server.etag = '"e6"';
    expect((await store.refreshNow()).version).toBe("6");
    expect(store.view().keysFor("k-evil", "pass")).toHaveLength(1);
    expect(store.view().keysFor("k-a", "pass")).toEqual([]);
    expect(before.keysFor("k-a", "pass")).toHaveLength(1);
  });

  it("revalidates with If-None-Match: a 304 refreshes the age without re-reading the list", async () => {
    server.body = await signedList(root.priv, 1, [(await passEntry("k"))!.entry]);
    server.etag = '"abc"';
    const clock = new FakeClock(Date.now());
    const { store } = await newStore(clock);
    const updates: unknown[] = [];
    store.on("updated", (s) => updates.push(s));
    await store.start();
    expect(updates).toHaveLength(1);
    const first = store.status().refreshedAt!;
    clock.advance(2 * HOUR); // the scheduled refresh fires
    await store.refreshNow();
    expect(server.conditionalHits).toBeGreaterThanOrEqual(1);
    expect(server.hits).toBeGreaterThanOrEqual(2);
    const st = store.status();
    expect(st.refreshedAt).toBeGreaterThan(first);
    expect(st.version).toBe("1");
    expect(updates).toHaveLength(1); // 304: nothing changed, no "updated"
  });

  it("starts from the disk copy when the server is down, as old as its signed issuedAt", async () => {
    const clock = new FakeClock(Date.now());
    const issuedAt = clock.now() - HOUR;
    server.body = await signedList(root.priv, 3, [(await passEntry("k-disk")).entry], { issuedAt: new Date(issuedAt).toISOString() });
    const first = await newStore(clock);
    await first.store.start();
    expect(first.store.status().refreshedAt).toBe(clock.now()); // its own fetch
    await first.store.stop();
    await server.stop();

    clock.advance(2 * HOUR);
    const { store, logs } = await newStore(clock);
    await store.start();
    expect(store.view().keysFor("k-disk", "pass")).toHaveLength(1);
    const st = store.status();
    // Not the fetch time the disk meta file claims (anyone who can write stateDir/trust could forge it).
    expect(st).toMatchObject({ version: "3", stale: false, refreshedAt: issuedAt, ageMs: 3 * HOUR });
    expect(st.sources[0]).toMatchObject({ ok: false, error: "GW_TRUST_FETCH:network" });
    expect(logs.codes()).toContain("GW_TRUST_FETCH");
  });

  it("an unsigned source's disk copy claiming a fetch time in the future is refused, not fresh for ever", async () => {
    server.body = credentialIdHashHex("DENY-1") + "\n";
    const clock = new FakeClock(Date.now());
    const cfg = { lists: [], revocations: [{ source: server.url, allowInsecureHttp: true }] };
    const first = await newStore(clock, cfg);
    await first.store.start();
    expect(first.store.view().isRevoked({ format: "pass", id: "DENY-1" })).toBe(true);
    await first.store.stop();
    await server.stop();
    const dir = join(tmp.dir, "trust");
    const meta = readdirSync(dir).find((f) => f.startsWith("revocations-") && f.endsWith(".meta.json"))!;
    writeFileSync(join(dir, meta), JSON.stringify({ fetchedAt: clock.now() + 10 * 365 * 24 * HOUR }));
    const { store, logs } = await newStore(clock, cfg);
    await store.start();
    expect(store.status().stale).toBe(true);
    expect(store.stats().cacheCopiesRefused).toBe(1);
    expect(logs.records().some((r) => r.msg === "disk copy of trust source rejected")).toBe(true);
  });

  it("a deny list's disk copy cut short or altered is refused, not loaded as a shorter list that un-revokes", async () => {
    server.body = `${credentialIdHashHex("DENY-1")}\n${credentialIdHashHex("DENY-2")}\n`;
    const clock = new FakeClock(Date.now());
    const cfg = { lists: [], revocations: [{ source: server.url, allowInsecureHttp: true }] };
    const first = await newStore(clock, cfg);
    await first.store.start();
    await first.store.stop();
    await server.stop();
    const dir = join(tmp.dir, "trust");
    const file = (suffix: string) => join(dir, readdirSync(dir).find((f) => f.startsWith("revocations-") && f.endsWith(suffix))!);
    expect(JSON.parse(readFileSync(file(".meta.json"), "utf8"))).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // Intact: the offline start loads it.
    const intact = await newStore(clock, cfg);
    await intact.store.start();
    expect(intact.store.view().isRevoked({ format: "pass", id: "DENY-2" })).toBe(true);
    await intact.store.stop();
    // A power cut tears the body after its first line: DENY-2 would silently be un-revoked.
    writeFileSync(file(".body"), `${credentialIdHashHex("DENY-1")}\n`);
    const { store, logs } = await newStore(clock, cfg);
    await store.start();
    expect(store.view().isRevoked({ format: "pass", id: "DENY-1" })).toBe(false);
    expect(store.status().stale).toBe(true); // verdicts TRUST_STALE, never PASS on a list that lost entries
    expect(store.stats().cacheCopiesRefused).toBe(1);
    expect(logs.records().find((r) => r.msg === "disk copy of trust source rejected")).toMatchObject({ code: "GW_TRUST_FETCH", reason: "disk-damaged" });
  });

  it("a signed list over plain http without expiresAt is warned about once (an older genuine list could pass as current); with one, not", async () => {
    server.body = await signedList(root.priv, 1, []);
    const clock = new FakeClock(Date.now());
    const { store, logs } = await newStore(clock);
    await store.start();
    server.body = await signedList(root.priv, 2, []);
    await store.refreshNow();
    expect(logs.records().filter((r) => r.reason === "no-expiry").map((r) => r.code)).toEqual(["GW_TRUST_SIGNATURE"]);
    await store.stop();
    server.body = await signedList(root.priv, 3, [], { expiresAt: new Date(clock.now() + 7 * 24 * HOUR).toISOString() });
    const fresh = tempDir("store-exp");
    const logs2 = captureLogs();
    const withExpiry = await createTrustStore({ config: trustConfig({ lists: [{ source: server.url, rootKey: rootPath }] }), stateDir: fresh.dir, clock, logger: logs2.logger, random: () => 0.5 });
    stores.push(withExpiry);
    await withExpiry.start();
    expect(withExpiry.status().version).toBe("3");
    expect(logs2.records().some((r) => r.reason === "no-expiry")).toBe(false);
    fresh.cleanup();
  });

  it("a deny list download that drops more than half the held entries at once is refused (the held list stays); a smaller drop is taken", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `DENY-${i}`);
    const list = (n: number) => ids.slice(0, n).map((id) => credentialIdHashHex(id)).join("\n") + "\n";
    server.body = list(40);
    server.etag = '"d40"';
    const clock = new FakeClock(Date.now());
    const cfg = { lists: [], revocations: [{ source: server.url, allowInsecureHttp: true }] };
    const { store, logs } = await newStore(clock, cfg);
    await store.start();
    // The CDN serves a stub: 10 of 40 left. DENY-39 would be un-revoked.
    server.body = list(10);
    server.etag = '"d10"';
    await store.refreshNow().catch(() => undefined);
    expect(store.view().isRevoked({ format: "pass", id: "DENY-39" })).toBe(true);
    expect(store.status().sources[0]).toMatchObject({ ok: false, error: "GW_TRUST_FETCH:shrunk" });
    expect(logs.records().some((r) => r.reason === "shrunk")).toBe(true);
    // 25 of 40: a purge of expired entries, taken.
    server.body = list(25);
    server.etag = '"d25"';
    await store.refreshNow();
    expect(store.view().isRevoked({ format: "pass", id: "DENY-39" })).toBe(false);
    expect(store.view().isRevoked({ format: "pass", id: "DENY-24" })).toBe(true);
    expect(store.status().sources[0]).toMatchObject({ ok: true });
  });

  it("denyListMaxDropPct 100 takes any drop", async () => {
    server.body = Array.from({ length: 30 }, (_, i) => credentialIdHashHex(`D-${i}`)).join("\n") + "\n";
    const clock = new FakeClock(Date.now());
    const { store } = await newStore(clock, { lists: [], revocations: [{ source: server.url, allowInsecureHttp: true }], denyListMaxDropPct: 100 });
    await store.start();
    server.body = credentialIdHashHex("D-0") + "\n";
    server.etag = '"one"';
    await store.refreshNow();
    expect(store.view().isRevoked({ format: "pass", id: "D-5" })).toBe(false);
  });

  it("turns stale past max-age while the server stays down, and recovers", async () => {
    server.body = await signedList(root.priv, 1, [(await passEntry("k"))!.entry]);
    server.etag = '"s1"';
    const clock = new FakeClock(Date.now());
    const { store, logs } = await newStore(clock, { maxAgeS: 3 * 3600, refreshIntervalS: 3600 });
    const stale: unknown[] = [];
    store.on("stale", (s) => stale.push(s));
    await store.start();
    server.behaviour = "500";
    clock.advance(2 * HOUR);
    await store.refreshNow();
    expect(store.status().stale).toBe(false);
    clock.advance(1 * HOUR + 1000); // past max-age: the stale timer fires even between refreshes
    expect(stale).toHaveLength(1);
    expect(store.status()).toMatchObject({ stale: true });
    expect(store.view().status(clock.now()).stale).toBe(true);
    expect(logs.codes()).toContain("GW_TRUST_STALE");
    // Still usable (keys are there); the verifier decides what stale means (FLAG TRUST_STALE).
    expect(store.view().keysFor("k", "pass")).toHaveLength(1);
    server.behaviour = "ok";
    await store.refreshNow();
    expect(store.status().stale).toBe(false);
  });

  it("is stale at once when a source has never loaded (no server, no disk copy)", async () => {
    await server.stop();
    const { store } = await newStore(new FakeClock(Date.now()));
    await store.start();
    expect(store.status()).toMatchObject({ stale: true, version: "-" });
    expect(store.status().refreshedAt).toBeUndefined();
  });

  it("a clock beyond maxClockDriftS from the server's Date header is untrusted (logged once), and trusted again once it agrees", async () => {
    server.body = await signedList(root.priv, 1, []);
    const clock = new FakeClock(Date.now());
    server.dateMs = clock.now() - 3 * HOUR; // server says it is 3 h earlier: our clock is 3 h fast
    const { store, logs } = await newStore(clock, { maxClockDriftS: 7200 });
    await store.start();
    const st = store.status();
    expect(Math.abs(st.clockDriftMs! - 3 * HOUR)).toBeLessThan(2000); // Date has 1 s resolution
    expect(st.clockUntrusted).toMatchObject({ basis: "server-date" });
    expect(Math.abs(st.clockUntrusted!.offsetMs - 3 * HOUR)).toBeLessThan(2000);
    await store.refreshNow();
    expect(logs.records().filter((r) => r.event === "trust.clock_untrusted").map((r) => r.code)).toEqual(["GW_CLOCK_UNTRUSTED"]);
    clock.advance(HOUR);
    server.dateMs = clock.now() + 1000;
    await store.refreshNow();
    expect(Math.abs(store.status().clockDriftMs!)).toBeLessThan(3000);
    expect(store.status().clockUntrusted).toBeUndefined();
    expect(logs.records().some((r) => r.event === "trust.clock_trusted")).toBe(true);
  });

  it("a clock stepped right after the Date header was seen is judged as it is now, without a new download", async () => {
    server.body = await signedList(root.priv, 1, []);
    const clock = new FakeClock(Date.now());
    server.dateMs = clock.now();
    const { store } = await newStore(clock);
    await store.start();
    expect(store.status().clockUntrusted).toBeUndefined();
    // The RTC is set back a day (or NTP steps it): the server's time, carried forward on the
    // monotonic clock, says so at once.
    clock.setWall(clock.now() - 24 * HOUR);
    expect(store.status().clockUntrusted).toMatchObject({ basis: "server-date" });
    expect(Math.round(store.status().clockUntrusted!.offsetMs / HOUR)).toBe(-24);
    clock.setWall(clock.now() + 24 * HOUR);
    expect(store.status().clockUntrusted).toBeUndefined();
    // The trust server then stays down for 5 hours: the last Date header, carried forward, still
    // agrees with a clock that kept time (an outage alone never makes the clock look wrong).
    await server.stop();
    clock.advance(5 * HOUR);
    await store.refreshNow();
    expect(Math.abs(store.status().clockDriftMs!)).toBeLessThan(2000);
    expect(store.status().clockUntrusted).toBeUndefined();
  });

  it("a Date header from a cache counts with its Age: a list a CDN kept for 3 h does not make the clock look 3 h fast", async () => {
    server.body = await signedList(root.priv, 1, []);
    const clock = new FakeClock(Date.now());
    server.dateMs = clock.now() - 3 * HOUR;
    server.ageS = 3 * 3600;
    const { store } = await newStore(clock);
    await store.start();
    expect(Math.abs(store.status().clockDriftMs!)).toBeLessThan(2000);
    expect(store.status().clockUntrusted).toBeUndefined();
  });

  it("an offline boot with the clock set back: the signed list on disk, issued later than the clock says it is, makes the clock untrusted", async () => {
    const clock = new FakeClock(Date.now());
    server.body = await signedList(root.priv, 4, [(await passEntry("k-boot")).entry], { issuedAt: new Date(clock.now()).toISOString() });
    const first = await newStore(clock);
    await first.store.start();
    expect(first.store.status().clockUntrusted).toBeUndefined();
    await first.store.stop();
    await server.stop();

    // The box restarts without network and with its RTC 30 days behind: no Date header to ask.
    const behind = new FakeClock(clock.now() - 30 * 24 * HOUR);
    const { store, logs } = await newStore(behind);
    await store.start();
    const st = store.status();
    expect(st.clockUntrusted).toMatchObject({ basis: "signed-time" });
    expect(Math.round(st.clockUntrusted!.offsetMs / HOUR)).toBe(-30 * 24);
    expect(st.clockDriftMs).toBeUndefined();
    expect(logs.codes()).toContain("GW_CLOCK_UNTRUSTED");
    // Within the tolerance it is not evidence of anything: a list signed an hour "early" is fine.
    const close = new FakeClock(clock.now() - HOUR);
    const ok = await newStore(close);
    await ok.store.start();
    expect(ok.store.status().clockUntrusted).toBeUndefined();
  });

  it("stop() aborts a download hanging on a silent server instead of waiting for its timeout", async () => {
    server.body = await signedList(root.priv, 1, [(await passEntry("k"))!.entry]);
    const clock = new FakeClock(Date.now());
    const { store } = await newStore(clock, { fetchTimeoutS: 600 });
    await store.start();
    server.behaviour = "hang";
    const hits = server.hits;
    const pending = store.refreshNow();
    await until(() => server.hits > hits);
    await store.stop();
    const st = await pending;
    expect(st.sources[0]).toMatchObject({ ok: false, error: "GW_TRUST_FETCH:network" });
    expect(store.view().keysFor("k", "pass")).toHaveLength(1);
    expect(clock.pendingCount).toBe(0); // nothing rescheduled after stop
  });

  it("schedules refreshes on the injected clock and backs off after failures without busy-looping", async () => {
    server.body = await signedList(root.priv, 1, []);
    const clock = new FakeClock(Date.now());
    const { store } = await newStore(clock, { refreshIntervalS: 600 });
    await store.start();
    const hits = server.hits;
    server.behaviour = "500";
    clock.advance(600_000); // scheduled refresh
    await until(() => server.hits === hits + 1);
    expect(clock.pendingCount).toBeLessThanOrEqual(2); // one refresh timer + one stale timer
  });
});

async function until(cond: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 20_000) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
