import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { GatewayError } from "../../src/core/errors.js";
import { GatewayMetrics } from "../../src/output/metrics/index.js";
import { dccKid, shcKid } from "../../src/verify/trust/keys.js";
import { loadTrustSource, loadTrustSources } from "../../src/verify/trust/load-source.js";
import { credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import { createTrustStore, type TrustStore } from "../../src/verify/trust/store.js";
import { captureLogs, makeCertificate, makeKeyPair, passEntry, signedList, tempDir, trustConfig } from "./helpers.js";

const SHC_JWKS = "test-fixtures/external/smart-health-cards/examples/issuer/.well-known/jwks.json";
const SHC_ISS = "https://spec.smarthealth.cards/examples/issuer";
const tmp = tempDir("src");
afterAll(() => tmp.cleanup());

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(GatewayError);
  return `${(e as GatewayError).code} ${(e as GatewayError).message}`;
}

describe("loadTrustSource (CLI sources)", () => {
  it("binds the SMART Health Cards example JWKS to its issuer; kids are the RFC 7638 thumbprints", async () => {
    const published = (JSON.parse(readFileSync(SHC_JWKS, "utf8")) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const v = await loadTrustSource(`${SHC_ISS}=${SHC_JWKS}`);
    const keys = v.keysForIssuer!(SHC_ISS, "shc");
    expect(keys.map((k) => k.kid).sort()).toEqual([...published].sort());
    expect(v.keysFor(published[0]!, "shc")[0]!.issuer).toBe(SHC_ISS);
    expect(v.keysFor(published[0]!, "dcc")).toEqual([]);
    expect(v.keysForIssuer!("https://other.example", "shc")).toEqual([]);
    expect(v.status(Date.now()).stale).toBe(false);
  });

  it("loads the issuer's SHC revocation list next to the JWKS (crl/KID.json) and honours rid.TIMESTAMP", async () => {
    const v = await loadTrustSource(`${SHC_ISS}=${SHC_JWKS}`);
    const kid = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";
    // example-03: rid vwAjHdarZuc, nbf 1687450764.657, listed as vwAjHdarZuc.1687450765 -> revoked
    expect(v.isRevoked({ format: "shc", issuer: SHC_ISS, kid, id: "vwAjHdarZuc", issuedAt: 1687450764657 })).toBe(true);
    expect(v.isRevoked({ format: "shc", issuer: SHC_ISS, kid, id: "vwAjHdarZuc", issuedAt: 1687450766000 })).toBe(false);
    // example-00: rid MKyCxh7p6uQ is not listed
    expect(v.isRevoked({ format: "shc", issuer: SHC_ISS, kid, id: "MKyCxh7p6uQ", issuedAt: 1687450764656 })).toBe(false);
    expect(v.isRevoked({ format: "shc", issuer: SHC_ISS, kid, id: "FKDIxsTCGlU" })).toBe(true);
    expect(v.isRevoked({ format: "shc", issuer: "https://other.example", kid, id: "FKDIxsTCGlU" })).toBe(false);
  });

  it("skips a JWKS key whose kid is not its thumbprint and refuses an unbound JWKS", async () => {
    const k = await makeKeyPair("not-the-thumbprint");
    const file = join(tmp.dir, "bad.jwks.json");
    writeFileSync(file, JSON.stringify({ keys: [k.pub] }));
    expect(await codeOf(loadTrustSource(`https://i.example=${file}`))).toMatch(/^GW_TRUST_FETCH .*no usable ES256 key/);
    expect(await codeOf(loadTrustSource(file))).toMatch(/must be bound to its issuer/);
  });

  it("a URL with a query string is a URL, not ISSUER=FILE, and is refused without echoing its query (the CLI reads files)", async () => {
    const msg = await codeOf(loadTrustSource("https://h.example/list.jws?key=CliKey42&code=AzFnCode7#root=root.pem"));
    expect(msg).toMatch(/^GW_TRUST_FETCH https:\/\/h\.example\/list\.jws\?…: verify reads local files only/);
    expect(msg).not.toMatch(/CliKey42|AzFnCode7/);
  });

  it("loads PEM, DER and a directory of DCC certificates with kid = base64(SHA-256(DER)[0..8])", async () => {
    const dir = join(tmp.dir, "dscs");
    mkdirSync(dir);
    const a = makeCertificate(dir, "a", "XA");
    const b = makeCertificate(dir, "b", "XB");
    writeFileSync(join(dir, "notes.txt"), "ignored");
    const fromPem = await loadTrustSource(a.pemPath);
    expect(fromPem.keysFor(dccKid(a.der), "dcc").map((k) => k.issuer)).toEqual(["XA"]);
    expect(dccKid(a.der)).toMatch(/^[A-Za-z0-9+/]{11}=$/);
    const fromDer = await loadTrustSource(b.derPath);
    expect(fromDer.keysFor(dccKid(b.der), "dcc")).toHaveLength(1);
    const fromDir = await loadTrustSource(dir);
    // a.pem + a.der + b.pem + b.der: the same two certificates, twice each
    expect(fromDir.keysFor(dccKid(a.der), "dcc")).toHaveLength(2);
    expect(fromDir.keysFor(dccKid(b.der), "dcc")[0]!.certificate).toBeDefined();
  });

  it("loads a signed list with its pinned root (LIST#root=FILE or the option) and combines sources", async () => {
    const root = await makeKeyPair("root");
    const rootFile = join(tmp.dir, "root.public.jwk.json");
    writeFileSync(rootFile, JSON.stringify(root.pub));
    const list = join(tmp.dir, "list.jws");
    writeFileSync(list, await signedList(root.priv, 12, [(await passEntry("pk")).entry], { revocations: [{ type: "id-hash", hashes: [credentialIdHashHex("R")] }] }));
    const v = await loadTrustSource(`${list}#root=${rootFile}`);
    expect(v.keysFor("pk", "pass")).toHaveLength(1);
    expect(v.isRevoked({ format: "pass", id: "R" })).toBe(true);
    expect(v.status(Date.now()).version).toBe("12");
    const both = await loadTrustSources([list, `${SHC_ISS}=${SHC_JWKS}`], { rootKey: rootFile });
    expect(both.keysFor("pk", "pass")).toHaveLength(1);
    expect(both.keysForIssuer!(SHC_ISS, "shc").length).toBeGreaterThan(0);
    expect(await codeOf(loadTrustSource(list))).toMatch(/^GW_TRUST_SIGNATURE .*pinned root/);
    const other = await makeKeyPair("x");
    const otherFile = join(tmp.dir, "other.jwk.json");
    writeFileSync(otherFile, JSON.stringify(other.pub));
    expect(await codeOf(loadTrustSource(list, { rootKey: otherFile }))).toMatch(/^GW_TRUST_SIGNATURE /);
  });

  it("marks an expired signed list stale", async () => {
    const root = await makeKeyPair("root");
    const list = join(tmp.dir, "expired.jws");
    writeFileSync(list, await signedList(root.priv, 1, [], { expiresAt: new Date(Date.now() - 1000).toISOString() }));
    const rootFile = join(tmp.dir, "root2.jwk.json");
    writeFileSync(rootFile, JSON.stringify(root.pub));
    const v = await loadTrustSource(list, { rootKey: rootFile });
    expect(v.status(Date.now()).stale).toBe(true);
  });

  it("gives a clear error for missing and unrecognised files", async () => {
    expect(await codeOf(loadTrustSource(join(tmp.dir, "nope.pem")))).toMatch(/^GW_TRUST_FETCH .*no such file/);
    const junk = join(tmp.dir, "junk.bin");
    writeFileSync(junk, "hello world");
    expect(await codeOf(loadTrustSource(junk))).toMatch(/^GW_TRUST_FETCH .*not a trust list/);
    const unsigned = join(tmp.dir, "unsigned.json");
    writeFileSync(unsigned, JSON.stringify({ version: 1, issuedAt: new Date().toISOString(), entries: [] }));
    expect(await codeOf(loadTrustSource(unsigned))).toMatch(/^GW_TRUST_SIGNATURE .*unsigned trust list/);
    const otherJson = join(tmp.dir, "other.json");
    writeFileSync(otherJson, JSON.stringify({ hello: "world" }));
    expect(await codeOf(loadTrustSource(otherJson))).toMatch(/^GW_TRUST_FETCH .*deny list JSON is malformed/);
    const badPem = join(tmp.dir, "bad.pem");
    writeFileSync(badPem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    expect(await codeOf(loadTrustSource(badPem))).toMatch(/^GW_TRUST_FETCH .*not a valid X.509/);
  });
});

describe("trust store with an SHC issuer over HTTP", () => {
  const wellKnown = "test-fixtures/external/smart-health-cards/examples/issuer/.well-known";
  const kid = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";

  /** The example issuer's .well-known over http: the JWKS (ETag j1, 304 when revalidated) and its key's CRL while `crl.up`. */
  async function issuerServer(crl: { up: boolean }) {
    const srv = createServer((req, res) => {
      if (req.url === "/issuer/.well-known/jwks.json") {
        if (req.headers["if-none-match"] === '"j1"') return void res.writeHead(304).end();
        return void res.writeHead(200, { etag: '"j1"' }).end(readFileSync(`${wellKnown}/jwks.json`));
      }
      if (req.url === `/issuer/.well-known/crl/${kid}.json` && crl.up) return void res.writeHead(200).end(readFileSync(`${wellKnown}/crl/${kid}.json`));
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    return {
      issuer: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/issuer`,
      close: async () => {
        srv.closeAllConnections();
        await new Promise<void>((r) => srv.close(() => r()));
      },
    };
  }

  it("fetches ISSUER/.well-known/jwks.json and the CRLs it announces, keeping the last CRL when it fails", async () => {
    const crl = { up: true };
    const { issuer, close } = await issuerServer(crl);
    const logs = captureLogs();
    const store = await createTrustStore({ config: trustConfig({ jwks: [{ issuer, allowInsecureHttp: true }] }), stateDir: join(tmp.dir, "shc-http"), clock: new FakeClock(Date.now()), logger: logs.logger });
    try {
      await store.start();
      expect(store.view().keysForIssuer!(issuer, "shc").length).toBeGreaterThan(0);
      expect(store.view().isRevoked({ format: "shc", issuer, kid, id: "TqB_qu_6OtM" })).toBe(true);
      crl.up = false;
      await store.refreshNow();
      expect(store.view().isRevoked({ format: "shc", issuer, kid, id: "TqB_qu_6OtM" })).toBe(true);
      expect(logs.records().some((r) => r.code === "GW_TRUST_FETCH" && r.reason === "http-status" && r.kid === kid)).toBe(true);
      expect(store.status().stale).toBe(false);
    } finally {
      await store.stop();
      await close();
    }
  });

  it("ages a key's revocations with its CRL: a CRL that keeps failing while the JWKS answers 304 leaves that key's cards stale past maxAge, and the source failing", async () => {
    const crl = { up: true };
    const { issuer, close } = await issuerServer(crl);
    const clock = new FakeClock(Date.now());
    const maxAgeS = 86400;
    const store = await createTrustStore({ config: trustConfig({ jwks: [{ issuer, allowInsecureHttp: true }], maxAgeS }), stateDir: join(tmp.dir, "shc-crl-age"), clock, logger: captureLogs().logger });
    const card = (k: string) => ({ format: "shc" as const, issuer, kid: k, id: "MKyCxh7p6uQ" });
    const otherKid = "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw";
    try {
      await store.start();
      const t0 = clock.now();
      expect(store.status().sources[0]).toMatchObject({ ok: true, refreshedAt: t0 });
      expect(store.view().revocationsStale!(card(kid), t0)).toBe(false);
      crl.up = false;
      clock.advance(10 * 60_000);
      await store.refreshNow();
      // The JWKS was revalidated now; its CRL was last had at t0, and the source says it failed.
      const src = store.status().sources[0]!;
      expect(src).toMatchObject({ ok: false, refreshedAt: clock.now() });
      expect(src.error).toBe("GW_TRUST_FETCH:crl-http-status");
      // Past maxAge from the CRL (though not from the JWKS): that key's cards are stale, nothing else is.
      const late = t0 + maxAgeS * 1000 + 5 * 60_000;
      expect(store.view().revocationsStale!(card(kid), late)).toBe(true);
      expect(store.view().revocationsStale!(card(kid), t0 + maxAgeS * 1000 - 5 * 60_000)).toBe(false);
      expect(store.view().revocationsStale!(card(otherKid), late)).toBe(false);
      expect(store.view().status(clock.now() + 60_000).stale).toBe(false);
      // The revocations it holds are still applied.
      expect(store.view().isRevoked({ format: "shc", issuer, kid, id: "TqB_qu_6OtM" })).toBe(true);
      crl.up = true;
      await store.refreshNow();
      expect(store.status().sources[0]).toMatchObject({ ok: true });
      expect(store.view().revocationsStale!(card(kid), clock.now() + maxAgeS * 1000 - 60_000)).toBe(false);
    } finally {
      await store.stop();
      await close();
    }
  });

  it("leaves the cards of a key whose announced CRL was never had stale, and refuses a disk copy of a CRL dated in the future", async () => {
    const crl = { up: false };
    const { issuer, close } = await issuerServer(crl);
    const stateDir = join(tmp.dir, "shc-crl-never");
    const open = async () => createTrustStore({ config: trustConfig({ jwks: [{ issuer, allowInsecureHttp: true }] }), stateDir, clock: new FakeClock(Date.now()), logger: captureLogs().logger });
    let store = await open();
    try {
      await store.start();
      const card = { format: "shc" as const, issuer, kid, id: "MKyCxh7p6uQ" };
      expect(store.status().stale).toBe(false);
      expect(store.view().revocationsStale!(card, Date.now())).toBe(true);
      // Once had, the CRL is kept on disk for the next start.
      crl.up = true;
      await store.refreshNow();
      expect(store.view().revocationsStale!(card, Date.now())).toBe(false);
      await store.stop();
      // A forged meta file dates the disk copy far in the future: the next start does not use it.
      const dir = join(stateDir, "trust");
      const meta = readdirSync(dir).find((f) => f.startsWith("crl") && f.endsWith(".meta.json"))!;
      writeFileSync(join(dir, meta), JSON.stringify({ fetchedAt: Date.now() + 365 * 86400_000 }));
      crl.up = false;
      store = await open();
      await store.start();
      expect(store.view().isRevoked({ format: "shc", issuer, kid, id: "TqB_qu_6OtM" })).toBe(false);
      expect(store.view().revocationsStale!(card, Date.now())).toBe(true);
    } finally {
      await store.stop();
      await close();
    }
  });
});

describe("trust store with an SHC issuer whose CRL lags (audit 2 #1)", () => {
  const wellKnown = "test-fixtures/external/smart-health-cards/examples/issuer/.well-known";
  const kid = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";
  const crl = (ctr: number, rids: string[]) => JSON.stringify({ kid, method: "rid", ctr, rids });

  /** The example issuer, its key announcing crlVersion 2, serving whichever CRL body the test sets. */
  async function laggingIssuer(state: { crl: string }) {
    const jwks = JSON.parse(readFileSync(`${wellKnown}/jwks.json`, "utf8")) as { keys: Array<{ kid: string; crlVersion?: number }> };
    for (const k of jwks.keys) if (k.kid === kid) k.crlVersion = 2;
    const srv = createServer((req, res) => {
      if (req.url === "/issuer/.well-known/jwks.json") return void res.writeHead(200, { etag: '"j2"' }).end(JSON.stringify(jwks));
      if (req.url === `/issuer/.well-known/crl/${kid}.json`) return void res.writeHead(200).end(state.crl);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    return {
      issuer: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/issuer`,
      close: async () => {
        srv.closeAllConnections();
        await new Promise<void>((r) => srv.close(() => r()));
      },
    };
  }

  it("a CRL served behind the copy held (a lagging mirror) never replaces it: its revocations stay, also after a restart on the disk copy, and it does not count as fresh", async () => {
    const state = { crl: crl(2, ["FKDIxsTCGlU", "RID-ADDED-IN-2"]) };
    const { issuer, close } = await laggingIssuer(state);
    const stateDir = join(tmp.dir, "shc-crl-lag");
    const clock = new FakeClock(Date.now());
    const maxAgeS = 86400;
    const open = async () => createTrustStore({ config: trustConfig({ jwks: [{ issuer, allowInsecureHttp: true }], maxAgeS }), stateDir, clock, logger: captureLogs().logger });
    const revoked = (s: TrustStore, id: string) => s.view().isRevoked({ format: "shc", issuer, kid, id });
    let store = await open();
    try {
      await store.start();
      const t0 = clock.now();
      expect([revoked(store, "FKDIxsTCGlU"), revoked(store, "RID-ADDED-IN-2")]).toEqual([true, true]);
      expect(store.status().sources[0]).toMatchObject({ ok: true });

      state.crl = crl(1, ["FKDIxsTCGlU"]);
      clock.advance(10 * 60_000);
      await store.refreshNow();
      expect(revoked(store, "RID-ADDED-IN-2")).toBe(true);
      expect(store.status().sources[0]).toMatchObject({ ok: false, error: "GW_TRUST_FETCH:crl-behind" });
      // The held copy keeps the time it was had: a lagging mirror does not keep it fresh for ever.
      expect(store.view().revocationsStale!({ format: "shc", issuer, kid, id: "x" }, t0 + maxAgeS * 1000 + 60_000)).toBe(true);
      await store.stop();

      // A restart while the mirror still lags: the newer disk copy is what is held.
      store = await open();
      await store.start();
      expect([revoked(store, "FKDIxsTCGlU"), revoked(store, "RID-ADDED-IN-2")]).toEqual([true, true]);
      expect(store.status().sources[0]).toMatchObject({ ok: false, error: "GW_TRUST_FETCH:crl-behind" });
      await store.stop();
      // ... and the disk copy was not overwritten by the older list in between.
      store = await open();
      await store.start();
      expect(revoked(store, "RID-ADDED-IN-2")).toBe(true);

      // The issuer's next version is taken (a removal included) and is fresh again.
      state.crl = crl(3, ["FKDIxsTCGlU"]);
      await store.refreshNow();
      expect(revoked(store, "RID-ADDED-IN-2")).toBe(false);
      expect(store.status().sources[0]).toMatchObject({ ok: true });
      expect(store.view().revocationsStale!({ format: "shc", issuer, kid, id: "x" }, clock.now() + maxAgeS * 1000 - 60_000)).toBe(false);
    } finally {
      await store.stop();
      await close();
    }
  });

  it("a CRL disk copy given a made-up higher ctr (a disk writer) cannot hide what the issuer serves", async () => {
    const state = { crl: crl(2, ["FKDIxsTCGlU", "RID-ADDED-IN-2"]) };
    const { issuer, close } = await laggingIssuer(state);
    const stateDir = join(tmp.dir, "shc-crl-forged-ctr");
    const open = async () => createTrustStore({ config: trustConfig({ jwks: [{ issuer, allowInsecureHttp: true }] }), stateDir, clock: new FakeClock(Date.now()), logger: captureLogs().logger });
    let store = await open();
    try {
      await store.start();
      await store.stop();
      const dir = join(stateDir, "trust");
      const base = readdirSync(dir).find((f) => f.startsWith("crl-") && f.endsWith(".body"))!.slice(0, -".body".length);
      const forged = Buffer.from(crl(99, []));
      writeFileSync(join(dir, `${base}.body`), forged);
      writeFileSync(join(dir, `${base}.meta.json`), JSON.stringify({ fetchedAt: Date.now(), sha256: createHash("sha256").update(forged).digest("hex") }));
      store = await open();
      await store.start();
      expect(["FKDIxsTCGlU", "RID-ADDED-IN-2"].map((id) => store.view().isRevoked({ format: "shc", issuer, kid, id }))).toEqual([true, true]);
      expect(store.status().sources[0]).toMatchObject({ ok: false, error: "GW_TRUST_FETCH:crl-behind" });
    } finally {
      await store.stop();
      await close();
    }
  });

  it("a CRL behind its key's crlVersion with no newer copy held is used (nothing better is known)", async () => {
    const state = { crl: crl(1, ["FKDIxsTCGlU"]) };
    const { issuer, close } = await laggingIssuer(state);
    const store = await createTrustStore({ config: trustConfig({ jwks: [{ issuer, allowInsecureHttp: true }] }), stateDir: join(tmp.dir, "shc-crl-behind-key"), clock: new FakeClock(Date.now()), logger: captureLogs().logger });
    try {
      await store.start();
      expect(store.view().isRevoked({ format: "shc", issuer, kid, id: "FKDIxsTCGlU" })).toBe(true);
      expect(store.status().sources[0]).toMatchObject({ ok: false, error: "GW_TRUST_FETCH:crl-behind" });
    } finally {
      await store.stop();
      await close();
    }
  });
});

describe("trust store with local sources", () => {
  it("combines list files, certificates, JWKS files and deny lists, and re-reads changed files", async () => {
    const root = await makeKeyPair("root");
    const rootFile = join(tmp.dir, "store-root.jwk.json");
    writeFileSync(rootFile, JSON.stringify(root.pub));
    const list = join(tmp.dir, "store-list.jws");
    writeFileSync(list, await signedList(root.priv, 1, [(await passEntry("p1")).entry]));
    const cert = makeCertificate(tmp.dir, "store-dsc", "XC");
    const deny = join(tmp.dir, "deny.txt");
    writeFileSync(deny, `# site deny list\n${credentialIdHashHex("URN:UVCI:01:XC:1")}\n`);
    const denyJson = join(tmp.dir, "deny.json");
    writeFileSync(denyJson, JSON.stringify({ version: 3, hashes: [credentialIdHashHex("PASS-9")], shc: [{ issuer: SHC_ISS, kid: "k", rids: ["rid1"] }] }));
    const clock = new FakeClock(Date.now());
    const logs = captureLogs();
    const store = await createTrustStore({
      config: trustConfig({ lists: [{ source: list, rootKey: rootFile }], certificates: [cert.pemPath], jwks: [{ issuer: SHC_ISS, source: SHC_JWKS, allowInsecureHttp: false }], revocations: [deny, denyJson] }),
      stateDir: tmp.dir,
      clock,
      logger: logs.logger,
    });
    try {
      await store.start();
      const v = store.view();
      expect(v.keysFor("p1", "pass")).toHaveLength(1);
      expect(v.keysFor(dccKid(cert.der), "dcc")).toHaveLength(1);
      expect(v.keysForIssuer!(SHC_ISS, "shc").length).toBeGreaterThan(0);
      expect(v.isRevoked({ format: "dcc", id: "URN:UVCI:01:XC:1" })).toBe(true);
      expect(v.isRevoked({ format: "pass", id: "PASS-9" })).toBe(true);
      expect(v.isRevoked({ format: "shc", issuer: SHC_ISS, kid: "k", id: "rid1" })).toBe(true);
      expect(store.status()).toMatchObject({ stale: false });
      expect(store.status().sources.every((s) => s.ok)).toBe(true);

      // A corrupt deny list update keeps the previous one.
      writeFileSync(deny, `${credentialIdHashHex("X")}\nthis is not a hash\n`);
      clock.advance(60_000);
      const st = await store.refreshNow();
      expect(st.sources.find((s) => s.source === deny)).toMatchObject({ ok: false, error: "GW_TRUST_FETCH:content" });
      expect(store.view().isRevoked({ format: "dcc", id: "URN:UVCI:01:XC:1" })).toBe(true);
      // A good update is taken.
      writeFileSync(list, await signedList(root.priv, 2, [(await passEntry("p2")).entry]));
      writeFileSync(deny, `${credentialIdHashHex("X")}\n`);
      await store.refreshNow();
      expect(store.view().keysFor("p2", "pass")).toHaveLength(1);
      expect(store.view().keysFor("p1", "pass")).toHaveLength(0);
      expect(store.view().isRevoked({ format: "pass", id: "X" })).toBe(true);
      expect(store.view().isRevoked({ format: "dcc", id: "URN:UVCI:01:XC:1" })).toBe(false);
    } finally {
      await store.stop();
    }
  });

  it("counts the keys each source skipped in the data it holds (JWKS keys, list JWKS keys, certificate files) and exports them on /metrics", async () => {
    const good = await makeKeyPair("x");
    const goodJwk = { ...good.pub, kid: shcKid(good.pub) };
    const wrongKid = (await makeKeyPair("not-the-thumbprint")).pub;
    const notEc = { kty: "oct", k: "c2VjcmV0" };
    const jwks = join(tmp.dir, "skip.jwks.json");
    writeFileSync(jwks, JSON.stringify({ keys: [goodJwk, wrongKid, notEc] }));
    const root = await makeKeyPair("skip-root");
    const rootFile = join(tmp.dir, "skip-root.jwk.json");
    writeFileSync(rootFile, JSON.stringify(root.pub));
    const list = join(tmp.dir, "skip-list.jws");
    const shcEntry = (keys: unknown[]) => ({ issuer: "https://issuer.example", formats: ["shc"], jwks: { keys } });
    writeFileSync(list, await signedList(root.priv, 1, [shcEntry([goodJwk, wrongKid])]));
    const dir = join(tmp.dir, "skip-dscs");
    mkdirSync(dir);
    makeCertificate(dir, "ok", "XS");
    writeFileSync(join(dir, "broken.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    const clock = new FakeClock(Date.now());
    const store = await createTrustStore({
      config: trustConfig({ lists: [{ source: list, rootKey: rootFile }], certificates: [dir], jwks: [{ issuer: "https://issuer.example", source: jwks, allowInsecureHttp: false }] }),
      stateDir: tmp.dir,
      clock,
      logger: captureLogs().logger,
    });
    const metrics = new GatewayMetrics({ processMetrics: false });
    metrics.setCollectors({ trust: () => store.status() });
    const skippedBy = () => Object.fromEntries(store.status().sources.map((s) => [s.source, s.keysSkipped]));
    try {
      await store.start();
      expect(skippedBy()).toEqual({ [list]: 1, [dir]: 1, [jwks]: 2 });
      expect(store.view().keysForIssuer!("https://issuer.example", "shc")).toHaveLength(2);
      const text = await metrics.render();
      expect(text).toContain(`checkpoint_gateway_trust_keys_skipped{source="${jwks}"} 2\n`);
      expect(text).toContain(`checkpoint_gateway_trust_keys_skipped{source="${dir}"} 1\n`);
      expect(text).toContain(`checkpoint_gateway_trust_keys_skipped{source="${list}"} 1\n`);

      // A refresh that fails keeps the data in use, and with it its count.
      writeFileSync(jwks, "{ not json");
      clock.advance(60_000);
      await store.refreshNow();
      expect(store.status().sources.find((s) => s.source === jwks)).toMatchObject({ ok: false, keysSkipped: 2 });

      // Fixed copies replace the data: nothing skipped, the gauge falls to 0 (not absent).
      writeFileSync(jwks, JSON.stringify({ keys: [goodJwk] }));
      writeFileSync(list, await signedList(root.priv, 2, [shcEntry([goodJwk])]));
      rmSync(join(dir, "broken.pem"));
      clock.advance(60_000);
      await store.refreshNow();
      expect(skippedBy()).toEqual({ [list]: undefined, [dir]: undefined, [jwks]: undefined });
      const fixed = await metrics.render();
      for (const source of [jwks, dir, list]) expect(fixed).toContain(`checkpoint_gateway_trust_keys_skipped{source="${source}"} 0\n`);
    } finally {
      await store.stop();
    }
  });

  it("refuses to start with an unreadable root key (config error, not a silent empty store)", async () => {
    await expect(createTrustStore({ config: trustConfig({ lists: [{ source: "x.jws", rootKey: join(tmp.dir, "missing.jwk") }] }), stateDir: tmp.dir, logger: captureLogs().logger })).rejects.toMatchObject({ code: "GW_CONFIG_INVALID" });
  });
});
