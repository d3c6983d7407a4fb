import { secretMasker } from "../../core/mask.js";
import { one, sec, type SeriesKit } from "./series.js";

/** Labels end up in a time-series database: a trust URL's credentials must not. */
const cleanLabel = (s: string) => secretMasker.mask(s);

/** Trust data: freshness and expiry, each source, the clock check, refused deltas and copies. */
export function registerTrustSeries({ series, read }: SeriesKit): void {
  const trust = () => read("trust");
  const sources = () => trust()?.sources ?? [];
  series("trust", "gauge", "trust_last_refresh_timestamp_seconds", "When the oldest required trust source was last refreshed (absent when never).", [], () => one(sec(trust()?.refreshedAt)));
  series("trust", "gauge", "trust_stale", "1 when trust data is older than trust.maxAgeS.", [], () => one(trust() ? (trust()!.stale ? 1 : 0) : undefined));
  series("trust", "gauge", "trust_source_ok", "1 when the trust source's last refresh succeeded.", ["source"], () => sources().map((s) => ({ labels: { source: cleanLabel(s.source) }, value: s.ok ? 1 : 0 })));
  series("trust", "gauge", "trust_source_last_refresh_timestamp_seconds", "When the trust source was last refreshed successfully.", ["source"], () =>
    sources().map((s) => ({ labels: { source: cleanLabel(s.source) }, value: sec(s.refreshedAt) })),
  );
  series("trust", "gauge", "trust_keys", "Keys loaded per trust source.", ["source"], () => sources().map((s) => ({ labels: { source: cleanLabel(s.source) }, value: s.keys })));
  // Every source, 0 when none: a gauge of the data in use (it falls back when a fixed copy loads), not a counter of refreshes.
  series("trust", "gauge", "trust_keys_skipped", "Keys in the trust source's current data left out as unusable (bad JWK, wrong algorithm, kid not the thumbprint; for certificates, files that did not parse).", ["source"], () =>
    sources().map((s) => ({ labels: { source: cleanLabel(s.source) }, value: s.keysSkipped ?? 0 })),
  );
  series("trust", "gauge", "trust_expires_timestamp_seconds", "When the earliest signed trust list expires: trust data is stale from then on, on every lane at once (absent when no list carries an expiry).", [], () =>
    one(sec(trust()?.expiresAt)),
  );
  series("trust", "gauge", "trust_clock_drift_seconds", "Local clock minus the trust server's Date header (plus Age), carried forward on the monotonic clock.", [], () => one(sec(trust()?.clockDriftMs)));
  series("trust", "gauge", "trust_clock_untrusted", "1 when the local clock is off by more than trust.maxClockDriftS (a trust server's Date header, or behind a signed trust list's issuedAt): verdicts are CLOCK_UNTRUSTED.", [], () =>
    one(trust() ? (trust()!.clockUntrusted ? 1 : 0) : undefined),
  );
  const trustK = () => read("trustCounters");
  series("trustCounters", "gauge", "trust_revocation_deltas_applied", "Signed revocation deltas applied now.", [], () => one(trustK()?.revocationDeltasApplied));
  series("trustCounters", "counter", "trust_revocation_deltas_refused_total", "Revocation deltas refused (unsigned, signer not named by the list, bad signature, malformed), each once.", [], () => one(trustK()?.revocationDeltasRefused));
  series("trustCounters", "counter", "trust_cache_copies_refused_total", "Trust copies from disk or Redis refused (bad signature, rollback, time in the future).", [], () => one(trustK()?.cacheCopiesRefused));
}
