import type { KeyObject, X509Certificate } from "node:crypto";
import type { CredentialFormat } from "../../core/types.js";

/**
 * The contract between the verifiers (formats) and the trust store. Verifiers only read a
 * `TrustView` snapshot; refreshes build a new snapshot and swap it atomically, so a
 * verification never blocks on, or sees half of, a refresh.
 */
export interface TrustKey {
  /** DCC: base64 of the first 8 bytes of SHA-256(DER cert); SHC: RFC 7638 thumbprint; pass: issuer-chosen id. */
  kid: string;
  /** DCC: country code or certificate issuer; SHC: the `iss` URL; pass: issuer id. */
  issuer: string;
  /** Credential formats this key may sign. */
  formats: readonly CredentialFormat[];
  key: KeyObject;
  /** DCC document signer certificate, for validity and key-usage OIDs. */
  certificate?: X509Certificate;
  /**
   * SHC: the key announces a revocation list (the issuer's `crlVersion`). Its cards are judged on
   * that list: while no copy of it is held they are TRUST_STALE (view.ts), whatever source the key came from.
   */
  crlVersion?: number;
  /** Epoch ms validity of the key itself, when known. */
  notBefore?: number;
  notAfter?: number;
  /** Where the key came from (file, trust list URL, JWKS URL), for diagnostics only. */
  source: string;
}

export interface RevocationQuery {
  format: CredentialFormat;
  issuer?: string;
  kid?: string;
  /** The credential identifier as carried in the credential (pass id, UVCI, SHC rid). */
  id: string;
  /**
   * Epoch ms the credential was issued (SHC `nbf`). SHC revocation entries may carry a cut-off
   * (`rid.TIMESTAMP`): only credentials issued before it are revoked. Without it such an entry revokes.
   */
  issuedAt?: number;
}

export interface TrustStatus {
  /** Version of the trust data (trust list sequence number or a content hash). */
  version: string;
  /** Epoch ms when the oldest required source was last successfully refreshed; undefined if never. */
  refreshedAt?: number;
  ageMs?: number;
  stale: boolean;
  /** Local clock minus the trust server's Date header (+ Age), projected to now; when one was seen. */
  clockDriftMs?: number;
  /**
   * Present when the evidence says the local clock is off by more than trust.maxClockDriftS
   * (clock-check.ts): no verdict can rely on it (CLOCK_UNTRUSTED). `offsetMs`: local clock minus
   * the evidence's time (negative: behind).
   */
  clockUntrusted?: { basis: "server-date" | "signed-time"; offsetMs: number };
  /** Epoch ms the earliest signed list expires (stale from then on); absent when no source carries one. */
  expiresAt?: number;
  /** keysSkipped: keys (certificate files) in the source's current data that could not be used and were left out; absent when none. */
  sources: Array<{ source: string; ok: boolean; refreshedAt?: number; error?: string; keys: number; keysSkipped?: number }>;
}

export interface TrustView {
  keysFor(kid: string, format: CredentialFormat): readonly TrustKey[];
  /** SHC: keys published by one issuer (cards are only checked against their own issuer). */
  keysForIssuer?(issuer: string, format: CredentialFormat): readonly TrustKey[];
  isRevoked(q: RevocationQuery): boolean;
  /**
   * True when the revocations that would decide `q` are of unknown age or older than the trust
   * data's max age: an SHC key announces a CRL that was never had, or last had too long ago. Only
   * that key's cards are affected (TRUST_STALE), not the other issuers' or formats'.
   */
  revocationsStale?(q: RevocationQuery, nowMs: number): boolean;
  status(nowMs: number): TrustStatus;
}
