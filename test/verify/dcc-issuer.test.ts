/** Issue #11.7: the DCC issuer check is normalised, not only an exact two-letter upper-case `iss`. */
import { generateKeyPairSync } from "node:crypto";
import { inflateSync } from "node:zlib";
import { Decoder, Tag } from "cbor-x";
import { describe, expect, it } from "vitest";
import { base45Decode } from "../../src/verify/codec/base45.js";
import { encodeCbor } from "../../src/verify/pass/issue-pass.js";
import { createVerifier } from "../../src/verify/index.js";
import { MemoryTrust } from "../../src/verify/testing/memory-trust.js";
import { loadDccVectors } from "./support/dcc-vectors.js";
import { signedCoseText } from "../../bench/lib/fuzz-targets.js";

const vec = loadDccVectors().find((x) => x.name === "DE/2DCode/raw/1.json")!;
const dec = new Decoder({ mapsAsObjects: false });
const cwt = dec.decode((dec.decode(inflateSync(base45Decode(vec.prefix.slice(4)))) as Tag).value[2] as Uint8Array) as Map<number, unknown>;
const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const kid = Buffer.from("issuer01");
const trust = new MemoryTrust([{ kid: kid.toString("base64"), issuer: "DE", formats: ["dcc"], key: publicKey, source: "test" }]);
const verifier = createVerifier({ trust: () => trust, salt: "s", clockSkewS: 60 });

/** The DE vector's claims re-signed by a key trusted for DE, with `iss` replaced. */
function withIss(iss: unknown): string {
  const m = new Map(cwt);
  m.set(1, iss);
  return signedCoseText("HC1:", encodeCbor(m), kid, privateKey, true);
}

describe("DCC issuer binding", () => {
  it("a DE key vouches for iss DE in any case or padding", () => {
    expect(cwt.get(1)).toBe("DE");
    for (const iss of ["DE", "de", " De ", "DE\n"]) expect([iss, verifier.verify(withIss(iss), { nowMs: vec.clockMs! }).reason]).toEqual([iss, "OK"]);
  });

  it("a DE key does not vouch for another country however it is written", () => {
    for (const iss of ["FR", "fr", " Fr", "fr\t", "\nfR"]) {
      const v = verifier.verify(withIss(iss), { nowMs: vec.clockMs! });
      expect([iss, v.verdict, v.reason]).toEqual([iss, "FLAG", "ISSUER_UNTRUSTED"]);
    }
  });
});
