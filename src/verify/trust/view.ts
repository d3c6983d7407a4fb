import type { CredentialFormat } from "../../core/types.js";
import type { RevocationIndex } from "./revocation-index.js";
import { mergeRidMaps, RevocationSet, ridKey, type RidMap } from "./revocations.js";
import type { RevocationSigner } from "./signed-delta.js";
import type { RevocationQuery, TrustKey, TrustStatus, TrustView } from "./types.js";
import type { ClockAssessment } from "./clock-check.js";

/** What one source last contributed, plus its health. Built by sources, frozen into views. */
export interface SourceSnapshot {
  /** Display id (URLs already masked). */
  id: string;
  ok: boolean;
  /** Epoch ms of the last successful refresh (fetch, 304 or re-read); undefined if never. */
  refreshedAt?: number;
  error?: string;
  keys: readonly TrustKey[];
  /**
   * Keys of this data left out as unusable (bad JWK, wrong algorithm, kid not the thumbprint) or, for
   * certificates, files that did not parse. Belongs to the data in use, so a failed refresh keeps it.
   */
  keysSkipped?: number;
  hashes?: RevocationIndex;
  shc?: ReadonlyMap<string, RidMap>;
  version?: string;
  /**
   * SMART Health Cards issuers: the revocation lists their keys announce. `asOf`: per key (`ridKey`),
   * when its CRL in use was last had from the issuer (undefined: never); `rids`: what those CRLs
   * revoke (apart from `shc`, which for a signed list is what the list itself signed); `error`: what
   * went wrong on the last load (the source then reports ok: false).
   */
  crl?: { asOf: ReadonlyMap<string, number | undefined>; rids?: ReadonlyMap<string, RidMap>; error?: string };
  /** Epoch ms after which this source's data must not be used as fresh (signed list expiresAt). */
  expiresAt?: number;
  /** Keys a signed list authorises to sign revocation deltas (signed lists only). */
  revocationSigners?: readonly RevocationSigner[];
}

export interface ViewOptions {
  maxAgeMs: number;
  /** The local clock's assessment now (clock-check.ts), read live at each status(): a clock can be fixed or stepped between refreshes. */
  clock?: (nowMs: number) => ClockAssessment;
  /**
   * Signed revocation deltas folded in signed order (RevocationSet.empty + deltas). Only its
   * additions are used: a delta's removal withdraws an earlier delta's addition, never what a
   * signed list revokes.
   */
  overlay?: RevocationSet;
}

const EMPTY: readonly TrustKey[] = Object.freeze([]);

/** An immutable snapshot: verifiers hold it for one verification while refreshes build the next one. */
export function buildView(sources: readonly SourceSnapshot[], opts: ViewOptions): TrustView {
  // format -> kid -> keys: two Map lookups and no string building on the verification path.
  const byKid = new Map<CredentialFormat, Map<string, TrustKey[]>>();
  const byIssuer = new Map<CredentialFormat, Map<string, TrustKey[]>>();
  for (const s of sources) {
    for (const k of s.keys) {
      for (const f of k.formats) {
        push(byKid, f, k.kid, k);
        push(byIssuer, f, k.issuer, k);
      }
    }
  }
  for (const m of [byKid, byIssuer]) for (const inner of m.values()) for (const v of inner.values()) Object.freeze(v);

  const indexes = sources.flatMap((s) => (s.hashes && s.hashes.size > 0 ? [s.hashes] : []));
  const shc = mergeRidMaps([...sources.flatMap((s) => [...(s.shc ? [s.shc] : []), ...(s.crl?.rids ? [s.crl.rids] : [])]), ...(opts.overlay ? [opts.overlay.shc] : [])]);
  const revocations = new RevocationSet(indexes, opts.overlay?.added, undefined, shc);
  const crlAsOf = crlTimes(sources);

  const health = sourceHealth(sources);
  const version = versionOf(sources);
  const keyCount = sources.reduce((a, s) => a + s.keys.length, 0);

  return Object.freeze({
    keysFor: (kid: string, format: CredentialFormat) => byKid.get(format)?.get(kid) ?? EMPTY,
    keysForIssuer: (issuer: string, format: CredentialFormat) => byIssuer.get(format)?.get(issuer) ?? EMPTY,
    isRevoked: (q: RevocationQuery) => revocations.isRevoked(q),
    revocationsStale: (q: RevocationQuery, nowMs: number) => {
      if (crlAsOf.size === 0 || q.format !== "shc" || q.issuer === undefined || q.kid === undefined) return false;
      const key = ridKey(q.issuer, q.kid);
      if (!crlAsOf.has(key)) return false;
      const at = crlAsOf.get(key);
      return at === undefined || nowMs - at > opts.maxAgeMs;
    },
    // Called once per verification: everything but the age is computed once per snapshot.
    status: (nowMs: number) => statusOf(health, version, nowMs, opts),
    // Not part of TrustView: for diagnostics and the bench.
    keyCount,
    revocations,
  });
}

