import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createVerifier } from "../../src/verify/index.js";
import { loadTrustSource } from "../../src/verify/trust/load-source.js";
import { createTrustStore } from "../../src/verify/trust/store.js";
import type { TrustView } from "../../src/verify/trust/types.js";
import { captureLogs, makeKeyPair, signedList, tempDir, trustConfig } from "./helpers.js";

/**
 * Audit (verify/trust) #1: SHC keys that come through the signed trust list announce a CRL like
 * any JWKS key; it used to be dropped, so a revoked card (spec example 03) PASSed. The list vouches
 * for the keys, the issuer for what it revoked: the CRL is read from the issuer (or next to a list
 * file) and, while it is not held, that key's cards are TRUST_STALE, never PASS.
 */
const WELL_KNOWN = "test-fixtures/external/smart-health-cards/examples/issuer/.well-known";
const ISSUER = "https://spec.smarthealth.cards/examples/issuer";
const KID = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";
const CRL_URL = `${ISSUER}/.well-known/crl/${KID}.json`;
const LIST_URL = "https://trust.example/checkpoint/list.jws";
const CARD_03 = readFileSync("test-fixtures/external/smart-health-cards/examples/example-03-f-qr-code-numeric-value-0.txt", "utf8").trim();
/** Inside example 03's validity (nbf 2023-06-22, exp 2024-06-21). */
const NOW = Date.UTC(2024, 0, 1);

const tmp = tempDir("list-crl");
afterAll(() => tmp.cleanup());

async function listWithExampleJwks(): Promise<{ jws: string; rootPath: string }> {
  const root = await makeKeyPair("root");
  const rootPath = join(tmp.dir, `root-${Math.random().toString(36).slice(2)}.jwk`);
  writeFileSync(rootPath, JSON.stringify(root.pub));
  const jwks = JSON.parse(readFileSync(`${WELL_KNOWN}/jwks.json`, "utf8")) as unknown;
  const jws = await signedList(root.priv, 1, [{ issuer: ISSUER, formats: ["shc"], jwks }], { issuedAt: new Date(NOW - 3600_000).toISOString() });
  return { jws, rootPath };
}

const verdictOf = (view: TrustView) => createVerifier({ trust: () => view, salt: "s", clockSkewS: 120 }).verify(CARD_03, { nowMs: NOW });

/** An https world without sockets: the trust server and the issuer's CRL, the CRL while `crl.up`. */
function fakeFetch(list: string, crl: { up: boolean; hits: number }): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url === LIST_URL) return new Response(list, { status: 200 });
    if (url === CRL_URL) {
      crl.hits++;
      return crl.up ? new Response(readFileSync(`${WELL_KNOWN}/crl/${KID}.json`), { status: 200 }) : new Response("down", { status: 503 });
    }
    return new Response("not found", { status: 404 });
  }) as typeof fetch;
}

describe("SHC keys from the signed trust list, with the CRL their issuer announces (audit #1)", () => {
  it("a list over https: example 03 is REVOKED when the issuer's CRL is reachable, TRUST_STALE when it is not; never PASS", async () => {
    const { jws, rootPath } = await listWithExampleJwks();
    for (const up of [true, false]) {
      const crl = { up, hits: 0 };
      const store = await createTrustStore({
        config: trustConfig({ lists: [{ source: LIST_URL, rootKey: rootPath }] }),
        stateDir: join(tmp.dir, `https-${up}`),
        clock: new FakeClock(NOW),
        logger: captureLogs().logger,
        fetch: fakeFetch(jws, crl),
      });
      try {
        await store.start();
        expect(crl.hits).toBeGreaterThan(0);
        expect(verdictOf(store.view())).toMatchObject(up ? { verdict: "FLAG", reason: "REVOKED", kid: KID } : { verdict: "FLAG", reason: "TRUST_STALE", kid: KID });
        // The list is in use either way; the source says its CRL failed.
        expect(store.status()).toMatchObject({ version: "1", stale: false });
        expect(store.status().sources[0]!.error).toBe(up ? undefined : "GW_TRUST_FETCH:crl-http-status");
      } finally {
        await store.stop();
      }
    }
  });

  it("the CRL fetched once is kept on disk: a restart with the issuer down still revokes", async () => {
    const { jws, rootPath } = await listWithExampleJwks();
    const stateDir = join(tmp.dir, "restart");
    const crl = { up: true, hits: 0 };
    const open = () => createTrustStore({ config: trustConfig({ lists: [{ source: LIST_URL, rootKey: rootPath }] }), stateDir, clock: new FakeClock(NOW), logger: captureLogs().logger, fetch: fakeFetch(jws, crl) });
    let store = await open();
    await store.start();
    await store.stop();
    crl.up = false;
    store = await open();
    try {
      await store.start();
      expect(verdictOf(store.view())).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
    } finally {
      await store.stop();
    }
  });

  it("a list file reads the CRL next to it (DIR/crl/KID.json), as for a JWKS file: REVOKED with it, TRUST_STALE without", async () => {
    const { jws, rootPath } = await listWithExampleJwks();
    for (const withCrl of [true, false]) {
      const dir = join(tmp.dir, `file-${withCrl}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "list.jws"), jws);
      if (withCrl) cpSync(`${WELL_KNOWN}/crl`, join(dir, "crl"), { recursive: true });
      const store = await createTrustStore({ config: trustConfig({ lists: [{ source: join(dir, "list.jws"), rootKey: rootPath }] }), stateDir: join(dir, "state"), clock: new FakeClock(NOW), logger: captureLogs().logger });
      try {
        await store.start();
        expect(verdictOf(store.view()).reason).toBe(withCrl ? "REVOKED" : "TRUST_STALE");
      } finally {
        await store.stop();
      }
      // The CLI loads it the same way.
      expect(verdictOf(await loadTrustSource(`${join(dir, "list.jws")}#root=${rootPath}`)).reason).toBe(withCrl ? "REVOKED" : "TRUST_STALE");
    }
  });
});
