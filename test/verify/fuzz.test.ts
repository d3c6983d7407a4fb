/**
 * Fuzzing the verifier in-process: for each format at least 100,000 random and mutated inputs,
 * from raw text down to re-signed mutated claims (so the post-signature parsers are reached too).
 * verify() must never throw, never hit INTERNAL_ERROR, never PASS a mutation it did not sign, and
 * memory must stay bounded. Seeded, so a failure is reproducible.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { decode, Tag } from "cbor-x";
import { describe, expect, it } from "vitest";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { createVerifier, issuePass, REASONS } from "../../src/verify/index.js";
import { base45Decode, base45Encode } from "../../src/verify/codec/base45.js";
import { MemoryTrust } from "../../src/verify/testing/memory-trust.js";
import type { Verdict } from "../../src/core/types.js";
import { loadDccVectors } from "./support/dcc-vectors.js";
import { B45, DIGITS, int, mutateBytes, mutateText, randomText, rng, signedCoseText, signedShcText, type Rand } from "./support/fuzz.js";
import { makeKey, NOW, typicalPass } from "./support/pass.js";
import { readShc, SHC_AT, SHC_DIR, SHC_ISSUER, shcTrust, EXAMPLE_KID } from "./support/shc.js";

const PER_FORMAT = 100_000;
/** ~8 s CPU per format; generous for a loaded 2-core CI, still catches a hang. */
const TIMEOUT_MS = 180_000;
/** The last 3% are re-signed mutations: expensive (sign + verify) but the only way past the signature. */
const SIGNED_FROM = 0.97;

/** GC on demand (without --expose-gc) so memory growth is measured on live objects, not garbage. */
v8.setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

function run(name: string, verify: (t: string) => Verdict, gen: (r: Rand, i: number) => string, seed: number) {
  const r = rng(seed);
  const reasons: Record<string, number> = {};
  const before = heapMb();
  let passes = 0;
  for (let i = 0; i < PER_FORMAT; i++) {
    const text = gen(r, i);
    let v: Verdict;
    try {
      v = verify(text);
    } catch (e) {
      throw new Error(`${name} #${i} (seed ${seed}) threw: ${(e as Error).message}`);
    }
    reasons[v.reason] = (reasons[v.reason] ?? 0) + 1;
    if (v.verdict === "PASS") passes++;
    if (!(v.reason in REASONS) || v.reason === "INTERNAL_ERROR") throw new Error(`${name} #${i} (seed ${seed}): ${v.verdict} ${v.reason}`);
  }
  const growthMb = heapMb() - before;
  return { reasons, passes, growthMb };
}

