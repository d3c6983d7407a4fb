import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { MAX_JWKS_KEYS, shcKeysFromJwks, shcKid, TrustKeyError } from "../../src/verify/trust/keys.js";
import { parseJwksBody } from "../../src/verify/trust/sources/jwks-source.js";
import { SourceError } from "../../src/verify/trust/sources/errors.js";
import { createTrustStore } from "../../src/verify/trust/store.js";
import { captureLogs, tempDir, trustConfig } from "./helpers.js";

/**
 * Audit (verify/trust) #2: an SHC issuer's JWKS is unsigned and comes from the issuer's server.
 * Every key costs an import on the lanes' thread and every copy of a key a signature check per
 * forged card, so the document is bounded like a signed list's SHC entry and each key kept once.
 */
const ISSUER = "https://spec.smarthealth.cards/examples/issuer";
const EXAMPLE = (JSON.parse(readFileSync("test-fixtures/external/smart-health-cards/examples/issuer/.well-known/jwks.json", "utf8")) as { keys: Array<Record<string, unknown>> }).keys[0]!;
const tmp = tempDir("jwks-bounds");
afterAll(() => tmp.cleanup());

function distinctKeys(n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, () => {
    const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
    return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, use: "sig", alg: "ES256" };
  });
}

describe("SHC JWKS bounds (audit #2)", () => {
  it("a JWKS with 1,000 copies of one key leaves one key; a copy announcing a CRL still counts", () => {
    const imp = shcKeysFromJwks({ keys: Array(1000).fill(EXAMPLE) }, ISSUER, "t");
    expect(imp.keys).toHaveLength(1);
    expect(imp).toMatchObject({ duplicates: 999, skipped: [] });
    const announced = shcKeysFromJwks({ keys: [EXAMPLE, { ...EXAMPLE, crlVersion: 3 }, EXAMPLE] }, ISSUER, "t");
    expect(announced.keys).toHaveLength(1);
    expect(announced.keys[0]!.crlVersion).toBe(3);
    expect(announced.crls).toEqual([{ kid: shcKid(EXAMPLE), crlVersion: 3 }]);
    // A copy that is not a usable key is skipped with its reason, as before, not dropped as a duplicate.
    expect(shcKeysFromJwks({ keys: [EXAMPLE, { ...EXAMPLE, alg: "ES384" }] }, ISSUER, "t").skipped.map((s) => s.index)).toEqual([1]);
  });

  it("1,000 distinct keys are taken; 1,001 refuse the whole JWKS (reason content)", async () => {
    expect(MAX_JWKS_KEYS).toBe(1000);
    const keys = distinctKeys(1001);
    expect(shcKeysFromJwks({ keys: keys.slice(0, 1000) }, ISSUER, "t").keys).toHaveLength(1000);
    expect(() => shcKeysFromJwks({ keys }, ISSUER, "t")).toThrow(TrustKeyError);
    const err = await parseJwksBody(Buffer.from(JSON.stringify({ keys })), ISSUER, "t", () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err).toMatchObject({ code: "GW_TRUST_FETCH", reason: "content" });

    // Through the store: the source fails with that reason and holds no key.
    const file = join(tmp.dir, "big.jwks.json");
    writeFileSync(file, JSON.stringify({ keys }));
    const store = await createTrustStore({ config: trustConfig({ jwks: [{ issuer: ISSUER, source: file, allowInsecureHttp: false }] }), stateDir: join(tmp.dir, "state"), clock: new FakeClock(), logger: captureLogs().logger });
    try {
      await store.start();
      expect(store.status().sources[0]).toMatchObject({ ok: false, error: "GW_TRUST_FETCH:content", keys: 0 });
    } finally {
      await store.stop();
    }
  });
});
