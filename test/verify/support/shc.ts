/** SMART Health Card fixtures and a signer for negative cases (spec's EXAMPLE-ONLY key, tests only). */
import { readFileSync } from "node:fs";
import { createPrivateKey, sign, type JsonWebKey } from "node:crypto";
import { deflateRawSync } from "node:zlib";
import { shcKeysFromJwks } from "../../../src/verify/index.js";
import { MemoryTrust } from "../../../src/verify/testing/memory-trust.js";
import { jwsToNumeric } from "../../../src/verify/shc/numeric.js";

export const SHC_DIR = "test-fixtures/external/smart-health-cards";
export const SHC_ISSUER = "https://spec.smarthealth.cards/examples/issuer";
/** Inside every example's validity (nbf 2023-06-22; example 03 expires 2024-06-21). */
export const SHC_AT = Date.parse("2023-07-01T00:00:00Z");

export const readShc = (f: string) => readFileSync(`${SHC_DIR}/examples/${f}`, "utf8").trim();

export function shcTrust(): MemoryTrust {
  const jwks = JSON.parse(readFileSync(`${SHC_DIR}/examples/issuer/.well-known/jwks.json`, "utf8")) as { keys: JsonWebKey[] };
  const { keys, skipped } = shcKeysFromJwks(jwks, SHC_ISSUER, "spec jwks");
  if (skipped.length) throw new Error(skipped.map((s) => s.reason).join("; "));
  const trust = new MemoryTrust(keys);
  const crl = JSON.parse(readFileSync(`${SHC_DIR}/examples/issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json`, "utf8")) as { rids: string[] };
  for (const rid of crl.rids) trust.revoke("shc", rid);
  return trust;
}

type PrivJwk = JsonWebKey & { kid: string };
const privateKeys = (JSON.parse(readFileSync(`${SHC_DIR}/generate-examples-config/EXAMPLE-ONLY-issuer.jwks.private.json`, "utf8")) as { keys: PrivJwk[] }).keys;
export const EXAMPLE_KID = "3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s";
/** In the private file but not in the published JWKS. */
export const UNPUBLISHED_KID = "7rIUtD5K5Izrptr3ywgESTxhgJtJSeb06V42hg7WUDs";

const b64u = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

export interface SignOpts {
  kid?: string;
  header?: Record<string, unknown>;
  deflate?: boolean;
  derSignature?: boolean;
  /** Header JSON text as signed, verbatim (e.g. with a key twice, which no object can hold). */
  headerJson?: string;
}

/** Signs a payload object as an SHC JWS and returns `shc:/digits`. */
export function signShc(payload: unknown, o: SignOpts = {}): string {
  return signShcJson(JSON.stringify(payload), o);
}

/** Signs payload JSON text verbatim (e.g. with a key twice, which no object can hold). */
export function signShcJson(payloadJson: string, o: SignOpts = {}): string {
  const kid = o.kid ?? EXAMPLE_KID;
  const jwk = privateKeys.find((k) => k.kid === kid)!;
  const header = o.headerJson ?? JSON.stringify(o.header ?? { zip: "DEF", alg: "ES256", kid });
  const json = Buffer.from(payloadJson);
  const body = o.deflate === false ? json : deflateRawSync(json);
  const input = `${b64u(header)}.${b64u(body)}`;
  const key = createPrivateKey({ key: jwk, format: "jwk" });
  const sig = sign("sha256", Buffer.from(input), { key, dsaEncoding: o.derSignature ? "der" : "ieee-p1363" });
  return "shc:/" + jwsToNumeric(`${input}.${b64u(sig)}`);
}

export function examplePayload(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(JSON.parse(readShc("example-00-c-jws-payload-minified.json")) as Record<string, unknown>), ...over };
}
