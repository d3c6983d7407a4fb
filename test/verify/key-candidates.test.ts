import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { VerifyFailure } from "../../src/verify/reasons.js";
import type { TrustKey } from "../../src/verify/trust/types.js";
import { firstVerifying, MAX_KEYS_PER_KID } from "../../src/verify/verified.js";

/**
 * Audit (verify/trust) #2: each candidate key under a kid is one synchronous signature check on the
 * lanes' thread. Whoever can put many keys under one kid (several sources, an issuer's JWKS) must
 * not set what one forged code costs: at most MAX_KEYS_PER_KID are tried.
 */
const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
const candidates = (n: number): TrustKey[] => Array.from({ length: n }, (_, i) => ({ kid: "k", issuer: `I${i}`, formats: ["shc"], key, source: `s${i}` }));

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof VerifyFailure ? e.reason : "other";
  }
  return undefined;
}

describe("firstVerifying", () => {
  it("a forged credential under a kid with many candidates tries at most MAX_KEYS_PER_KID of them", () => {
    expect(MAX_KEYS_PER_KID).toBe(8);
    let checks = 0;
    expect(reasonOf(() => firstVerifying(candidates(200), () => (checks++, false)))).toBe("SIGNATURE_INVALID");
    expect(checks).toBe(MAX_KEYS_PER_KID);
  });

  it("a genuine key among the first candidates still verifies; ALG_KEY_MISMATCH counts the keys tried", () => {
    const keys = candidates(20);
    expect(firstVerifying(keys, (k) => k === keys[5])).toBe(keys[5]);
    const mismatch = () => {
      throw new VerifyFailure("ALG_KEY_MISMATCH");
    };
    expect(reasonOf(() => firstVerifying(keys, mismatch))).toBe("ALG_KEY_MISMATCH");
    expect(reasonOf(() => firstVerifying([], () => true))).toBe("SIGNATURE_INVALID");
  });
});
