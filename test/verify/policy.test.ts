/** Lane policy over DCC and SHC facts (the pass cases are in pass.test.ts); facts never carry identity. */
import { describe, expect, it } from "vitest";
import { createVerifier, dccKeyFromCertificate, firstRejectingRule, parseCertificate, type LanePolicy } from "../../src/verify/index.js";
import { MemoryTrust } from "../../src/verify/testing/memory-trust.js";
import { loadDccVectors } from "./support/dcc-vectors.js";
import { readShc, SHC_AT, shcTrust } from "./support/shc.js";

const lane = (rules: LanePolicy["rules"]): LanePolicy => ({ id: "l", area: "VN-SG", accept: ["pass", "dcc", "shc"], rules });

describe("policy over DCC and SHC claims", () => {
  const vec = loadDccVectors().find((v) => v.name === "DE/2DCode/raw/1.json")!;
  const dccTrust = new MemoryTrust([dccKeyFromCertificate(parseCertificate(vec.certificate!), "t")]);
  const dcc = createVerifier({ trust: () => dccTrust, salt: "s", clockSkewS: 0 });
  const shcT = shcTrust();
  const shc = createVerifier({ trust: () => shcT, salt: "s", clockSkewS: 0 });
  const card = readShc("example-00-f-qr-code-numeric-value-0.txt");

  it("DCC: type and medical fields are visible; name, birth date and UVCI are not", () => {
    const r = dcc.verify(vec.prefix, { nowMs: vec.clockMs!, lane: lane([{ id: "type-v", formats: ["dcc"], logic: { "==": [{ var: "claims.type" }, "v"] } }]) });
    expect(r.reason).toBe("OK");
    const seen = firstRejectingRule([{ id: "type-v", formats: ["dcc"], logic: { "==": [{ var: "claims.type" }, "v"] } }], { format: "dcc", issuer: "DE", kid: "k", now: 0, claims: { type: "t" }, context: {} });
    expect(seen).toBe("type-v");
    const onlyTests = dcc.verify(vec.prefix, { nowMs: vec.clockMs!, lane: lane([{ id: "tests-only", formats: ["dcc"], logic: { "==": [{ var: "claims.type" }, "t"] } }]) });
    expect(onlyTests).toMatchObject({ reason: "POLICY_REJECTED", ruleId: "tests-only" });
    const noPii = dcc.verify(vec.prefix, { nowMs: vec.clockMs!, lane: lane([{ id: "no-pii", logic: { and: [{ "!": { var: "claims.nam" } }, { "!": { var: "claims.dob" } }, { "!": { var: "claims.v.ci" } }] } }]) });
    expect(noPii.reason).toBe("OK");
  });

  it("SHC: immunization count and codes, rules scoped by format", () => {
    expect(shc.verify(card, { nowMs: SHC_AT, lane: lane([{ id: "three-doses", formats: ["shc"], logic: { "==": [{ var: "claims.doses" }, 3] } }]) }).reason).toBe("OK");
    expect(shc.verify(card, { nowMs: SHC_AT, lane: lane([{ id: "four-doses", formats: ["shc"], logic: { ">=": [{ var: "claims.doses" }, 4] } }]) })).toMatchObject({ reason: "POLICY_REJECTED", ruleId: "four-doses" });
    const cvx = { id: "cvx-207", formats: ["shc" as const], logic: { some: [{ var: "claims.immunizations" }, { "==": [{ var: "code" }, "207"] }] } };
    expect(shc.verify(card, { nowMs: SHC_AT, lane: lane([cvx]) }).reason).toBe("OK");
    expect(shc.verify(card, { nowMs: SHC_AT, lane: lane([{ id: "pass-only", formats: ["pass"], logic: false }]) }).reason).toBe("OK");
    expect(shc.verify(card, { nowMs: SHC_AT, lane: lane([{ id: "issuer", logic: { "==": [{ var: "issuer" }, "https://spec.smarthealth.cards/examples/issuer"] } }]) }).reason).toBe("OK");
  });
});
