import type { CredentialFormat } from "../core/types.js";
import type { TrustKey, TrustView } from "./trust/types.js";
import { fail } from "./reasons.js";

/**
 * What a format verifier returns once structure and signature check out. Holds no personal
 * data: `facts` is the PII-free subset of claims that lane policy rules may read.
 */
export interface Verified {
  format: Exclude<CredentialFormat, "unknown">;
  kid: string;
  issuer: string;
  key: TrustKey;
  /** Raw credential id (pass id, UVCI, SHC rid); only ever leaves the verifier hashed. */
  credentialId: string;
  issuedAtMs?: number;
  validFromMs?: number;
  validUntilMs?: number;
  facts: Record<string, unknown>;
}

/** Everything a format verifier needs; pure values, no clock or config singletons. */
export interface FormatInput {
  /** The whole QR text, prefix included. */
  text: string;
  trust: TrustView;
}

/**
 * Most keys tried for one credential. Several keys under one kid are legitimate but few: a key in
 * two sources (the signed list and the issuer's JWKS), a certificate in PEM and DER, a rotation.
 * Each try is a synchronous signature check on the lanes' thread, so without a bound whoever can
 * put keys under a kid (an issuer's unsigned JWKS) sets what one forged code costs. A genuine key
 * past the bound fails safe (SIGNATURE_INVALID, FLAG), never PASS.
 */
export const MAX_KEYS_PER_KID = 8;

/**
 * Tries the trusted keys under the kid (a kid may map to several keys during rotation), at most
 * MAX_KEYS_PER_KID of them: the first that verifies wins. ALG_KEY_MISMATCH only when no candidate
 * tried even fits the algorithm.
 */
export function firstVerifying(keys: readonly TrustKey[], check: (k: TrustKey) => boolean): TrustKey {
  const tried = keys.length > MAX_KEYS_PER_KID ? keys.slice(0, MAX_KEYS_PER_KID) : keys;
  let mismatch = 0;
  for (const k of tried) {
    try {
      if (check(k)) return k;
    } catch (e) {
      if ((e as { reason?: string }).reason === "ALG_KEY_MISMATCH") mismatch++;
      else throw e;
    }
  }
  return fail(mismatch === tried.length && tried.length > 0 ? "ALG_KEY_MISMATCH" : "SIGNATURE_INVALID");
}

/** Converts cbor-x Maps with string keys into plain objects (bounded by the CBOR walk already). */
export function plain(v: unknown): unknown {
  if (v instanceof Map) {
    const o: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [k, val] of v) {
      if (typeof k !== "string" && typeof k !== "number") continue;
      o[String(k)] = plain(val);
    }
    return o;
  }
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
