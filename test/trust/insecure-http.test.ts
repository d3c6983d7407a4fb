/**
 * Issue #11.7: unsigned remote trust sources (JWKS, deny lists, SHC CRLs) must be https; plain http
 * only per source with allowInsecureHttp. A redirect never downgrades https to http, for any source.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import { fetchDoc } from "../../src/verify/trust/sources/fetch-doc.js";
import { SourceError } from "../../src/verify/trust/sources/errors.js";
import { createTrustStore } from "../../src/verify/trust/store.js";
import { captureLogs, tempDir, trustConfig } from "./helpers.js";

const JWKS = readFileSync("test-fixtures/external/smart-health-cards/examples/issuer/.well-known/jwks.json");
const DENY = Buffer.from(credentialIdHashHex("DENIED") + "\n");
let server: Server;
let base = "";
let hits: string[] = [];
const tmp = tempDir("insecure");

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? "");
    if (req.url === "/jwks.json") return void res.writeHead(200).end(JWKS);
    if (req.url === "/deny.txt") return void res.writeHead(200).end(DENY);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  tmp.cleanup();
});

async function storeWith(partial: Parameters<typeof trustConfig>[0], tag: string) {
  const logs = captureLogs();
  const store = await createTrustStore({ config: trustConfig(partial), stateDir: join(tmp.dir, tag), clock: new FakeClock(Date.now()), logger: logs.logger });
  await store.start();
  await store.stop();
  return { store, logs };
}

describe("unsigned trust sources over plain http", () => {
  it("a JWKS and a deny list at http:// are refused (reason insecure) without being requested", async () => {
    hits = [];
    const issuer = "https://spec.smarthealth.cards/examples/issuer";
    const { store } = await storeWith({ jwks: [{ issuer, source: `${base}/jwks.json`, allowInsecureHttp: false }], revocations: [`${base}/deny.txt`] }, "refused");
    const st = store.status();
    expect(st.sources.map((s) => [s.ok, s.error, s.keys])).toEqual([
      [false, "GW_TRUST_FETCH:insecure", 0],
      [false, "GW_TRUST_FETCH:insecure", 0],
    ]);
    expect(store.view().isRevoked({ format: "pass", id: "DENIED" })).toBe(false);
    expect(hits).toEqual([]);
  });

  it("allowInsecureHttp on a source lets that one source use http", async () => {
    hits = [];
    const issuer = "https://spec.smarthealth.cards/examples/issuer";
    const { store } = await storeWith({ jwks: [{ issuer, source: `${base}/jwks.json`, allowInsecureHttp: true }], revocations: [{ source: `${base}/deny.txt`, allowInsecureHttp: true }] }, "allowed");
    // The JWKS itself loads over http; its key's CRL is at the issuer's own https URL, out of reach
    // here, and that is reported on the source (revocations unknown), not hidden.
    const [jwks, deny] = store.status().sources;
    expect(deny?.ok).toBe(true);
    expect(jwks?.error).toMatch(/^GW_TRUST_FETCH:crl-/);
    expect(jwks?.keys).toBeGreaterThan(0);
    expect(store.view().keysForIssuer!(issuer, "shc").length).toBeGreaterThan(0);
    expect(store.view().isRevoked({ format: "pass", id: "DENIED" })).toBe(true);
  });
});

describe("redirects", () => {
  /** A fetch that answers every https URL with a redirect to `to`, and records what was requested. */
  function redirecting(to: string) {
    const asked: string[] = [];
    const f = (async (input: string | URL | Request) => {
      const url = String(input);
      asked.push(url);
      if (url.startsWith("https:")) return new Response(null, { status: 302, headers: { location: to } });
      return new Response("body", { status: 200 });
    }) as typeof fetch;
    return { f, asked };
  }

  it("https -> http is refused even where http itself is allowed (signed lists), and http is never requested", async () => {
    for (const allowHttp of [false, true]) {
      const { f, asked } = redirecting("http://mirror.example/list.jws");
      const err = await fetchDoc("https://trust.example/list.jws", { fetch: f, timeoutMs: 1000, maxBytes: 1 << 20, allowHttp }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SourceError);
      expect((err as SourceError).reason).toBe("insecure");
      expect(asked).toEqual(["https://trust.example/list.jws"]);
    }
  });

  it("https -> https redirects are followed, with a hop limit", async () => {
    const { f, asked } = redirecting("https://other.example/x");
    const err = await fetchDoc("https://trust.example/list.jws", { fetch: f, timeoutMs: 1000, maxBytes: 1 << 20 }).catch((e: unknown) => e);
    expect((err as SourceError).reason).toBe("http-status");
    expect(asked.length).toBe(6);
    const ok = redirecting("http://x/"); // http target: allowed only with allowHttp and only from http
    const doc = await fetchDoc("http://plain.example/list.jws", { fetch: ok.f, timeoutMs: 1000, maxBytes: 1 << 20, allowHttp: true });
    expect(doc.body?.toString()).toBe("body");
  });
});