/**
 * SHC keys that announce a CRL: when each one's copy was last had (undefined: never). A key whose
 * announced CRL no source reports is in as never had: a source that does not load CRLs (a bug, a
 * new path) then leaves that key's cards TRUST_STALE instead of passing revoked ones.
 */
function crlTimes(sources: readonly SourceSnapshot[]): Map<string, number | undefined> {
  const asOf = new Map<string, number | undefined>();
  for (const s of sources) for (const [k, at] of s.crl?.asOf ?? []) asOf.set(k, at === undefined ? asOf.get(k) : Math.max(at, asOf.get(k) ?? at));
  for (const s of sources) {
    for (const k of s.keys) {
      if (k.crlVersion === undefined || !k.formats.includes("shc")) continue;
      const key = ridKey(k.issuer, k.kid);
      if (!asOf.has(key)) asOf.set(key, undefined);
    }
  }
  return asOf;
}

function push(m: Map<CredentialFormat, Map<string, TrustKey[]>>, f: CredentialFormat, key: string, k: TrustKey): void {
  let inner = m.get(f);
  if (!inner) m.set(f, (inner = new Map()));
  const arr = inner.get(key);
  if (arr) arr.push(k);
  else inner.set(key, [k]);
}

function versionOf(sources: readonly SourceSnapshot[]): string {
  if (sources.length === 0) return "0";
  return sources.map((s) => s.version ?? "-").join("+");
}

interface Health {
  oldest?: number;
  never: boolean;
  expiresAt?: number;
  count: number;
  list: TrustStatus["sources"];
}

function sourceHealth(sources: readonly SourceSnapshot[]): Health {
  let oldest: number | undefined;
  let never = false;
  let expiresAt: number | undefined;
  for (const s of sources) {
    if (s.refreshedAt === undefined) never = true;
    else oldest = oldest === undefined ? s.refreshedAt : Math.min(oldest, s.refreshedAt);
    if (s.expiresAt !== undefined) expiresAt = expiresAt === undefined ? s.expiresAt : Math.min(expiresAt, s.expiresAt);
  }
  const list = sources.map((s) => {
    const error = s.error ?? s.crl?.error;
    return Object.freeze({
      source: s.id,
      ok: s.ok && s.crl?.error === undefined,
      ...(s.refreshedAt !== undefined ? { refreshedAt: s.refreshedAt } : {}),
      ...(error ? { error } : {}),
      keys: s.keys.length,
      ...(s.keysSkipped ? { keysSkipped: s.keysSkipped } : {}),
    });
  });
  return { ...(never || oldest === undefined ? {} : { oldest }), never, ...(expiresAt !== undefined ? { expiresAt } : {}), count: sources.length, list };
}

function clockFields(c: ClockAssessment | undefined): Pick<TrustStatus, "clockDriftMs" | "clockUntrusted"> {
  if (!c) return {};
  return {
    ...(c.driftMs !== undefined ? { clockDriftMs: c.driftMs } : {}),
    ...(c.untrusted && c.basis ? { clockUntrusted: { basis: c.basis, offsetMs: c.basis === "server-date" ? c.driftMs! : -c.behindSignedMs! } } : {}),
  };
}

function statusOf(h: Health, version: string, nowMs: number, opts: ViewOptions): TrustStatus {
  const refreshedAt = h.oldest;
  const ageMs = refreshedAt === undefined ? undefined : Math.max(0, nowMs - refreshedAt);
  const expired = h.expiresAt !== undefined && h.expiresAt <= nowMs;
  const stale = h.count > 0 && (h.never || expired || (ageMs !== undefined && ageMs > opts.maxAgeMs));
  return {
    version,
    ...(refreshedAt !== undefined ? { refreshedAt } : {}),
    ...(ageMs !== undefined ? { ageMs } : {}),
    stale,
    ...clockFields(opts.clock?.(nowMs)),
    // Exported so monitoring can warn before the list expires and every lane turns stale at once.
    ...(h.expiresAt !== undefined ? { expiresAt: h.expiresAt } : {}),
    sources: h.list.slice(),
  };
}
