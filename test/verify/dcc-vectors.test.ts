/**
 * Every EU DCC vector (dgc-testdata, trimmed copy) through the verifier at its validation clock,
 * with only its own signer certificate trusted. Results must agree with the file's EXPECTED flags;
 * the few knowing disagreements are listed here and in docs/verify.md, and the list must be exact.
 */
import { describe, expect, it } from "vitest";
import { loadDccVectors } from "./support/dcc-vectors.js";
import { agrees, DCC_DISAGREEMENTS, verifyVector } from "./support/dcc-agreement.js";

describe("EU DCC test vectors", () => {
  const vectors = loadDccVectors();

  it("covers every copied vector", () => {
    expect(vectors.length).toBe(439);
  });

  it("agrees with each file's EXPECTED flags, except the documented disagreements", () => {
    const disagreements: string[] = [];
    const reasons: Record<string, number> = {};
    for (const v of vectors) {
      const r = verifyVector(v);
      reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
      expect(r.verdict === "PASS").toBe(r.reason === "OK");
      if (!agrees(v, r.reason)) disagreements.push(v.name);
    }
    expect(disagreements.sort()).toEqual(Object.keys(DCC_DISAGREEMENTS).sort());
    // Guard against a verifier that agrees by failing everything.
    expect(reasons.OK).toBeGreaterThan(300);
    expect(reasons.KEY_USAGE_MISMATCH).toBeGreaterThan(70);
  });

  it("reports the failing step, not just FLAG", () => {
    const byName = new Map(vectors.map((v) => [v.name, v]));
    const expectReason = (name: string, reason: string) => expect(verifyVector(byName.get(name)!).reason, name).toBe(reason);
    expectReason("common/2DCode/raw/H1.json", "PREFIX_UNKNOWN");
    expectReason("common/2DCode/raw/B1.json", "BASE45_INVALID");
    expectReason("common/2DCode/raw/Z1.json", "DECOMPRESS_FAILED");
    expectReason("common/2DCode/raw/CBO1.json", "STRUCTURE_INVALID");
    expectReason("common/2DCode/raw/CO5.json", "SIGNATURE_INVALID");
    expectReason("common/2DCode/raw/CO16.json", "NOT_YET_VALID");
    expectReason("common/2DCode/raw/CO17.json", "EXPIRED");
    expectReason("common/2DCode/raw/CO6.json", "KEY_USAGE_MISMATCH");
    expectReason("common/2DCode/raw/CO20.json", "OK");
    expectReason("common/2DCode/raw/CO28.json", "OK");
    expectReason("CH/2DCode/raw/1.json", "OK"); // PS256 (RSA DSC)
    expectReason("DE/2DCode/raw/1.json", "OK"); // ES256
  });

  it("carries kid, issuer, window and a salted hash, never the UVCI", () => {
    const v = vectors.find((x) => x.name === "DE/2DCode/raw/1.json")!;
    const r = verifyVector(v);
    expect(r).toMatchObject({ verdict: "PASS", format: "dcc", issuer: "DE" });
    expect(r.kid).toMatch(/^[A-Za-z0-9+/]{11}=$/);
    expect(r.credentialHash).toMatch(/^[0-9a-f]{16}$/);
    expect(r.validUntil! > r.validFrom!).toBe(true);
    expect(JSON.stringify(r)).not.toMatch(/URN:UVCI|01DE/);
  });
});
