/**
 * A SMART Health Card whose JWS header or payload has a JSON object key twice is STRUCTURE_INVALID.
 * JSON.parse keeps the last value, a first-wins verifier the first: the same signed card must not
 * read as another issuer, another not-before or another rid (as for CBOR maps, cbor-duplicate-keys).
 */
import { describe, expect, it } from "vitest";
import { assertNoDuplicateJsonKeys } from "../../src/verify/codec/json-dup.js";
import { VerifyFailure } from "../../src/verify/reasons.js";
import { createVerifier } from "../../src/verify/index.js";
import { EXAMPLE_KID, examplePayload, readShc, SHC_AT, SHC_ISSUER, shcTrust, signShcJson } from "./support/shc.js";

const trust = shcTrust();
const verifier = createVerifier({ trust: () => trust, salt: "t", clockSkewS: 60 });
const verify = (text: string) => verifier.verify(text, { nowMs: SHC_AT });
const INVALID = { verdict: "FLAG", reason: "STRUCTURE_INVALID" };

/** The spec's example payload as signed text: `{"iss":...,"nbf":...,"vc":{"type":...,"credentialSubject":...,"rid":"MKyCxh7p6uQ"}}`. */
const PAYLOAD = JSON.stringify(examplePayload());
const RID = "MKyCxh7p6uQ";
/** On the example issuer's revocation list with no cut-off: every card with it is revoked. */
const REVOKED_RID = "FKDIxsTCGlU";
const OTHER = "https://other.example/issuer";

function reasonOf(text: string): string {
  try {
    assertNoDuplicateJsonKeys(text);
    return "none";
  } catch (e) {
    if (e instanceof VerifyFailure) return e.reason;
    throw e;
  }
}

/** Replaces the one occurrence of `from` in the payload text (throws if it is not there exactly once). */
function payloadWith(from: string, to: string): string {
  if (PAYLOAD.split(from).length !== 2) throw new Error(`test helper: ${from} not found once`);
  return PAYLOAD.replace(from, to);
}

describe("JSON duplicate-key scanner", () => {
  it("refuses a key twice in any object, compared after unescaping", () => {
    for (const t of [
      '{"a":1,"a":2}',
      '{"a":1,"\\u0061":2}',
      '{"\\u00e9":1,"é":2}',
      '{"\\ud83d\\ude00":1,"😀":2}',
      '{"a\\/b":1,"a/b":2}',
      '{"":1,"":2}',
      '{"__proto__":1,"__proto__":2}',
      '{"a":{},"a":{}}',
      '{"a":[],"b":1,"a":2}',
      '[1,{"z":0,"z":0}]',
      '{"x":[{"b":1,"c":{"d":1,"d":"}"}}]}',
      '{"s":"\\"","k":1,"k":2}',
      '{"s":"x\\\\","k":1,"k":2}',
    ]) expect(reasonOf(t), t).toBe("STRUCTURE_INVALID");
  });

  it("objects with many keys (past the point where the scanner keeps a Set): a repeat anywhere is found, nested objects do not leak keys", () => {
    // k0..k(n-1); every seventh value an object that reuses its parent's key names.
    const many = (n: number, p = "k", inner = ""): string => Array.from({ length: n }, (_, i) => `"${p}${i}":${i % 7 === 0 ? `{"${p}${i}":1,"${p}1":[{"${p}1":2}]${inner}}` : i}`).join(",");
    expect(reasonOf(`{${many(40)}}`)).toBe("none");
    expect(reasonOf(`[{${many(40)}},{${many(40)}}]`)).toBe("none");
    expect(reasonOf(`{${many(40, "k", `,${many(20, "j")}`)}}`)).toBe("none");
    for (const dup of ["k0", "k5", "k13", "k39"]) {
      expect(reasonOf(`{${many(40)},"${dup}":0}`), dup).toBe("STRUCTURE_INVALID");
      expect(reasonOf(`{"a":{${many(40)},"${dup}":0},"b":1}`), dup).toBe("STRUCTURE_INVALID");
    }
    expect(reasonOf(`{${many(40)},"k40":{${many(20)},"k19":0}}`)).toBe("STRUCTURE_INVALID");
  });

  it("accepts the same key in different objects, key-like text inside strings, and keys that only look alike", () => {
    for (const t of [
      '{"a":1,"b":{"a":2}}',
      '[{"a":1},{"a":1}]',
      '{"a":{},"b":[],"c":[{}],"d":[[{"a":1}],{"a":1}]}',
      '{"a":"\\"a\\":1,\\"a\\":2"}',
      '{"a":"x\\",\\"a\\":0,\\"y"}',
      '{"a\\\\":1,"a":2}',
      '{"a":"x\\\\","b":"{\\"b\\":1}"}',
      '{"é":1,"e\\u0301":2}',
      '{"A":1,"a":2}',
      '"{\\"a\\":1,\\"a\\":2}"',
      "[]",
      "1",
      ' { "a" : [ 1 , { "a" : 2 } ] , "b" : { } } ',
    ]) expect(reasonOf(t), t).toBe("none");
  });
});

