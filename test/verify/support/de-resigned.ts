/**
 * The German EU DCC vector's claims, ready to re-sign with a test key trusted for DE: tests that
 * change one claim (the issuer, a duplicated key) and need the rest genuine.
 */
import { generateKeyPairSync } from "node:crypto";
import { inflateSync } from "node:zlib";
import { Decoder, Tag } from "cbor-x";
import { base45Decode } from "../../../src/verify/codec/base45.js";
import { createVerifier } from "../../../src/verify/index.js";
import { MemoryTrust } from "../../../src/verify/testing/memory-trust.js";
import { loadDccVectors } from "./dcc-vectors.js";

export function deResigned() {
  const vec = loadDccVectors().find((x) => x.name === "DE/2DCode/raw/1.json")!;
  const dec = new Decoder({ mapsAsObjects: false });
  const cwt = dec.decode((dec.decode(inflateSync(base45Decode(vec.prefix.slice(4)))) as Tag).value[2] as Uint8Array) as Map<number, unknown>;
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const kid = Buffer.from("issuer01");
  const trust = new MemoryTrust([{ kid: kid.toString("base64"), issuer: "DE", formats: ["dcc"], key: publicKey, source: "test" }]);
  const verifier = createVerifier({ trust: () => trust, salt: "s", clockSkewS: 60 });
  return { vec, nowMs: vec.clockMs!, cwt, privateKey, kid, verifier };
}
