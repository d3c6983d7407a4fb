/**
 * Issue #11.15: key import exists once. The verifier's public API, the tests (the 439 DCC vectors,
 * SHC and pass fixtures) and the bench get their key functions from the module the trust store
 * uses (src/verify/trust/keys.ts), so they check keys exactly as production does.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as api from "../../src/verify/index.js";
import * as keys from "../../src/verify/trust/keys.js";
import { readShc } from "./support/shc.js";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? (f === "node_modules" ? [] : files(p)) : /\.(ts|mjs|js)$/.test(p) ? [p] : [];
  });
}

describe("one key-import module", () => {
  it("the public verify API re-exports the trust store's own functions", () => {
    expect(api.dccKeyFromCertificate).toBe(keys.dccKeyFromCertificate);
    expect(api.shcKeysFromJwks).toBe(keys.shcKeysFromJwks);
    expect(api.dccKid).toBe(keys.dccKid);
    expect(api.passKey).toBe(keys.passKey);
    expect(api.jwkThumbprint).toBe(keys.jwkThumbprint);
  });

  it("no second copy exists, and src, test and bench import key code only from it", () => {
    expect(existsSync("src/verify/keys/trust-keys.ts")).toBe(false);
    const offenders = ["src", "test", "bench"].flatMap(files).filter((f) => /keys\/trust-keys/.test(readFileSync(f, "utf8")) && !f.endsWith("key-import.test.ts"));
    expect(offenders).toEqual([]);
  });

  it("production checks apply to test fixtures: a JWKS key with use=enc or a non-ES256 alg is skipped", () => {
    const jwks = JSON.parse(readShc("issuer/.well-known/jwks.json")) as { keys: Array<Record<string, unknown>> };
    const k = jwks.keys[0]!;
    const r = api.shcKeysFromJwks({ keys: [k, { ...k, use: "enc" }, { ...k, alg: "ES384" }] }, "https://i", "t");
    expect(r.keys).toHaveLength(1);
    expect(r.skipped.map((s) => s.index)).toEqual([1, 2]);
  });
});
