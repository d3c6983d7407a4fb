/**
 * A verdict is stored (spool, Redis stream, MQTT, hash-chained ledger): the kid and issuer it
 * carries must be ones the trust data names, never text read from a QR payload that no trusted
 * key vouches for (audit 2 #2).
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Verdict } from "../../src/core/types.js";
import { buildVerdictEvent } from "../../src/lane/event.js";
import { toWireEvent } from "../../src/output/events/wire.js";
import { entryLine, ledgerBody } from "../../src/output/ledger/chain.js";
import { verdictPayload } from "../../src/output/mqtt/payloads.js";
import { createVerifier, issuePass } from "../../src/verify/index.js";
import { encodeCbor } from "../../src/verify/pass/issue-pass.js";
import { claimsToMap } from "../../src/verify/pass/claims.js";
import { signedCoseText } from "../../bench/lib/fuzz-targets.js";
import { makeKey, NOW, passTrust, typicalPass } from "./support/pass.js";
import { EXAMPLE_KID, examplePayload, SHC_AT, SHC_ISSUER, shcTrust, signShc, UNPUBLISHED_KID } from "./support/shc.js";

const PERSON = "Nguyen Van A, born 1980-02-03, passport C1234567";

/** Everything that leaves the gateway for one verdict: the wire event (spool, stream), the ledger line and the MQTT message. */
function stored(v: Verdict): string {
  const ev = buildVerdictEvent(v, { gatewayId: "gw", lane: "L1", cameraId: "c1", seq: 1, at: NOW, decidedMono: 10, frameReceivedAt: 5, firstSeen: 1, payloadHash: "ab12" });
  const wire = toWireEvent(ev);
  return [JSON.stringify(wire), entryLine(ledgerBody(wire, 1, "0".repeat(64), "gw")).line, JSON.stringify(verdictPayload(ev))].join("\n");
}

describe("verdicts carry only the kid and issuer the trust data names", () => {
  const shc = createVerifier({ trust: () => shcTrust(), salt: "s", clockSkewS: 60 });

  it("an SHC card from an unknown key with personal data in iss: KEY_UNKNOWN, and nothing of iss or the kid is stored", () => {
    const v = shc.verify(signShc(examplePayload({ iss: PERSON }), { kid: UNPUBLISHED_KID }), { nowMs: SHC_AT });
    expect(v).toMatchObject({ verdict: "FLAG", reason: "KEY_UNKNOWN", format: "shc" });
    expect(v.issuer).toBeUndefined();
    expect(v.kid).toBeUndefined();
    const out = stored(v);
    expect(out).toContain('"reason":"KEY_UNKNOWN"');
    for (const leak of ["Nguyen", "C1234567", UNPUBLISHED_KID]) expect(out).not.toContain(leak);
  });

  it("an SHC card under a trusted kid claiming a free-text issuer (signature never checked): ISSUER_UNTRUSTED with the kid, without the issuer", () => {
    const v = shc.verify(signShc(examplePayload({ iss: PERSON })), { nowMs: SHC_AT });
    expect(v).toMatchObject({ verdict: "FLAG", reason: "ISSUER_UNTRUSTED", kid: EXAMPLE_KID });
    expect(v.issuer).toBeUndefined();
    expect(stored(v)).not.toContain("Nguyen");
  });

  it("a pass whose kid is personal data: KEY_UNKNOWN without the kid", () => {
    const moh = makeKey("moh-2026-01");
    const verifier = createVerifier({ trust: () => passTrust([{ key: moh, issuer: "VN-MOH" }]), salt: "s", clockSkewS: 120 });
    const kid = "Tran Thi B 1990-01-01 C7654321";
    const v = verifier.verify(issuePass(typicalPass(), kid, moh.privateKey), { nowMs: NOW });
    expect(v).toMatchObject({ verdict: "FLAG", reason: "KEY_UNKNOWN", format: "pass" });
    expect(v.kid).toBeUndefined();
    expect(stored(v)).not.toContain("Tran Thi");
  });

  it("a DCC whose kid bytes are personal data: KEY_UNKNOWN without the kid", () => {
    const k = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const verifier = createVerifier({ trust: () => passTrust([]), salt: "s", clockSkewS: 0 });
    const v = verifier.verify(signedCoseText("HC1:", encodeCbor(claimsToMap(typicalPass())), Buffer.from("Le Van C 1975"), k.privateKey, true), { nowMs: NOW });
    expect(v).toMatchObject({ verdict: "FLAG", reason: "KEY_UNKNOWN", format: "dcc" });
    expect(v.kid).toBeUndefined();
    expect(stored(v)).not.toContain(Buffer.from("Le Van C 1975").toString("base64"));
  });

  it("names the trust data holds are kept: a trusted kid and issuer on a failed signature and on a PASS", () => {
    const v = shc.verify(signShc(examplePayload(), { derSignature: true }), { nowMs: SHC_AT });
    expect(v).toMatchObject({ verdict: "FLAG", reason: "SIGNATURE_INVALID", kid: EXAMPLE_KID, issuer: SHC_ISSUER });
    expect(shc.verify(signShc(examplePayload()), { nowMs: SHC_AT })).toMatchObject({ verdict: "PASS", reason: "OK", kid: EXAMPLE_KID, issuer: SHC_ISSUER });
    expect(stored(v)).toContain(`"issuer":"${SHC_ISSUER}"`);
  });
});
