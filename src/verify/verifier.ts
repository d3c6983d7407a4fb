/**
 * One entry point: `verify(text, ctx) -> Verdict`. Format by prefix, then structure and signature,
 * then validity window, trust freshness, revocation, lane acceptance and policy. Synchronous and
 * pure apart from reading the injected TrustView snapshot, so it can run per frame without I/O.
 */
import type { CredentialFormat, Verdict } from "../core/types.js";
import { shortHash } from "../core/hash.js";
import type { RevocationQuery, TrustView } from "./trust/types.js";
import { VerifyFailure, type ReasonCode } from "./reasons.js";
import { LIMITS } from "./limits.js";
import type { FormatInput, Verified } from "./verified.js";
import { verifyDcc, DCC_PREFIX } from "./dcc/verify-dcc.js";
import { verifyShc } from "./shc/verify-shc.js";
import { SHC_PREFIX } from "./shc/numeric.js";
import { verifyPass } from "./pass/verify-pass.js";
import { PASS_PREFIX } from "./pass/claims.js";
import { firstRejectingRule, type PolicyRule } from "./policy.js";

export interface LanePolicy {
  id: string;
  area?: string;
  accept: CredentialFormat[];
  rules: PolicyRule[];
}

export interface VerifyContext {
  nowMs: number;
  lane?: LanePolicy;
}

export interface VerifierOptions {
  trust: () => TrustView;
  /** Salt for credential-id hashes (configure one per deployment so hashes correlate across restarts). */
  salt: string;
  /** Tolerance for iat/nbf/validFrom in the future; never applied to expiry. */
  clockSkewS: number;
  staleAction?: "flag" | "out-of-service";
  /** What an untrusted local clock (TrustStatus.clockUntrusted) makes of a verdict: FLAG, or ERROR when lanes go out of service for it. */
  clockAction?: "flag" | "out-of-service";
}

export interface Verifier {
  verify(text: string, ctx: VerifyContext): Verdict;
}

type Known = Exclude<CredentialFormat, "unknown">;
const FORMATS: Array<{ prefix: string; format: Known; verify: (i: FormatInput) => Verified }> = [
  { prefix: PASS_PREFIX, format: "pass", verify: verifyPass },
  { prefix: DCC_PREFIX, format: "dcc", verify: verifyDcc },
  { prefix: SHC_PREFIX, format: "shc", verify: verifyShc },
];

