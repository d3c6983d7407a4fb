/** COSE_Sign1 edge cases through the pass verifier: headers, algorithms, key types, tags. */
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { Tag } from "cbor-x";
import { describe, expect, it } from "vitest";
import { createVerifier } from "../../src/verify/index.js";
import { base45Encode } from "../../src/verify/codec/base45.js";
import { sigStructure } from "../../src/verify/codec/cose.js";
import { encodeCbor } from "../../src/verify/pass/issue-pass.js";
import { claimsToMap } from "../../src/verify/pass/claims.js";
import { MemoryTrust } from "../../src/verify/testing/memory-trust.js";
import { NOW, typicalPass } from "./support/pass.js";

const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const trust = new MemoryTrust([
  { kid: "k256", issuer: "VN-MOH", formats: ["pass"], key: createPublicKey(p256.privateKey), source: "t" },
  { kid: "k384", issuer: "VN-MOH", formats: ["pass"], key: p384.publicKey, source: "t" },
  { kid: "krsa", issuer: "VN-MOH", formats: ["pass"], key: rsa.publicKey, source: "t" },
  { kid: "kdcc", issuer: "VN-MOH", formats: ["dcc"], key: createPublicKey(p256.privateKey), source: "t" },
]);
const verify = (t: string) => createVerifier({ trust: () => trust, salt: "s", clockSkewS: 0 }).verify(t, { nowMs: NOW });
const payload = encodeCbor(claimsToMap(typicalPass()));

function build(o: { prot?: Map<number, unknown>; unprot?: Map<number, unknown>; key?: KeyObject; tag?: number | null; sig?: Uint8Array }): string {
  const prot = encodeCbor(o.prot ?? new Map<number, unknown>([[1, -7], [4, Buffer.from("k256")]]));
  const sig = o.sig ?? sign("sha256", sigStructure(prot, payload), { key: o.key ?? p256.privateKey, dsaEncoding: "ieee-p1363" });
  const arr = [prot, o.unprot ?? new Map(), payload, sig];
  const tag = o.tag === undefined ? 18 : o.tag;
  return "VN1:" + base45Encode(encodeCbor(tag === null ? arr : new Tag(arr, tag)));
}
const kid = (k: string) => Buffer.from(k);

describe("COSE_Sign1 handling", () => {
  it("tagged and untagged both verify; another tag does not", () => {
    expect(verify(build({})).reason).toBe("OK");
    expect(verify(build({ tag: null })).reason).toBe("OK");
    expect(verify(build({ tag: 98 })).reason).toBe("STRUCTURE_INVALID");
  });

  it("kid: protected only for a pass (docs/checkpoint-pass.md); none is KID_MISSING", () => {
    // The DCC leniency (kid unprotected) is not the pass format: see cose-headers.test.ts.
    expect(verify(build({ prot: new Map<number, unknown>([[1, -7]]), unprot: new Map([[4, kid("k256")]]) })).reason).toBe("STRUCTURE_INVALID");
    expect(verify(build({ prot: new Map<number, unknown>([[1, -7]]) })).reason).toBe("KID_MISSING");
    expect(verify(build({ prot: new Map<number, unknown>([[1, -7], [4, "k256"]]) })).reason).toBe("KID_MISSING"); // text, not bytes
  });

  it("algorithms: ES384 / none unsupported for passes", () => {
    expect(verify(build({ prot: new Map<number, unknown>([[1, -35], [4, kid("k256")]]) })).reason).toBe("ALG_UNSUPPORTED");
    expect(verify(build({ prot: new Map<number, unknown>([[1, -37], [4, kid("krsa")]]) })).reason).toBe("ALG_UNSUPPORTED"); // PS256 is DCC-only
    expect(verify(build({ prot: new Map<number, unknown>([[4, kid("k256")]]) })).reason).toBe("ALG_UNSUPPORTED");
  });

  it("ES256 with a P-384 or RSA key is ALG_KEY_MISMATCH (the DCC P-384 trap)", () => {
    expect(verify(build({ prot: new Map<number, unknown>([[1, -7], [4, kid("k384")]]), key: p384.privateKey })).reason).toBe("ALG_KEY_MISMATCH");
    expect(verify(build({ prot: new Map<number, unknown>([[1, -7], [4, kid("krsa")]]) })).reason).toBe("ALG_KEY_MISMATCH");
  });

  it("a key trusted only for another format is unknown for this one", () => {
    expect(verify(build({ prot: new Map<number, unknown>([[1, -7], [4, kid("kdcc")]]) })).reason).toBe("KEY_UNKNOWN");
  });

  it("signature of the wrong length or all zeros is SIGNATURE_INVALID", () => {
    expect(verify(build({ sig: new Uint8Array(63) })).reason).toBe("SIGNATURE_INVALID");
    expect(verify(build({ sig: new Uint8Array(64) })).reason).toBe("SIGNATURE_INVALID");
  });

  it("a kid with several keys (rotation): the one that verifies wins", () => {
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const t = new MemoryTrust([
      { kid: "k256", issuer: "VN-MOH", formats: ["pass"], key: other.publicKey, source: "old" },
      { kid: "k256", issuer: "VN-MOH", formats: ["pass"], key: createPublicKey(p256.privateKey), source: "new" },
    ]);
    expect(createVerifier({ trust: () => t, salt: "s", clockSkewS: 0 }).verify(build({}), { nowMs: NOW }).reason).toBe("OK");
  });
});

