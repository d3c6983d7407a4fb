/** SMART Health Card spec examples and signed negative cases through the verifier. */
import { describe, expect, it } from "vitest";
import { createVerifier, ShcChunkAssembler } from "../../src/verify/index.js";
import { jwsToNumeric, numericToJws, SHC_PREFIX } from "../../src/verify/shc/numeric.js";
import { EXAMPLE_KID, examplePayload, readShc, SHC_AT, SHC_ISSUER, shcTrust, signShc, UNPUBLISHED_KID } from "./support/shc.js";

const trust = shcTrust();
const verifier = createVerifier({ trust: () => trust, salt: "t", clockSkewS: 60 });
const verify = (text: string, nowMs = SHC_AT) => verifier.verify(text, { nowMs });

function assemble(files: string[]): string {
  const a = new ShcChunkAssembler();
  let last;
  for (const f of files) last = a.add(readShc(f), SHC_AT);
  if (last?.status !== "complete") throw new Error(`not complete: ${JSON.stringify(last)}`);
  return last.text;
}

describe("SMART Health Cards: spec examples", () => {
  it("examples 00 and 01 PASS, bound to the issuer and key", () => {
    for (const n of ["00", "01"]) {
      const r = verify(readShc(`example-${n}-f-qr-code-numeric-value-0.txt`));
      expect(r, n).toMatchObject({ verdict: "PASS", reason: "OK", format: "shc", issuer: SHC_ISSUER });
      // 00 is signed by the plain key, 01 by the key that also carries an x5c chain.
      expect(r.kid).toBe(n === "00" ? "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s" : "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw");
      expect(r.validFrom).toBeCloseTo(1687450764656 + (n === "01" ? 1 : 0), 0);
    }
  });

  it("example 02 is three chunks: incomplete alone, PASS once assembled in any order", () => {
    const chunk = readShc("example-02-f-qr-code-numeric-value-0.txt");
    expect(verify(chunk).reason).toBe("SHC_CHUNKS_INCOMPLETE");
    const names = [0, 1, 2].map((i) => `example-02-f-qr-code-numeric-value-${i}.txt`);
    expect(verify(assemble(names)).reason).toBe("OK");
    expect(verify(assemble([names[2]!, names[0]!, names[1]!])).reason).toBe("OK");
  });

  it("example 03 is on the issuer's revocation list (rid with a cut-off after its nbf)", () => {
    expect(verify(readShc("example-03-f-qr-code-numeric-value-0.txt"))).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
  });

  it("a card whose key's revocation list is too old (or was never had) is TRUST_STALE; the issuer's other key, and a revoked card, are judged as before", () => {
    const oldCrl = { ...trust, status: trust.status.bind(trust), isRevoked: trust.isRevoked.bind(trust), keysFor: trust.keysFor.bind(trust), keysForIssuer: trust.keysForIssuer?.bind(trust), revocationsStale: (q: { kid?: string }) => q.kid === EXAMPLE_KID };
    for (const staleAction of ["flag", "out-of-service"] as const) {
      const v = createVerifier({ trust: () => oldCrl, salt: "t", clockSkewS: 60, staleAction });
      const at = (n: string) => v.verify(readShc(`example-${n}-f-qr-code-numeric-value-0.txt`), { nowMs: SHC_AT });
      expect(at("00")).toMatchObject({ verdict: staleAction === "flag" ? "FLAG" : "ERROR", reason: "TRUST_STALE", kid: EXAMPLE_KID });
      expect(at("01")).toMatchObject({ verdict: "PASS", reason: "OK" });
      expect(at("03")).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
    }
  });

  it("example 03 also expires (exp 2024-06-21), checked before revocation", () => {
    expect(verify(readShc("example-03-f-qr-code-numeric-value-0.txt"), Date.parse("2024-07-01T00:00:00Z")).reason).toBe("EXPIRED");
  });

  it("the compact JWS files and the QR texts are the same cards", () => {
    const jws = readShc("example-00-d-jws.txt");
    const digits = [...jws].map((c) => String(c.charCodeAt(0) - 45).padStart(2, "0")).join("");
    expect("shc:/" + digits).toBe(readShc("example-00-f-qr-code-numeric-value-0.txt"));
  });
});