export function createVerifier(opts: VerifierOptions): Verifier {
  const skewMs = opts.clockSkewS * 1000;
  const staleKind = opts.staleAction === "out-of-service" ? "ERROR" : "FLAG";
  const clockKind = opts.clockAction === "flag" ? "FLAG" : "ERROR";

  function verify(text: string, ctx: VerifyContext): Verdict {
    const entry = FORMATS.find((f) => text.startsWith(f.prefix));
    const format: CredentialFormat = entry?.format ?? "unknown";
    const base: Partial<Verdict> = {};
    const flag = (reason: ReasonCode, extra: Partial<Verdict> = {}): Verdict => ({ verdict: "FLAG", reason, format, ...base, ...extra });
    let trust: TrustView | undefined;
    try {
      trust = opts.trust();
      if (!entry) return flag("PREFIX_UNKNOWN");
      // Assembled chunked SHCs may exceed one QR's capacity; everything else must fit one code.
      if (text.length > (format === "shc" ? LIMITS.maxShcAssembledChars : LIMITS.maxTextChars)) return flag("SIZE_LIMIT");
      if (ctx.lane && !ctx.lane.accept.includes(format)) return flag("FORMAT_NOT_ACCEPTED");
      const v = entry.verify({ text, trust });
      const status = trust.status(ctx.nowMs);
      Object.assign(base, {
        ...trustedLabels(trust, format, v.kid, v.issuer),
        validFrom: v.validFromMs,
        validUntil: v.validUntilMs,
        credentialHash: shortHash(`${format}:${v.issuer}:${v.credentialId}`, opts.salt),
        trustVersion: status.version,
      } satisfies Partial<Verdict>);
      for (const k of Object.keys(base) as Array<keyof Verdict>) if (base[k] === undefined) delete base[k];

      // After the signature, so a forged code still says so; before the validity window, which
      // an untrusted clock cannot judge (a clock behind would PASS an expired credential).
      if (status.clockUntrusted) return { ...flag("CLOCK_UNTRUSTED"), verdict: clockKind };
      const t = timeProblem(v, ctx.nowMs, skewMs);
      if (t) return flag(t);
      if (status.stale) return { ...flag("TRUST_STALE"), verdict: staleKind };
      const q: RevocationQuery = { format, issuer: v.issuer, kid: v.kid, id: v.credentialId, ...(v.issuedAtMs !== undefined ? { issuedAt: v.issuedAtMs } : {}) };
      if (trust.isRevoked(q)) return flag("REVOKED");
      // Not revoked by what we hold, but what we hold for this key is too old to say so.
      if (trust.revocationsStale?.(q, ctx.nowMs) === true) return { ...flag("TRUST_STALE"), verdict: staleKind };
      if (ctx.lane && ctx.lane.rules.length > 0) {
        const ruleId = firstRejectingRule(ctx.lane.rules, {
          format,
          issuer: v.issuer,
          kid: v.kid,
          now: Math.floor(ctx.nowMs / 1000),
          validFrom: v.validFromMs !== undefined ? Math.floor(v.validFromMs / 1000) : undefined,
          validUntil: v.validUntilMs !== undefined ? Math.floor(v.validUntilMs / 1000) : undefined,
          claims: v.facts,
          context: { lane: ctx.lane.id, area: ctx.lane.area },
        });
        if (ruleId !== undefined) return flag("POLICY_REJECTED", { ruleId });
      }
      return { verdict: "PASS", reason: "OK", format, ...base };
    } catch (e) {
      if (e instanceof VerifyFailure) {
        try {
          return flag(e.reason, trust ? trustedLabels(trust, format, e.kid, e.issuer) : {});
        } catch {
          return flag(e.reason); // verify() never throws, even for a TrustView that does
        }
      }
      // Never PASS on surprise; ERROR tells ops the verifier (not the traveller) has a problem.
      return { verdict: "ERROR", reason: "INTERNAL_ERROR", format, ...base };
    }
  }
  return { verify };
}

/**
 * The kid and issuer a verdict may carry: only those the trust data names. Both are read from the
 * QR payload, often before any signature is checked (an unknown kid, an SHC card's `iss`), and
 * the verdict is kept in the spool, the event stream, MQTT and the hash-chained ledger, where free
 * text (a traveller's name written into `iss`) could never be erased. A trusted kid or issuer is
 * the trust list's own text, so ops still see which key a SIGNATURE_INVALID or TRUST_STALE was about.
 */
function trustedLabels(trust: TrustView, format: CredentialFormat, kid: string | undefined, issuer: string | undefined): Pick<Verdict, "kid" | "issuer"> {
  const keys = kid !== undefined ? trust.keysFor(kid, format) : [];
  const out: Pick<Verdict, "kid" | "issuer"> = {};
  if (kid !== undefined && keys.length > 0) out.kid = kid;
  if (issuer !== undefined && (trust.keysForIssuer ? trust.keysForIssuer(issuer, format).length > 0 : keys.some((k) => k.issuer === issuer))) out.issuer = issuer;
  return out;
}

function timeProblem(v: Verified, nowMs: number, skewMs: number): ReasonCode | undefined {
  // Key validity is judged at verification time: a retired key stops vouching for anything. (Judging
  // at iat would reject DCC vectors signed before their DSC's notBefore that upstream expects to pass.)
  const { notBefore, notAfter } = v.key;
  if (v.issuedAtMs !== undefined && v.issuedAtMs > nowMs + skewMs) return "NOT_YET_VALID";
  if (v.validFromMs !== undefined && v.validFromMs > nowMs + skewMs) return "NOT_YET_VALID";
  if (v.validUntilMs !== undefined && nowMs > v.validUntilMs) return "EXPIRED";
  if ((notBefore !== undefined && nowMs + skewMs < notBefore) || (notAfter !== undefined && nowMs > notAfter)) return "KEY_EXPIRED";
  return undefined;
}
