import { X509Certificate, createHash, createPublicKey, type KeyObject, type JsonWebKey } from "node:crypto";
import type { JWK } from "jose";
import type { CredentialFormat } from "../../core/types.js";
import type { TrustKey } from "./types.js";

/**
 * The one key-import module (JWK / X.509 / JWKS -> TrustKey, kids): used by the trust store, the
 * CLI, the verifier tests (the 439 DCC vectors) and the bench, so all of them check keys the same way.
 * Pure: values in, TrustKeys out. Bad input throws TrustKeyError with a short reason (no key material).
 */
export class TrustKeyError extends Error {}

/** EU DCC kid: base64 (standard, padded) of the first 8 bytes of SHA-256 over the DER certificate. */
export function dccKid(der: Uint8Array): string {
  return createHash("sha256").update(der).digest().subarray(0, 8).toString("base64");
}

/** RFC 7638 thumbprint (SHA-256, base64url) of an EC or RSA public JWK: the required members in lexicographic order. */
export function jwkThumbprint(jwk: Pick<JWK, "kty" | "crv" | "x" | "y" | "e" | "n">): string {
  const members = jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url");
}

/** SMART Health Cards kid: the RFC 7638 thumbprint of the public JWK (EC only). */
export function shcKid(jwk: JWK): string {
  return jwkThumbprint(publicPart(jwk));
}

