/**
 * Is the local wall clock fit to judge validity? Every verdict compares a credential's validity
 * (exp, nbf, a key's notAfter) with the local clock, so a box whose clock runs behind (an RTC that
 * lost its battery, an isolated site where NTP never answers) PASSes credentials that expired, and
 * one that runs ahead FLAGs valid ones. Two kinds of evidence, each projected to now on the
 * monotonic clock, so that a clock stepped after the observation (NTP catching up, an operator's
 * fix) is judged as it is now and not as it was:
 *  - a trust server's Date header (plus Age, for a response a cache kept), seen on a download;
 *  - the signed `issuedAt` of a trust list: the root signed it then, so the time now is at least
 *    that. It needs no network, so it also catches a clock reset at an offline boot, from the
 *    signed list in the disk cache.
 * Pure: values in, an assessment out.
 */

/** A time some other party vouches for, and the local clocks when it was seen. */
export interface TimeObservation {
  /** Epoch ms the other party vouches for at the moment of observation. */
  vouchedMs: number;
  /** Local wall clock (epoch ms) at that moment. */
  wallMs: number;
  /** Local monotonic clock (ms) at that moment. */
  monoMs: number;
}

export interface ClockEvidence {
  /** The newest Date header seen (Date + Age). */
  server?: TimeObservation;
  /** The latest signed issuedAt seen (the time now is at least this, projected). */
  signed?: TimeObservation;
}

export interface ClockAssessment {
  /** True when the evidence says the local clock is off by more than the tolerance. */
  untrusted: boolean;
  /** Local clock minus the server's time now, when a Date header was seen. */
  driftMs?: number;
  /** How far the local clock is behind the latest signed time, projected to now (positive: behind). */
  behindSignedMs?: number;
  /** Which evidence makes the clock untrusted (the server's Date first). */
  basis?: "server-date" | "signed-time";
}

/** The vouched time projected to the present on the monotonic clock. */
const projected = (o: TimeObservation, monoNow: number): number => o.vouchedMs + (monoNow - o.monoMs);

export function assessClock(e: ClockEvidence, now: { wallMs: number; monoMs: number }, maxDriftMs: number): ClockAssessment {
  const out: ClockAssessment = { untrusted: false };
  if (e.server && Number.isFinite(e.server.vouchedMs)) out.driftMs = now.wallMs - projected(e.server, now.monoMs);
  if (e.signed && Number.isFinite(e.signed.vouchedMs)) out.behindSignedMs = projected(e.signed, now.monoMs) - now.wallMs;
  // A signed time only bounds the present from below: a clock ahead of it is not evidence of anything.
  if (out.driftMs !== undefined && Math.abs(out.driftMs) > maxDriftMs) {
    out.untrusted = true;
    out.basis = "server-date";
  } else if (out.behindSignedMs !== undefined && out.behindSignedMs > maxDriftMs) {
    out.untrusted = true;
    out.basis = "signed-time";
  }
  return out;
}

/** Of two observations of a lower bound on the time, the one that bounds the present higher. */
export function laterBound(a: TimeObservation | undefined, b: TimeObservation | undefined): TimeObservation | undefined {
  if (!a) return b;
  if (!b) return a;
  // Compare both projected to the same monotonic instant (the later of the two observations).
  const at = Math.max(a.monoMs, b.monoMs);
  return projected(a, at) >= projected(b, at) ? a : b;
}

/** The time a Date header vouches for: Date plus Age (RFC 9111 5.1), for a response served from a cache. */
export function headerTime(date: string | null, age: string | null): number | undefined {
  if (!date) return undefined;
  const ms = Date.parse(date);
  if (!Number.isFinite(ms)) return undefined;
  const ageS = age !== null && /^\d{1,10}$/.test(age.trim()) ? Number(age.trim()) : 0;
  return ms + ageS * 1000;
}