describe("SMART Health Cards with a duplicate JSON key", () => {
  it("genuine cards still PASS: the spec examples and a freshly signed payload", () => {
    for (const n of ["00", "01"]) expect(verify(readShc(`example-${n}-f-qr-code-numeric-value-0.txt`)), n).toMatchObject({ verdict: "PASS", reason: "OK" });
    expect(verify(signShcJson(PAYLOAD))).toMatchObject({ verdict: "PASS", reason: "OK", issuer: SHC_ISSUER });
  });

  it("a header with alg twice (none, then ES256) or kid twice", () => {
    const header = (json: string) => signShcJson(PAYLOAD, { headerJson: json });
    expect(verify(header(`{"zip":"DEF","alg":"ES256","kid":"${EXAMPLE_KID}"}`))).toMatchObject({ verdict: "PASS" });
    expect(verify(header(`{"zip":"DEF","alg":"none","kid":"${EXAMPLE_KID}","alg":"ES256"}`))).toMatchObject(INVALID);
    expect(verify(header(`{"zip":"DEF","alg":"ES256","kid":"other","kid":"${EXAMPLE_KID}"}`))).toMatchObject(INVALID);
  });

  it("a payload with iss twice, the trusted issuer last or first", () => {
    expect(verify(signShcJson(`{"iss":"${OTHER}",` + PAYLOAD.slice(1)))).toMatchObject(INVALID);
    expect(verify(signShcJson(PAYLOAD.slice(0, -1) + `,"iss":"${OTHER}"}`))).toMatchObject(INVALID);
  });

  it("a payload with iss twice, spelled differently (\\u escapes)", () => {
    expect(verify(signShcJson(`{"\\u0069ss":"${OTHER}",` + PAYLOAD.slice(1)))).toMatchObject(INVALID);
    expect(verify(signShcJson(PAYLOAD.slice(0, -1) + `,"i\\u0073\\u0073":"${OTHER}"}`))).toMatchObject(INVALID);
  });

  it("a payload with nbf twice (next year, then the real one)", () => {
    const nextYear = Math.floor(SHC_AT / 1000) + 365 * 86400;
    expect(verify(signShcJson(PAYLOAD.replace("{", `{"nbf":${nextYear},`)))).toMatchObject(INVALID);
  });

  it("a vc with rid twice, one of them on the revocation list, in either order", () => {
    expect(verify(signShcJson(payloadWith(`"rid":"${RID}"`, `"rid":"${REVOKED_RID}"`)))).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
    expect(verify(signShcJson(payloadWith(`"rid":"${RID}"`, `"rid":"${REVOKED_RID}","rid":"${RID}"`)))).toMatchObject(INVALID);
    expect(verify(signShcJson(payloadWith(`"rid":"${RID}"`, `"rid":"${RID}","rid":"${REVOKED_RID}"`)))).toMatchObject(INVALID);
  });

  it("duplicates inside credentialSubject.fhirBundle entries", () => {
    const immunization = '"resource":{"resourceType":"Immunization"';
    expect(PAYLOAD.split(immunization).length).toBeGreaterThan(2);
    const first = PAYLOAD.indexOf(immunization);
    const at = (to: string) => PAYLOAD.slice(0, first) + to + PAYLOAD.slice(first + immunization.length);
    expect(verify(signShcJson(at('"resource":{"resourceType":"Patient","resourceType":"Immunization"')))).toMatchObject(INVALID);
    expect(verify(signShcJson(at('"resource":{},"resource":{"resourceType":"Immunization"')))).toMatchObject(INVALID);
    expect(verify(signShcJson(payloadWith('"fhirVersion":', '"fhirVersion":"1.0.0","fhirVersion":')))).toMatchObject(INVALID);
  });
});
