/**
 * COSE header rules for DCCs (RFC 9052): crit refused, no label in both the protected and the
 * unprotected header, CWT nbf honoured (NOT_YET_VALID before it). And the checkpoint pass's strict
 * layout (docs/checkpoint-pass.md): alg and kid protected, unprotected empty, tag 18 or none.
 */
import { generateKeyPairSync } from "node:crypto";
import { inflateSync } from "node:zlib";
import { Decoder, Tag } from "cbor-x";
import { describe, expect, it } from "vitest";
import { base45Decode } from "../../src/verify/codec/base45.js";
import { createVerifier } from "../../src/verify/index.js";
import { claimsToMap } from "../../src/verify/pass/claims.js";
import { encodeCbor } from "../../src/verify/pass/issue-pass.js";
import { issuePass } from "../../src/verify/index.js";
import { MemoryTrust } from "../../src/verify/testing/memory-trust.js";
import { loadDccVectors } from "./support/dcc-vectors.js";
import { verifyVector } from "./support/dcc-agreement.js";
import { hc1, vn1 } from "./support/cose.js";
import { makeKey, NOW, passTrust, typicalPass } from "./support/pass.js";

const vec = loadDccVectors().find((x) => x.name === "DE/2DCode/raw/1.json")!;
const dec = new Decoder({ mapsAsObjects: false });
const cwt = dec.decode((dec.decode(inflateSync(base45Decode(vec.prefix.slice(4)))) as Tag).value[2] as Uint8Array) as Map<number, unknown>;
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const fr = generateKeyPairSync("ec", { namedCurve: "P-256" });
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const kid = Buffer.from("issuer01");
const kidRsa = Buffer.from("issuerRS");
const kidFr = Buffer.from("issuerFR");
const trust = new MemoryTrust([
  { kid: kid.toString("base64"), issuer: "DE", formats: ["dcc"], key: ec.publicKey, source: "t" },
  { kid: kidRsa.toString("base64"), issuer: "DE", formats: ["dcc"], key: rsa.publicKey, source: "t" },
  { kid: kidFr.toString("base64"), issuer: "FR", formats: ["dcc"], key: fr.publicKey, source: "t" },
]);
const nowS = Math.floor(vec.clockMs! / 1000);
const verifier = createVerifier({ trust: () => trust, salt: "s", clockSkewS: 60 });
const dcc = (o: Partial<Parameters<typeof hc1>[0]> = {}, nowMs = vec.clockMs!) =>
  verifier.verify(hc1({ prot: new Map<number, unknown>([[1, -7], [4, kid]]), payload: encodeCbor(cwt), key: ec.privateKey, ...o }), { nowMs });
const claims = (f: (m: Map<number, unknown>) => void) => {
  const m = new Map(cwt);
  f(m);
  return encodeCbor(m);
};

describe("DCC COSE headers", () => {
  it("the re-signed vector PASSes, with alg and kid protected or (DCC leniency) unprotected", () => {
    expect(dcc()).toMatchObject({ verdict: "PASS", reason: "OK" });
    expect(dcc({ prot: new Map<number, unknown>([[1, -7]]), unprot: new Map([[4, kid]]) })).toMatchObject({ verdict: "PASS", reason: "OK" });
    expect(dcc({ prot: new Map<number, unknown>([[4, kid]]), unprot: new Map([[1, -7]]) })).toMatchObject({ verdict: "PASS", reason: "OK" });
  });

  it("a protected crit (label 2) is refused, as the SHC path refuses crit", () => {
    expect(dcc({ prot: new Map<number, unknown>([[1, -7], [4, kid], [2, [99]], [99, 1]]) })).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
    expect(dcc({ unprot: new Map<number, unknown>([[2, [99]]]) })).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
  });

  it("a label in both headers is STRUCTURE_INVALID: alg ES256 protected + PS256 unprotected, or the same alg twice", () => {
    expect(dcc({ unprot: new Map<number, unknown>([[1, -37]]) })).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
    expect(dcc({ unprot: new Map<number, unknown>([[1, -7]]) })).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
    expect(dcc({ prot: new Map<number, unknown>([[1, -37], [4, kidRsa]]), alg: "PS256", key: rsa.privateKey })).toMatchObject({ verdict: "PASS", reason: "OK" });
  });

  it("kid in both: the protected kid decides (DCC rule, EU test data CO21/CO22), the unprotected one is never read", () => {
    // Signed by DE under the DE kid, an FR kid unprotected: verified as DE, never as FR.
    expect(dcc({ unprot: new Map<number, unknown>([[4, kidFr]]) })).toMatchObject({ verdict: "PASS", reason: "OK", issuer: "DE", kid: kid.toString("base64") });
    // An FR kid protected over a DE signature, the DE kid unprotected: the FR key does not verify it.
    expect(dcc({ prot: new Map<number, unknown>([[1, -7], [4, kidFr]]), unprot: new Map<number, unknown>([[4, kid]]) })).toMatchObject({ verdict: "FLAG", reason: "SIGNATURE_INVALID" });
    const byName = new Map(loadDccVectors().map((x) => [x.name, x]));
    const reasonOf = (n: string) => {
      const x = byName.get(`common/2DCode/raw/${n}.json`)!;
      return verifyVector(x).reason;
    };
    expect(["CO18", "CO19", "CO20", "CO21", "CO22", "CO23"].map((n) => [n, reasonOf(n)])).toEqual([
      ["CO18", "OK"], ["CO19", "OK"], ["CO20", "OK"], ["CO21", "OK"], ["CO22", "KEY_UNKNOWN"], ["CO23", "KEY_UNKNOWN"],
    ]);
  });
});

