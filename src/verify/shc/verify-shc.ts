/**
 * SMART Health Cards: shc:/ digits -> compact JWS {alg: ES256, zip: DEF, kid} -> raw DEFLATE -> JSON.
 * Keys are looked up under the card's own `iss`, so a key trusted for one issuer cannot vouch for
 * a card claiming another. The API is synchronous, so the ES256 check uses node:crypto directly on
 * the JWS signing input (jose's verify is async); jose provides the strict base64url decoding.
 */
import { createHash } from "node:crypto";
import { base64url } from "jose";
import { inflateRaw } from "../codec/inflate.js";
import { parseJsonBounded, utf8Strict } from "../codec/json.js";
import { assertNoDuplicateJsonKeys } from "../codec/json-dup.js";
import { verifyWithAlg } from "../codec/signature.js";
import { fail, labelled } from "../reasons.js";
import { firstVerifying, isRecord, type FormatInput, type Verified } from "../verified.js";
import { shcChunkProblem } from "./chunks.js";
import { numericToJws, splitShc } from "./numeric.js";
import type { TrustKey, TrustView } from "../trust/types.js";

const B64URL = /^[A-Za-z0-9_-]*$/;

function b64(part: string): Uint8Array {
  if (!B64URL.test(part)) fail("STRUCTURE_INVALID", "JWS part is not base64url");
  try {
    return base64url.decode(part);
  } catch {
    return fail("STRUCTURE_INVALID", "JWS base64url");
  }
}

function seconds(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) fail("STRUCTURE_INVALID", "time claim");
  return v * 1000;
}

function issuerKeys(trust: TrustView, iss: string, kid: string): readonly TrustKey[] {
  const byIssuer = trust.keysForIssuer ? trust.keysForIssuer(iss, "shc").filter((k) => k.kid === kid) : trust.keysFor(kid, "shc").filter((k) => k.issuer === iss);
  if (byIssuer.length > 0) return byIssuer;
  // Distinguish "nobody knows this key" from "the key belongs to someone else".
  if (trust.keysFor(kid, "shc").length > 0) fail("ISSUER_UNTRUSTED");
  return fail("KEY_UNKNOWN");
}

/** JSON.parse keeps a duplicate key's last value, another verifier the first: refused, not guessed. */
function parseSigned(text: string): unknown {
  const v = parseJsonBounded(text);
  assertNoDuplicateJsonKeys(text);
  return v;
}

const RID = /^[A-Za-z0-9_-]{1,128}$/;

/** Verifies a complete compact JWS (already numeric-decoded and chunk-assembled). */
export function verifyShcJws(jws: string, trust: TrustView): Verified {
  const parts = jws.split(".");
  if (parts.length !== 3) fail("STRUCTURE_INVALID", "JWS is not compact");
  const [h, p, s] = parts as [string, string, string];
  const header = parseSigned(utf8Strict(b64(h)));
  if (!isRecord(header)) fail("STRUCTURE_INVALID", "JWS header");
  if (header.alg !== "ES256") fail("ALG_UNSUPPORTED");
  if (header.zip !== "DEF") fail("STRUCTURE_INVALID", "zip must be DEF");
  if (typeof header.kid !== "string" || header.kid.length === 0) fail("KID_MISSING");
  if (header.kid.length > 128) fail("STRUCTURE_INVALID", "kid length");
  if (header.crit !== undefined) fail("STRUCTURE_INVALID", "crit not supported");
  const kid = header.kid;

  const payloadBytes = inflateRaw(b64(p));
  const body = parseSigned(utf8Strict(payloadBytes));
  if (!isRecord(body) || typeof body.iss !== "string" || body.iss.length > 512) fail("STRUCTURE_INVALID", "payload iss");
  const iss = body.iss;
  const signature = b64(s);
  const signingInput = Buffer.from(`${h}.${p}`, "ascii");
  const key = labelled(kid, iss, () => firstVerifying(issuerKeys(trust, iss, kid), (k) => verifyWithAlg("ES256", k.key, signingInput, signature)));

  const vc = body.vc;
  if (!isRecord(vc) || !Array.isArray(vc.type) || !vc.type.every((t) => typeof t === "string")) fail("STRUCTURE_INVALID", "vc.type");
  // Both required by the SHC spec: a card without nbf has no issue time for rid cut-offs.
  if (!vc.type.includes("https://smarthealth.cards#health-card")) fail("STRUCTURE_INVALID", "not a health card");
  if (body.nbf === undefined) fail("STRUCTURE_INVALID", "nbf missing");
  // A rid that is there but could never match a revocation list entry (a number, an empty or
  // over-long string, a character outside base64url, a `.` that lists read as a cut-off) would
  // make the card unrevocable: refused, not ignored. 128: what every rid list accepts per entry.
  if (vc.rid !== undefined && (typeof vc.rid !== "string" || !RID.test(vc.rid))) fail("STRUCTURE_INVALID", "vc.rid");
  const rid = vc.rid as string | undefined;
  // No rid/jti: the signed payload itself identifies the card. Never the signature text: its spare
  // base64url bits and the ECDSA (r, n-s) twin give the same card many spellings (replay bypass).
  const credentialId = rid ?? (typeof body.jti === "string" ? body.jti : `payload:${createHash("sha256").update(payloadBytes).digest("hex")}`);
  return {
    format: "shc",
    kid,
    issuer: iss,
    key,
    credentialId,
    validFromMs: seconds(body.nbf),
    issuedAtMs: seconds(body.nbf),
    validUntilMs: seconds(body.exp),
    facts: { types: vc.type as string[], ...(rid !== undefined ? { hasRid: true } : {}), ...immunizations(vc) },
  };
}

/** Vaccine codes and dates only (no patient resource), for policy rules such as "two doses". */
function immunizations(vc: Record<string, unknown>): Record<string, unknown> {
  const subject = vc.credentialSubject;
  const bundle = isRecord(subject) ? subject.fhirBundle : undefined;
  const entries = isRecord(bundle) && Array.isArray(bundle.entry) ? bundle.entry : [];
  const out: Array<{ system?: unknown; code?: unknown; date?: unknown }> = [];
  for (const e of entries) {
    const r = isRecord(e) ? e.resource : undefined;
    if (!isRecord(r) || r.resourceType !== "Immunization") continue;
    const coding = isRecord(r.vaccineCode) && Array.isArray(r.vaccineCode.coding) ? r.vaccineCode.coding[0] : undefined;
    out.push({ system: isRecord(coding) ? coding.system : undefined, code: isRecord(coding) ? coding.code : undefined, date: r.occurrenceDateTime });
  }
  return { immunizations: out, doses: out.length };
}

export function verifyShc({ text, trust }: FormatInput): Verified {
  const parts = splitShc(text);
  // One chunk alone: a card's part (incomplete), or a header no card can have (its own reason).
  if (parts.kind === "chunk") fail(shcChunkProblem(text) ?? "SHC_CHUNKS_INCOMPLETE");
  return verifyShcJws(numericToJws(parts.digits), trust);
}
