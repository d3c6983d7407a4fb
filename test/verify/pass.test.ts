/** Our checkpoint pass: issue -> verify, each failure with its reason code, and the QR size budget. */
import { describe, expect, it } from "vitest";
import QRCode from "qrcode";
import { createVerifier, issuePass, type LanePolicy } from "../../src/verify/index.js";
import { base45Decode, base45Encode } from "../../src/verify/codec/base45.js";
import { encodeCbor } from "../../src/verify/pass/issue-pass.js";
import { decode, Tag } from "cbor-x";
import { inflateSync } from "node:zlib";
import { makeKey, NOW, passTrust, typicalPass } from "./support/pass.js";

const moh = makeKey("moh-2026-01");
const other = makeKey("moh-2026-01"); // same kid, different key: a forger guessing the kid
const trust = passTrust([{ key: moh, issuer: "VN-MOH" }]);
const verifier = createVerifier({ trust: () => trust, salt: "pepper", clockSkewS: 120 });
const verify = (text: string, nowMs = NOW, lane?: LanePolicy) => verifier.verify(text, { nowMs, ...(lane ? { lane } : {}) });
const good = issuePass(typicalPass(), moh.kid, moh.privateKey);

const lane = (rules: LanePolicy["rules"], accept: LanePolicy["accept"] = ["pass", "dcc", "shc"]): LanePolicy => ({ id: "lane-1", area: "VN-SG", accept, rules });