describe("SMART Health Cards: signed negative cases", () => {
  it("a fresh card signed with the example key passes (the signer itself is sound)", () => {
    expect(verify(signShc(examplePayload())).reason).toBe("OK");
  });

  it("no zip: DEF is rejected even with a valid signature", () => {
    expect(verify(signShc(examplePayload(), { deflate: false, header: { alg: "ES256", kid: "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s" } })).reason).toBe("STRUCTURE_INVALID");
  });

  it("a card claiming another issuer is not vouched for by this issuer's key", () => {
    // The claimed issuer is unverified payload text (the signature was never checked): not on the verdict.
    const r = verify(signShc(examplePayload({ iss: "https://evil.example/issuer" })));
    expect(r).toMatchObject({ verdict: "FLAG", reason: "ISSUER_UNTRUSTED", kid: "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s" });
    expect(r.issuer).toBeUndefined();
  });

  it("a key the issuer does not publish is unknown", () => {
    expect(verify(signShc(examplePayload(), { kid: UNPUBLISHED_KID })).reason).toBe("KEY_UNKNOWN");
  });

  it("DER-encoded signatures are rejected", () => {
    expect(verify(signShc(examplePayload(), { derSignature: true })).reason).toBe("SIGNATURE_INVALID");
  });

  it("alg other than ES256, missing kid", () => {
    expect(verify(signShc(examplePayload(), { header: { zip: "DEF", alg: "ES384", kid: "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s" } })).reason).toBe("ALG_UNSUPPORTED");
    expect(verify(signShc(examplePayload(), { header: { zip: "DEF", alg: "ES256" } })).reason).toBe("KID_MISSING");
  });

  it("fractional nbf/exp: skew applies to nbf only, never to exp", () => {
    const nbf = SHC_AT / 1000 + 30.5; // 30.5 s in the future, inside the 60 s skew
    expect(verify(signShc(examplePayload({ nbf }))).reason).toBe("OK");
    expect(verify(signShc(examplePayload({ nbf: SHC_AT / 1000 + 90.25 }))).reason).toBe("NOT_YET_VALID");
    expect(verify(signShc(examplePayload({ exp: SHC_AT / 1000 - 0.5 }))).reason).toBe("EXPIRED");
    expect(verify(signShc(examplePayload({ exp: SHC_AT / 1000 + 0.5 }))).reason).toBe("OK");
  });

  it("tampered digits fail the signature or the structure, never PASS", () => {
    const good = readShc("example-00-f-qr-code-numeric-value-0.txt");
    for (const pos of [10, 200, 800, good.length - 10]) {
      const d = good[pos] === "1" ? "2" : "1";
      // Each of these digit pairs then encodes a character outside base64url: the JWS does not parse.
      expect(verify(good.slice(0, pos) + d + good.slice(pos + 1)), String(pos)).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
    }
    // One base64url character changed for another: each part fails at its own step.
    const [h, p, sig] = numericToJws(good.slice(SHC_PREFIX.length)).split(".") as [string, string, string];
    const swap = (part: string, i: number) => part.slice(0, i) + (part[i] === "A" ? "B" : "A") + part.slice(i + 1);
    const tampered = (parts: string[]) => verify("shc:/" + jwsToNumeric(parts.join(".")));
    expect(tampered([swap(h, 5), p, sig])).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
    expect(tampered([h, swap(p, 10), sig])).toMatchObject({ verdict: "FLAG", reason: "DECOMPRESS_FAILED" });
    for (const i of [5, 40]) expect(tampered([h, p, swap(sig, i)]), `signature ${i}`).toMatchObject({ verdict: "FLAG", reason: "SIGNATURE_INVALID" });
  });

  it("nbf and the health-card type are required", () => {
    expect(verify(signShc(examplePayload({ nbf: undefined }))).reason).toBe("STRUCTURE_INVALID");
    const p = examplePayload();
    expect(verify(signShc({ ...p, vc: { ...(p.vc as object), type: ["https://example.org#other"] } })).reason).toBe("STRUCTURE_INVALID");
  });

  it("a vc.rid that is there must be a base64url string of 1-128 characters: else the card could never be revoked", () => {
    const p = examplePayload();
    const withRid = (rid: unknown) => signShc({ ...p, vc: { ...(p.vc as object), rid } });
    // "123" revoked: the number 123 must not slip past that as "no rid".
    const revoking = shcTrust().revoke("shc", "123");
    const v = (text: string) => createVerifier({ trust: () => revoking, salt: "t", clockSkewS: 60 }).verify(text, { nowMs: SHC_AT });
    expect(v(withRid("123"))).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
    for (const bad of [123, null, "", "a.1600000000", "a b", "x".repeat(129), ["123"], { rid: "123" }]) {
      expect(v(withRid(bad)), JSON.stringify(bad)).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
    }
    expect(v(withRid("x".repeat(128)))).toMatchObject({ verdict: "PASS", reason: "OK" });
    const { rid: _r, ...noRid } = p.vc as Record<string, unknown>;
    expect(v(signShc({ ...p, vc: noRid }))).toMatchObject({ verdict: "PASS", reason: "OK" });
  });

  it("numeric encoding errors", () => {
    expect(verify("shc:/123").reason).toBe("NUMERIC_INVALID");
    expect(verify("shc:/99").reason).toBe("NUMERIC_INVALID");
    expect(verify("shc:/abc").reason).toBe("NUMERIC_INVALID");
  });
});