describe("DCC CWT nbf (claim 5)", () => {
  it("before nbf is NOT_YET_VALID (beyond the clock skew); at or after it, PASS; validFrom is max(iat, nbf)", () => {
    const later = claims((m) => m.set(5, nowS + 86_400));
    expect(dcc({ payload: later })).toMatchObject({ verdict: "FLAG", reason: "NOT_YET_VALID" });
    expect(dcc({ payload: later }, (nowS + 86_400) * 1000)).toMatchObject({ verdict: "PASS", reason: "OK", validFrom: (nowS + 86_400) * 1000 });
    const earlier = claims((m) => m.set(5, (cwt.get(6) as number) - 3600));
    expect(dcc({ payload: earlier })).toMatchObject({ verdict: "PASS", reason: "OK", validFrom: (cwt.get(6) as number) * 1000 });
  });

  it("a malformed nbf is STRUCTURE_INVALID, like a malformed iat", () => {
    for (const bad of ["1700000000", Infinity, NaN, null, [1]]) {
      expect(dcc({ payload: claims((m) => m.set(5, bad)) }), String(bad)).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
    }
  });
});

describe("checkpoint pass: strict COSE layout", () => {
  const key = makeKey("moh-1");
  const v = createVerifier({ trust: () => passTrust([{ key, issuer: "VN-MOH" }]), salt: "s", clockSkewS: 60 });
  const payload = encodeCbor(claimsToMap(typicalPass()));
  const kidB = Buffer.from("moh-1");
  const pass = (o: Partial<Parameters<typeof vn1>[0]>) => v.verify(vn1({ prot: new Map<number, unknown>([[1, -7], [4, kidB]]), payload, key: key.privateKey, ...o }), { nowMs: NOW });

  it("the documented layout verifies: issued, hand-built tagged 18 and untagged", () => {
    expect(v.verify(issuePass(typicalPass(), "moh-1", key.privateKey), { nowMs: NOW })).toMatchObject({ verdict: "PASS", reason: "OK" });
    expect(pass({})).toMatchObject({ verdict: "PASS", reason: "OK" });
    expect(pass({ tag: null })).toMatchObject({ verdict: "PASS", reason: "OK" });
  });

  it("kid or alg only unprotected, an empty protected header, anything unprotected, a CWT tag 61 wrapper: STRUCTURE_INVALID", () => {
    for (const [name, o] of [
      ["kid unprotected", { prot: new Map<number, unknown>([[1, -7]]), unprot: new Map<number, unknown>([[4, kidB]]) }],
      ["alg unprotected", { prot: new Map<number, unknown>([[4, kidB]]), unprot: new Map<number, unknown>([[1, -7]]) }],
      ["empty protected", { prot: new Map(), unprot: new Map<number, unknown>([[1, -7], [4, kidB]]) }],
      ["extra unprotected label", { unprot: new Map<number, unknown>([[33, 1]]) }],
      ["tag 61 around 18", { tag: [61, 18] as [number, number] }],
    ] as const) {
      expect(pass(o), name).toMatchObject({ verdict: "FLAG", reason: "STRUCTURE_INVALID" });
    }
  });
});