describe("DCC issuer binding", () => {
  it("a DSC of one country cannot sign a DCC whose iss names another", async () => {
    const { signedCoseText } = await import("../../bench/lib/fuzz-targets.js");
    const { loadDccVectors } = await import("./support/dcc-vectors.js");
    const { inflateSync } = await import("node:zlib");
    const { Decoder } = await import("cbor-x");
    const dec = new Decoder({ mapsAsObjects: false, useRecords: false });
    const decode = (b: Uint8Array) => dec.decode(b) as unknown;
    const { base45Decode } = await import("../../src/verify/codec/base45.js");
    const vec = loadDccVectors().find((v) => v.name === "DE/2DCode/raw/1.json")!;
    const cose = decode(inflateSync(base45Decode(vec.prefix.slice(4)))) as Tag;
    const cwt = decode((cose.value as Uint8Array[])[2]!) as Map<number, unknown>;
    const t = new MemoryTrust([{ kid: Buffer.from("dk").toString("base64"), issuer: "DE", formats: ["dcc"], key: createPublicKey(p256.privateKey), source: "t" }]);
    const v = createVerifier({ trust: () => t, salt: "s", clockSkewS: 0 });
    const at = { nowMs: vec.clockMs! };
    expect(v.verify(signedCoseText("HC1:", encodeCbor(cwt), Buffer.from("dk"), p256.privateKey, true), at).reason).toBe("OK");
    cwt.set(1, "FR");
    expect(v.verify(signedCoseText("HC1:", encodeCbor(cwt), Buffer.from("dk"), p256.privateKey, true), at).reason).toBe("ISSUER_UNTRUSTED");
  });
});

describe("DCC CWT times", () => {
  it("exp and iat are mandatory", async () => {
    const { signedCoseText } = await import("../../bench/lib/fuzz-targets.js");
    const { loadDccVectors } = await import("./support/dcc-vectors.js");
    const { inflateSync } = await import("node:zlib");
    const { Decoder } = await import("cbor-x");
    const { base45Decode } = await import("../../src/verify/codec/base45.js");
    const dec = new Decoder({ mapsAsObjects: false, useRecords: false });
    const vec = loadDccVectors().find((v) => v.name === "DE/2DCode/raw/1.json")!;
    const cose = dec.decode(inflateSync(base45Decode(vec.prefix.slice(4)))) as Tag;
    const t = new MemoryTrust([{ kid: Buffer.from("dk").toString("base64"), issuer: "DE", formats: ["dcc"], key: createPublicKey(p256.privateKey), source: "t" }]);
    const v = createVerifier({ trust: () => t, salt: "s", clockSkewS: 0 });
    for (const claim of [4, 6]) {
      const cwt = dec.decode((cose.value as Uint8Array[])[2]!) as Map<number, unknown>;
      cwt.delete(claim);
      expect(v.verify(signedCoseText("HC1:", encodeCbor(cwt), Buffer.from("dk"), p256.privateKey, true), { nowMs: vec.clockMs! }).reason, String(claim)).toBe("STRUCTURE_INVALID");
    }
  });
});