describe("checkpoint pass", () => {
  it("valid: PASS with kid, issuer, window and a salted id hash", () => {
    expect(good.startsWith("VN1:")).toBe(true);
    const r = verify(good);
    expect(r).toMatchObject({ verdict: "PASS", reason: "OK", format: "pass", kid: "moh-2026-01", issuer: "VN-MOH", validFrom: typicalPass().validFrom * 1000, validUntil: typicalPass().validUntil * 1000, trustVersion: "memory-1" });
    expect(r.credentialHash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(r)).not.toContain("P26-0000123456");
    expect(JSON.stringify(r)).not.toContain("q3N0Zk1xV2JvYXJkX0E4Yg");
  });

  it("a typical pass fits QR version 10 at ECC level M (alphanumeric mode)", () => {
    const qr = QRCode.create(good, { errorCorrectionLevel: "M" });
    expect(qr.version).toBeLessThanOrEqual(10);
    expect(qr.segments.every((s) => s.mode.id === "Alphanumeric")).toBe(true);
    // The worst case allowed by the claim limits (8 destinations, 40-char ids) still fits version 14.
    const big = issuePass(typicalPass({ passId: "P".repeat(40), subjectRef: "S".repeat(40), destination: Array.from({ length: 8 }, (_, i) => `VN-A${i}`) }), moh.kid, moh.privateKey);
    expect(QRCode.create(big, { errorCorrectionLevel: "M" }).version).toBeLessThanOrEqual(14);
  });

  it("tampered: any flipped byte is caught, with the reason of the step it breaks", () => {
    const raw = Buffer.from(base45Decode(good.slice(4)));
    expect(raw[0]).toBe(0xd2); // a typical pass is stored uncompressed: every byte is a COSE byte
    const [, , payload, sig] = (decode(raw) as Tag).value as Uint8Array[];
    const zone = (start: number, length: number) => (i: number) => i >= start && i < start + length;
    const inPayload = zone(raw.indexOf(Buffer.from(payload!)), payload!.length);
    const inSignature = zone(raw.lastIndexOf(Buffer.from(sig!)), sig!.length);
    const inKid = zone(raw.indexOf(Buffer.from(moh.kid)), moh.kid.length);
    const byReason: Record<string, number> = {};
    let flagged = 0;
    for (let i = 0; i < raw.length; i++) {
      const t = Uint8Array.from(raw);
      t[i]! ^= 0x01;
      const r = verify("VN1:" + base45Encode(t));
      // Signed bytes fail the signature; the kid names no key; the COSE framing (tag, lengths, alg) fails its parse.
      const want = inPayload(i) || inSignature(i) ? ["SIGNATURE_INVALID"] : inKid(i) ? ["KEY_UNKNOWN"] : ["STRUCTURE_INVALID", "ALG_UNSUPPORTED", "KID_MISSING"];
      expect(r.verdict, `byte ${i}`).toBe("FLAG");
      expect(want, `byte ${i}: ${r.reason}`).toContain(r.reason);
      if (r.verdict === "FLAG" && want.includes(r.reason)) flagged++;
      byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
    }
    expect(flagged).toBe(raw.length);
    expect(byReason.SIGNATURE_INVALID).toBe(payload!.length + sig!.length);
    expect(byReason.KEY_UNKNOWN).toBe(moh.kid.length);
  });

  it("tampered claims re-encoded under the original signature: SIGNATURE_INVALID", () => {
    // Graft the genuine signature onto a well-formed pass for another destination.
    const unpack = (t: string) => {
      const b = base45Decode(t.slice(4));
      return decode(b[0] === 0x78 ? inflateSync(b) : b) as Tag;
    };
    const genuine = unpack(good).value as Uint8Array[];
    const edited = unpack(issuePass(typicalPass({ destination: ["VN-CT"] }), moh.kid, moh.privateKey)).value as Uint8Array[];
    const forged = encodeCbor(new Tag([genuine[0], genuine[1], edited[2], genuine[3]], 18));
    expect(verify("VN1:" + base45Encode(forged)).reason).toBe("SIGNATURE_INVALID");
    expect(verify("VN1:" + base45Encode(encodeCbor(new Tag(genuine, 18)))).reason).toBe("OK"); // uncompressed is fine
  });

  it("wrong key, unknown kid", () => {
    // A trusted kid is named (the trust list's own text), so ops see which key failed.
    expect(verify(issuePass(typicalPass(), moh.kid, other.privateKey))).toMatchObject({ verdict: "FLAG", reason: "SIGNATURE_INVALID", kid: moh.kid });
    // An unknown kid is text from the payload that no trusted key vouches for: never on the stored verdict.
    const unknown = verify(issuePass(typicalPass(), "moh-1999", moh.privateKey));
    expect(unknown).toMatchObject({ verdict: "FLAG", reason: "KEY_UNKNOWN" });
    expect(unknown.kid).toBeUndefined();
  });

  it("a key trusted for one issuer cannot sign for another: ISSUER_UNTRUSTED, naming the key but not the claimed issuer", () => {
    const r = verify(issuePass(typicalPass({ issuer: "XX-MOH" }), moh.kid, moh.privateKey));
    expect(r).toMatchObject({ verdict: "FLAG", reason: "ISSUER_UNTRUSTED", kid: moh.kid });
    expect(r.issuer).toBeUndefined();
  });

  it("expired (no skew on expiry) and not yet valid (skew on validFrom only)", () => {
    const p = typicalPass();
    expect(verify(good, p.validUntil * 1000 + 1000).reason).toBe("EXPIRED");
    expect(verify(good, p.validUntil * 1000).reason).toBe("OK");
    expect(verify(good, p.validFrom * 1000 - 60_000).reason).toBe("OK"); // inside 120 s skew
    expect(verify(good, p.validFrom * 1000 - 600_000).reason).toBe("NOT_YET_VALID");
  });

  it("revoked by pass id", () => {
    const t = passTrust([{ key: moh, issuer: "VN-MOH" }]).revoke("pass", "P26-0000123456");
    const v = createVerifier({ trust: () => t, salt: "pepper", clockSkewS: 120 });
    expect(v.verify(good, { nowMs: NOW })).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
  });

  it("policy: rejected with the rule id; accepted when every rule holds", () => {
    const dest = { id: "destination-here", logic: { in: [{ var: "context.area" }, { var: "claims.destination" }] } };
    const healthy = { id: "health-cleared", formats: ["pass" as const], logic: { "==": [{ var: "claims.health" }, "cleared"] } };
    const fresh = { id: "declared-within-72h", formats: ["pass" as const], logic: { "<=": [{ "-": [{ var: "now" }, { var: "claims.declaredAt" }] }, 72 * 3600] } };
    expect(verify(good, NOW, lane([dest, healthy, fresh]))).toMatchObject({ verdict: "PASS", reason: "OK" });
    expect(verify(good, NOW, { ...lane([dest]), area: "VN-HP" })).toMatchObject({ verdict: "FLAG", reason: "POLICY_REJECTED", ruleId: "destination-here" });
    const monitor = issuePass(typicalPass({ health: "monitor" }), moh.kid, moh.privateKey);
    expect(verify(monitor, NOW, lane([dest, healthy]))).toMatchObject({ reason: "POLICY_REJECTED", ruleId: "health-cleared" });
    expect(verify(good, NOW + 4 * 86400_000, lane([fresh]))).toMatchObject({ reason: "POLICY_REJECTED", ruleId: "declared-within-72h" });
    // A rule that cannot be evaluated rejects (fail safe).
    expect(verify(good, NOW, lane([{ id: "broken", logic: { no_such_op: [1] } }]))).toMatchObject({ reason: "POLICY_REJECTED", ruleId: "broken" });
  });

  it("lane accepts only some formats: FORMAT_NOT_ACCEPTED", () => {
    expect(verify(good, NOW, lane([], ["dcc"])).reason).toBe("FORMAT_NOT_ACCEPTED");
  });

  it("stale trust: FLAG TRUST_STALE after the signature check; ERROR with out-of-service", () => {
    const t = passTrust([{ key: moh, issuer: "VN-MOH" }]);
    t.stale = true;
    const flag = createVerifier({ trust: () => t, salt: "p", clockSkewS: 0 });
    expect(flag.verify(good, { nowMs: NOW })).toMatchObject({ verdict: "FLAG", reason: "TRUST_STALE", kid: "moh-2026-01" });
    expect(flag.verify("VN1:%%%", { nowMs: NOW }).reason).toBe("BASE45_INVALID");
    expect(flag.verify(issuePass(typicalPass(), moh.kid, other.privateKey), { nowMs: NOW }).reason).toBe("SIGNATURE_INVALID");
    const oos = createVerifier({ trust: () => t, salt: "p", clockSkewS: 0, staleAction: "out-of-service" });
    expect(oos.verify(good, { nowMs: NOW })).toMatchObject({ verdict: "ERROR", reason: "TRUST_STALE" });
  });

  it("an untrusted clock: CLOCK_UNTRUSTED after the signature check, before the validity window; ERROR unless clockAction is flag", () => {
    const t = passTrust([{ key: moh, issuer: "VN-MOH" }]);
    t.clockUntrusted = { basis: "signed-time", offsetMs: -30 * 86400_000 };
    const oos = createVerifier({ trust: () => t, salt: "p", clockSkewS: 0, clockAction: "out-of-service" });
    expect(oos.verify(good, { nowMs: NOW })).toMatchObject({ verdict: "ERROR", reason: "CLOCK_UNTRUSTED", kid: "moh-2026-01" });
    // A pass the (wrong) clock would call current or expired gets the same answer: the clock cannot judge either.
    const expiredAtNow = issuePass(typicalPass({ validUntil: NOW / 1000 - 60 }), moh.kid, moh.privateKey);
    expect(oos.verify(expiredAtNow, { nowMs: NOW }).reason).toBe("CLOCK_UNTRUSTED");
    expect(oos.verify(issuePass(typicalPass(), moh.kid, other.privateKey), { nowMs: NOW }).reason).toBe("SIGNATURE_INVALID");
    const flag = createVerifier({ trust: () => t, salt: "p", clockSkewS: 0, clockAction: "flag" });
    expect(flag.verify(good, { nowMs: NOW })).toMatchObject({ verdict: "FLAG", reason: "CLOCK_UNTRUSTED" });
    t.clockUntrusted = undefined;
    expect(flag.verify(good, { nowMs: NOW })).toMatchObject({ verdict: "PASS", reason: "OK" });
  });

  it("salted hash: same pass, same salt -> same hash; another salt -> another hash", () => {
    const a = verify(good).credentialHash;
    const other = createVerifier({ trust: () => trust, salt: "other", clockSkewS: 0 }).verify(good, { nowMs: NOW }).credentialHash;
    expect(verify(issuePass(typicalPass(), moh.kid, moh.privateKey)).credentialHash).toBe(a);
    expect(other).not.toBe(a);
  });

  it("refuses to issue what it would not verify", () => {
    expect(() => issuePass(typicalPass({ origin: "hanoi" }), moh.kid, moh.privateKey)).toThrow(/origin/);
    expect(() => issuePass(typicalPass({ validUntil: typicalPass().validFrom }), moh.kid, moh.privateKey)).toThrow(/validity/);
  });
});
