/**
 * A CBOR map with a duplicate key is STRUCTURE_INVALID. cbor-x keeps the last value, a first-wins
 * verifier the first: the same signed bytes must not read as two different credentials.
 */
import { describe, expect, it } from "vitest";
import { decodeCbor } from "../../src/verify/codec/cbor.js";
import { VerifyFailure } from "../../src/verify/reasons.js";
import { createVerifier } from "../../src/verify/index.js";
import { claimsToMap } from "../../src/verify/pass/claims.js";
import { encodeCbor } from "../../src/verify/pass/issue-pass.js";
import { deResigned } from "./support/de-resigned.js";
import { hc1, vn1 } from "./support/cose.js";
import { makeKey, NOW, passTrust, typicalPass } from "./support/pass.js";

function reasonOf(bytes: number[] | Uint8Array): string {
  try {
    decodeCbor(Uint8Array.from(bytes));
    return "none";
  } catch (e) {
    if (e instanceof VerifyFailure) return e.reason;
    throw e;
  }
}

/** Appends `extra` (already-encoded key/value pairs) to an encoded definite map of under 23 pairs. */
function withPairs(map: Uint8Array, pairs: number, extra: number[] | Uint8Array): Uint8Array {
  const n = map[0]! & 0x1f;
  if (map[0]! >> 5 !== 5 || n + pairs > 23) throw new Error("test helper: small definite map only");
  return Uint8Array.from([0xa0 | (n + pairs), ...map.subarray(1), ...extra]);
}

describe("CBOR maps with a duplicate key", () => {
  it("are refused whatever the key's encoding: non-minimal integers, floats equal to the integer, text, indefinite maps, nested maps", () => {
    for (const b of [
      [0xa2, 0x01, 0x01, 0x01, 0x02], // {1: 1, 1: 2}
      [0xa2, 0x01, 0x01, 0x18, 0x01, 0x02], // 1 and 0x18 0x01
      [0xa2, 0x01, 0x01, 0x1a, 0, 0, 0, 1, 0x02], // 1 as four bytes
      [0xa2, 0x01, 0x01, 0xf9, 0x3c, 0x00, 0x02], // 1 and half-float 1.0 (one Map key in cbor-x)
      [0xa2, 0x26, 0x01, 0x38, 0x06, 0x02], // -7 and -7 as 0x38 0x06
      [0xa2, 0x61, 0x76, 0x01, 0x61, 0x76, 0x02], // "v" twice
      [0xbf, 0x04, 0x01, 0x04, 0x02, 0xff], // indefinite map
      [0x81, 0xa1, 0x01, 0xa2, 0x07, 0x00, 0x07, 0x02], // inside an array and a map
      [0xa2, 0xf4, 0x01, 0xf4, 0x02], // false twice
    ]) expect(reasonOf(b), JSON.stringify(b)).toBe("STRUCTURE_INVALID");
  });

  it("distinct keys that only look alike still decode: 1 and -1, 1 and \"1\", 0 and 0.5, byte strings", () => {
    expect(decodeCbor(Uint8Array.from([0xa2, 0x01, 0x01, 0x20, 0x02]))).toEqual(new Map([[1, 1], [-1, 2]]));
    expect(decodeCbor(Uint8Array.from([0xa2, 0x01, 0x01, 0x61, 0x31, 0x02]))).toEqual(new Map<unknown, number>([[1, 1], ["1", 2]]));
    expect(reasonOf([0xa2, 0x00, 0x01, 0xf9, 0x38, 0x00, 0x02])).toBe("none");
    expect(reasonOf([0xa2, 0x41, 0x01, 0x01, 0x41, 0x01, 0x02])).toBe("none");
    expect(reasonOf([0xa1, 0x61, 0xff, 0x01])).toBe("STRUCTURE_INVALID"); // a text key that is not UTF-8
  });

  it("a DCC whose CWT has exp twice (expired, then valid) is STRUCTURE_INVALID, not PASS", () => {
    const { vec, cwt, privateKey, kid, verifier: de } = deResigned();
    const verify = (payload: Uint8Array) => de.verify(hc1({ prot: new Map<number, unknown>([[1, -7], [4, kid]]), payload, key: privateKey }), { nowMs: vec.clockMs! });
    const rest = new Map(cwt);
    rest.delete(4);
    const expired = Math.floor(vec.clockMs! / 1000) - 3600;
    expect(verify(encodeCbor(cwt))).toMatchObject({ verdict: "PASS", reason: "OK" });
    expect(verify(encodeCbor(new Map([...rest, [4, expired]])))).toMatchObject({ verdict: "FLAG", reason: "EXPIRED" });
    const twice = withPairs(encodeCbor(new Map([[4, expired], ...rest])), 1, [0x04, ...encodeCbor(cwt.get(4))]);
    expect(verify(twice)).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
  });

  describe("checkpoint pass", () => {
    const key = makeKey("moh-1");
    const verifier = createVerifier({ trust: () => passTrust([{ key, issuer: "VN-MOH" }]), salt: "s", clockSkewS: 60 });
    const lane = { id: "g1", area: "VN-SG", accept: ["pass" as const], rules: [{ id: "health-cleared", formats: ["pass" as const], logic: { "==": [{ var: "claims.health" }, "cleared"] } }] };
    const prot = new Map<number, unknown>([[1, -7], [4, Buffer.from("moh-1")]]);
    const verify = (payload: Uint8Array, p: Map<number, unknown> | Uint8Array = prot) => verifier.verify(vn1({ prot: p, payload, key: key.privateKey }), { nowMs: NOW, lane });

    it("health twice (isolate, then cleared) is STRUCTURE_INVALID, not PASS through the health-cleared rule", () => {
      const isolate = encodeCbor(claimsToMap(typicalPass({ health: "isolate" })));
      expect(verify(encodeCbor(claimsToMap(typicalPass())))).toMatchObject({ verdict: "PASS", reason: "OK" });
      expect(verify(isolate)).toMatchObject({ verdict: "FLAG", reason: "POLICY_REJECTED", ruleId: "health-cleared" });
      const healthKey = 7;
      expect(claimsToMap(typicalPass()).get(healthKey)).toBe(0);
      expect(verify(withPairs(isolate, 1, [healthKey, 0x00]))).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
    });

    it("a protected header with alg twice (PS256, then ES256) is STRUCTURE_INVALID", () => {
      const payload = encodeCbor(claimsToMap(typicalPass()));
      const dup = Uint8Array.from([0xa3, 0x01, 0x38, 0x24, 0x01, 0x26, 0x04, 0x45, ...Buffer.from("moh-1")]);
      expect(verify(payload, Uint8Array.from([0xa2, 0x01, 0x26, 0x04, 0x45, ...Buffer.from("moh-1")]))).toMatchObject({ verdict: "PASS", reason: "OK" });
      expect(verify(payload, dup)).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
    });
  });
});