describe("fuzz: no throw, no INTERNAL_ERROR, bounded memory", () => {
  it(`checkpoint pass (VN1:) x ${PER_FORMAT}`, { timeout: TIMEOUT_MS }, () => {
    const key = makeKey("fz");
    const trust = new MemoryTrust([{ kid: "fz", issuer: "VN-MOH", formats: ["pass"], key: createPublicKey(key.privateKey), source: "fuzz" }]);
    const v = createVerifier({ trust: () => trust, salt: "f", clockSkewS: 60 });
    const good = issuePass(typicalPass(), "fz", key.privateKey);
    const raw = base45Decode(good.slice(4));
    const cose = raw[0] === 0x78 ? inflateSync(raw) : raw;
    const payload = (decode(cose) as Tag).value[2] as Uint8Array;
    const kid = Buffer.from("fz");
    const res = run("pass", (t) => v.verify(t, { nowMs: NOW }), (r) => {
      const p = r();
      if (p < 0.3) return randomText(r, "VN1:", B45);
      if (p < 0.5) return mutateText(r, good, B45);
      if (p < SIGNED_FROM) return "VN1:" + base45Encode(mutateBytes(r, cose));
      return signedCoseText("VN1:", mutateBytes(r, payload), kid, key.privateKey, r() < 0.5);
    }, 1);
    // Re-signed mutations may still be valid claims; everything else must not pass.
    expect(res.reasons.STRUCTURE_INVALID).toBeGreaterThan(1000);
    expect(res.reasons.SIGNATURE_INVALID).toBeGreaterThan(1000);
    expect(res.passes).toBeLessThan(3000); // only re-signed, still well-formed claims may pass
    expect(res.growthMb).toBeLessThan(32);
  });

  it(`EU DCC (HC1:) x ${PER_FORMAT}`, { timeout: TIMEOUT_MS }, () => {
    const vec = loadDccVectors().find((x) => x.name === "DE/2DCode/raw/1.json")!;
    const raw = base45Decode(vec.prefix.slice(4));
    const cose = inflateSync(raw);
    const payload = (decode(cose) as Tag).value[2] as Uint8Array;
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const kid = Buffer.from("fuzzkid1");
    const trust = new MemoryTrust([{ kid: kid.toString("base64"), issuer: "XX", formats: ["dcc"], key: publicKey, source: "fuzz" }]);
    const v = createVerifier({ trust: () => trust, salt: "f", clockSkewS: 60 });
    const nowMs = vec.clockMs!;
    const res = run("dcc", (t) => v.verify(t, { nowMs }), (r) => {
      const p = r();
      if (p < 0.3) return randomText(r, "HC1:", B45);
      if (p < 0.5) return mutateText(r, vec.prefix, B45);
      if (p < 0.6) return "HC1:" + base45Encode(mutateBytes(r, raw));
      if (p < SIGNED_FROM) return "HC1:" + base45Encode(mutateBytes(r, cose));
      return signedCoseText("HC1:", mutateBytes(r, payload), kid, privateKey, r() < 0.5);
    }, 2);
    expect(res.reasons.STRUCTURE_INVALID).toBeGreaterThan(1000);
    expect(res.reasons.BASE45_INVALID).toBeGreaterThan(1000);
    expect(res.growthMb).toBeLessThan(32);
  });

  it(`SMART Health Cards (shc:/) x ${PER_FORMAT}`, { timeout: TIMEOUT_MS }, () => {
    const trust = shcTrust();
    const v = createVerifier({ trust: () => trust, salt: "f", clockSkewS: 60 });
    const good = readShc("example-00-f-qr-code-numeric-value-0.txt");
    const jws = readShc("example-00-d-jws.txt");
    const payloadJson = readShc("example-00-c-jws-payload-minified.json");
    const priv = (JSON.parse(readFileSync(`${SHC_DIR}/generate-examples-config/EXAMPLE-ONLY-issuer.jwks.private.json`, "utf8")) as { keys: Array<JsonWebKey & { kid: string }> }).keys.find((k) => k.kid === EXAMPLE_KID)!;
    const key = createPrivateKey({ key: priv, format: "jwk" });
    const header = JSON.stringify({ zip: "DEF", alg: "ES256", kid: EXAMPLE_KID });
    const JSON_CHARS = '{}[]":,0123456789.-eE truefalsnul' + "abc\\";
    const toNumeric = (s: string) => "shc:/" + [...s].map((c) => String(Math.max(0, Math.min(99, c.charCodeAt(0) - 45))).padStart(2, "0")).join("");
    const res = run("shc", (t) => v.verify(t, { nowMs: SHC_AT }), (r) => {
      const p = r();
      if (p < 0.2) return randomText(r, "shc:/", DIGITS, 800);
      if (p < 0.3) return randomText(r, `shc:/${1 + int(r, 3)}/${int(r, 4)}/`, DIGITS, 200);
      if (p < 0.6) return mutateText(r, good, DIGITS);
      if (p < SIGNED_FROM) return toNumeric(mutateText(r, jws, "ABCxyz019-_."));
      if (p < SIGNED_FROM + 0.01) return signedShcText(mutateText(r, header, JSON_CHARS), payloadJson, key);
      return signedShcText(header, mutateText(r, payloadJson, JSON_CHARS), key);
    }, 3);
    expect(res.reasons.NUMERIC_INVALID).toBeGreaterThan(1000);
    expect(res.reasons.STRUCTURE_INVALID).toBeGreaterThan(1000);
    expect(res.growthMb).toBeLessThan(32);
    expect(SHC_ISSUER).toMatch(/^https:/);
  });
});