export function publicPart(jwk: JWK): JWK {
  if (jwk.kty !== "EC") throw new TrustKeyError(`key type ${String(jwk.kty)} is not EC`);
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

/** An EC P-256 public key from a JWK (private members are ignored). */
export function importEcJwk(jwk: JWK): KeyObject {
  checkEcShape(jwk);
  return ecPublicKey(jwk);
}

/** The cheap checks of importEcJwk, without building the key. */
function checkEcShape(jwk: JWK): void {
  if (!jwk || typeof jwk !== "object") throw new TrustKeyError("key is not a JWK object");
  if (jwk.kty !== "EC" || jwk.crv !== "P-256") throw new TrustKeyError(`key must be EC P-256 (got ${String(jwk.kty)}/${String(jwk.crv)})`);
  if (jwk.alg !== undefined && jwk.alg !== "ES256") throw new TrustKeyError(`key alg must be ES256 (got ${String(jwk.alg)})`);
}

function ecPublicKey(jwk: JWK): KeyObject {
  try {
    return createPublicKey({ key: publicPart(jwk) as JsonWebKey, format: "jwk" });
  } catch {
    throw new TrustKeyError("key coordinates are not a valid P-256 point");
  }
}

/** Country (C=) of the certificate's subject, else the whole subject: the DCC issuer binding. */
export function certificateIssuer(cert: X509Certificate): string {
  const m = /(?:^|\n)C=([^\n]+)/.exec(cert.subject);
  return m ? m[1]!.trim() : cert.subject.replace(/\n/g, ", ");
}

/** A certificate from DER bytes, PEM text, or base64 DER text (as DCC test vectors and trust lists carry it). */
export function parseCertificate(data: Uint8Array | string): X509Certificate {
  try {
    return new X509Certificate(typeof data === "string" && !data.includes("-----BEGIN") ? Buffer.from(data.replace(/\s+/g, ""), "base64") : data);
  } catch {
    throw new TrustKeyError("not a valid X.509 certificate");
  }
}

export function dccKeyFromCertificate(cert: X509Certificate, source: string, opts: { kid?: string; issuer?: string } = {}): TrustKey {
  return Object.freeze({
    kid: opts.kid ?? dccKid(cert.raw),
    issuer: opts.issuer ?? certificateIssuer(cert),
    formats: Object.freeze(["dcc"] as CredentialFormat[]),
    key: cert.publicKey,
    certificate: cert,
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
    source,
  });
}

/** Splits a PEM bundle (or takes one DER blob) into certificates. */
export function certificatesFromFile(data: Buffer): X509Certificate[] {
  const text = data.subarray(0, 64).toString("latin1");
  if (text.includes("-----BEGIN")) {
    const pems = data.toString("utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (pems.length === 0) throw new TrustKeyError("PEM file holds no CERTIFICATE block");
    return pems.map((p) => parseCertificate(p));
  }
  return [parseCertificate(data)];
}

/**
 * Most keys one JWKS may hold, as for a signed list's SHC entry (list-schema.ts). An issuer needs a
 * few (rotation); the document is unsigned and every key costs an import on the main thread where
 * the lanes verify, so a JWKS above this is refused whole (a cut list could drop the key in use).
 */
export const MAX_JWKS_KEYS = 1000;

export interface JwksImport {
  keys: TrustKey[];
  /** Keys that announce a revocation list (`crlVersion`), by thumbprint kid. */
  crls: Array<{ kid: string; crlVersion: number }>;
  /** Keys skipped and why (wrong type, kid not the thumbprint, ...): for logs, never fatal on their own. */
  skipped: Array<{ index: number; reason: string }>;
  /** Copies of a key already taken (same thumbprint kid, so the same coordinates), dropped. */
  duplicates: number;
}

/**
 * SHC issuer keys. The spec fixes kid = RFC 7638 thumbprint: a published kid that disagrees is
 * skipped rather than indexed under either value, since one of the two is wrong. The thumbprint
 * covers the coordinates, so a kid seen again is the same key: it is kept once (a copy announcing
 * a CRL, or a higher `crlVersion`, still counts), or a forged card under that kid would cost one
 * signature check per copy. Throws TrustKeyError for more than MAX_JWKS_KEYS keys.
 */
export function shcKeysFromJwks(jwks: unknown, issuer: string, source: string): JwksImport {
  const list = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(list)) throw new TrustKeyError("JWKS has no keys array");
  if (list.length > MAX_JWKS_KEYS) throw new TrustKeyError(`JWKS holds ${list.length} keys, more than ${MAX_JWKS_KEYS}`);
  const taken = new Map<string, { key: KeyObject; crlVersion?: number }>();
  const skipped: JwksImport["skipped"] = [];
  let duplicates = 0;
  for (const [index, jwk] of (list as JWK[]).entries()) {
    try {
      if (jwk?.use !== undefined && jwk.use !== "sig") throw new TrustKeyError(`use is ${String(jwk.use)}, not sig`);
      checkEcShape(jwk);
      const kid = shcKid(jwk);
      if (jwk.kid !== undefined && jwk.kid !== kid) throw new TrustKeyError("kid is not the RFC 7638 thumbprint");
      const raw = (jwk as { crlVersion?: unknown }).crlVersion;
      const crlVersion = typeof raw === "number" && Number.isInteger(raw) && raw > 0 ? raw : undefined;
      const held = taken.get(kid);
      if (held) {
        duplicates++;
        if (crlVersion !== undefined && crlVersion > (held.crlVersion ?? 0)) held.crlVersion = crlVersion;
        continue;
      }
      taken.set(kid, { key: ecPublicKey(jwk), ...(crlVersion !== undefined ? { crlVersion } : {}) });
    } catch (e) {
      skipped.push({ index, reason: e instanceof TrustKeyError ? e.message : "unreadable key" });
    }
  }
  const out: JwksImport = { keys: [], crls: [], skipped, duplicates };
  for (const [kid, { key, crlVersion }] of taken) {
    out.keys.push(Object.freeze({ kid, issuer, formats: Object.freeze(["shc"] as CredentialFormat[]), key, source, ...(crlVersion !== undefined ? { crlVersion } : {}) }));
    if (crlVersion !== undefined) out.crls.push({ kid, crlVersion });
  }
  return out;
}

export function passKey(jwk: JWK, issuer: string, source: string, kid: string, validity: { notBefore?: number; notAfter?: number } = {}): TrustKey {
  return Object.freeze({
    kid,
    issuer,
    formats: Object.freeze(["pass"] as CredentialFormat[]),
    key: importEcJwk(jwk),
    source,
    ...(validity.notBefore !== undefined ? { notBefore: validity.notBefore } : {}),
    ...(validity.notAfter !== undefined ? { notAfter: validity.notAfter } : {}),
  });
}

/** A pinned root key: a JWK (public or private: only the public part is kept) or a PEM public key. */
export function parseRootKey(data: string): { key: KeyObject; kid?: string } {
  const t = data.trim();
  if (t.startsWith("{")) {
    let jwk: JWK;
    try {
      jwk = JSON.parse(t) as JWK;
    } catch {
      throw new TrustKeyError("root key file is not valid JSON");
    }
    return { key: importEcJwk(jwk), ...(typeof jwk.kid === "string" ? { kid: jwk.kid } : {}) };
  }
  try {
    const key = createPublicKey(t);
    const jwk = key.export({ format: "jwk" });
    if (jwk.kty !== "EC" || jwk.crv !== "P-256") throw new TrustKeyError("root key must be EC P-256");
    return { key };
  } catch (e) {
    if (e instanceof TrustKeyError) throw e;
    throw new TrustKeyError("root key is neither a JWK nor a PEM public key");
  }
}
