/**
 * Stable, PII-free verdict reason codes. Displays, MQTT consumers and the ledger key on these
 * strings, so a code is never renamed or reused; docs/reasons.md is kept in step by a test.
 */
export const REASONS = {
  OK: "Signature, validity window, trust and lane policy all check out (the only PASS reason).",
  PREFIX_UNKNOWN: "The QR text does not start with a known credential prefix (VN1:, HC1:, shc:/).",
  BASE45_INVALID: "The payload is not valid base45 (bad character, bad length, or a value out of range).",
  NUMERIC_INVALID: "An shc:/ payload is not valid numeric encoding (odd digit count or a value out of range).",
  DECOMPRESS_FAILED: "The compressed payload is corrupt, truncated or uses an unexpected compression.",
  SIZE_LIMIT: "A bound was exceeded (QR text length, decompressed size, CBOR nesting or item count, JSON size): a bomb or a malformed credential.",
  STRUCTURE_INVALID: "The decoded credential does not have the required structure (COSE, CWT, JWS, claims), or could be read two ways (a CBOR map key twice, a JSON object key twice in an SHC header or payload, a COSE header label in both headers, crit).",
  KID_MISSING: "The credential names no key id.",
  KEY_UNKNOWN: "No trusted key has this key id for this credential format.",
  ALG_UNSUPPORTED: "The signature algorithm is not one this gateway accepts (ES256, PS256 for DCC; ES256 otherwise).",
  ALG_KEY_MISMATCH: "The declared algorithm does not fit the trusted key (e.g. ES256 with a P-384 key).",
  SIGNATURE_INVALID: "The signature does not verify against the trusted key.",
  NOT_YET_VALID: "The credential's issued-at / not-before lies in the future (beyond the configured clock skew).",
  EXPIRED: "The credential's expiry or valid-until has passed (no skew tolerance is applied).",
  KEY_EXPIRED: "The signing key or its certificate is outside its own validity period at verification time (retired or not yet active).",
  KEY_USAGE_MISMATCH: "The signer certificate's extended key usage does not allow this credential type (DCC test/vaccination/recovery).",
  ISSUER_UNTRUSTED: "The key is trusted, but not for the issuer named in the credential.",
  REVOKED: "The credential (or its id hash) is on a revocation list.",
  CLOCK_UNTRUSTED: "The gateway's own clock is off by more than trust.maxClockDriftS (a trust server's Date header, or a signed trust list issued later than the clock says it is): validity cannot be judged, so nothing passes.",
  TRUST_STALE: "Trust data is older than its max age: the signature may be fine, but keys and revocations cannot be relied on.",
  POLICY_REJECTED: "A lane policy rule rejected the verified claims; the verdict carries the rule id.",
  FORMAT_NOT_ACCEPTED: "This lane does not accept the credential's format (decided from the prefix, before any parsing).",
  SHC_CHUNKS_INCOMPLETE: "A chunked SMART Health Card is missing chunks (or its chunks conflict) and cannot be assembled yet.",
  REPLAYED: "Assigned by the lane, not the verifier: the same credential was already presented within the replay window.",
  INPUT_UNREADABLE: "CLI only: an input file or image could not be read, or the image holds no QR code (verdict ERROR).",
  INTERNAL_ERROR: "The verifier hit an unexpected error; reported as ERROR, never as PASS.",
} as const;

export type ReasonCode = keyof typeof REASONS;

/** A verification stopped with a stable reason; thrown inside parsers, caught once at the top. */
export class VerifyFailure extends Error {
  /**
   * Key id / issuer as the credential states them, possibly before any signature check: untrusted
   * text. The verifier puts them on a verdict only when the trust data names them (verifier.ts).
   */
  kid?: string;
  issuer?: string;
  constructor(
    readonly reason: ReasonCode,
    readonly detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = "VerifyFailure";
  }
}

export function fail(reason: ReasonCode, detail?: string): never {
  throw new VerifyFailure(reason, detail);
}

/** Runs `fn`; a failure inside it is labelled with the kid (and issuer) for the verdict. */
export function labelled<T>(kid: string, issuer: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof VerifyFailure) {
      e.kid ??= kid;
      if (issuer !== undefined) e.issuer ??= issuer;
    }
    throw e;
  }
}
