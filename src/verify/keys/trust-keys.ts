/**
 * Turning key material into `TrustKey`s: DSC certificates (DCC), SHC issuer JWKS, our pass JWKs.
 * Shared by the CLI, tests and (if it wants) the trust store; pure apart from node:crypto.
 */
import { createHash, createPublicKey, X509Certificate, type JsonWebKey, type KeyObject } from "node:crypto";
import type { CredentialFormat } from "../../core/types.js";
import type { TrustKey } from "../trust/types.js";

/** DCC kid: base64 of the first 8 bytes of SHA-256 over the DER certificate. */
export function dccKid(der: Uint8Array): string {
  return createHash("sha256").update(der).digest().subarray(0, 8).toString("base64");
}

/** Country of a DSC (subject C=), the DCC issuer. */
function country(cert: X509Certificate): string {
  const m = /(?:^|\n)C=([^\n]+)/.exec(cert.subject);
  return m ? m[1]!.trim() : cert.subject;
}

/** A PEM, base64 DER or DER certificate to a DCC trust key. */
export function dccKeyFromCertificate(data: Uint8Array | string, source: string): TrustKey {
  const cert = new X509Certificate(typeof data === "string" && !data.includes("-----BEGIN") ? Buffer.from(data.replace(/\s+/g, ""), "base64") : data);
  return {
    kid: dccKid(cert.raw),
    issuer: country(cert),
    formats: ["dcc"],
    key: cert.publicKey,
    certificate: cert,
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
    source,
  };
}

/** RFC 7638 thumbprint of an EC or RSA public JWK (base64url SHA-256 of the canonical members). */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members = jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url");
}

function publicJwk(jwk: JsonWebKey): KeyObject {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return createPublicKey({ key: pub, format: "jwk" });
}

export interface JwkWithKid extends JsonWebKey {
  kid?: string;
}

/**
 * SHC issuer JWKS: every key is bound to `issuer` (the card's iss). The kid must equal the key's
 * thumbprint (SHC spec); keys that break that rule are skipped and reported.
 */
export function shcKeysFromJwks(jwks: { keys?: JwkWithKid[] }, issuer: string, source: string): { keys: TrustKey[]; skipped: string[] } {
  const keys: TrustKey[] = [];
  const skipped: string[] = [];
  for (const jwk of jwks.keys ?? []) {
    try {
      if (jwk.kty !== "EC" || jwk.crv !== "P-256") throw new Error("not an EC P-256 key");
      const kid = jwkThumbprint(jwk);
      if (jwk.kid !== undefined && jwk.kid !== kid) throw new Error("kid is not the JWK thumbprint");
      keys.push({ kid, issuer, formats: ["shc"], key: publicJwk(jwk), source });
    } catch (e) {
      skipped.push(`${jwk.kid ?? "?"}: ${(e as Error).message}`);
    }
  }
  return { keys, skipped };
}

/** Our pass public key (the JWK `keys generate` writes), bound to an issuer id. */
export function passKeyFromJwk(jwk: JwkWithKid & { issuer?: string }, source: string, issuer?: string, formats: CredentialFormat[] = ["pass"]): TrustKey {
  if (!jwk.kid) throw new Error("pass key JWK has no kid");
  const iss = issuer ?? jwk.issuer;
  if (!iss) throw new Error("pass key JWK has no issuer");
  return { kid: jwk.kid, issuer: iss, formats, key: publicJwk(jwk), source };
}
