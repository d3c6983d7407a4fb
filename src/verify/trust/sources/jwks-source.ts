import { shcKeysFromJwks, TrustKeyError } from "../keys.js";
import { digest, type Parsed, type SourceEnv } from "./base.js";
import { CrlDocSource } from "./crl-doc-source.js";
import { SourceError } from "./errors.js";

/**
 * Cap on an issuer's JWKS, downloaded, read from a file or from its disk copy. trust.maxListBytes
 * (64 MiB by default) is sized for signed lists and deny lists of millions of entries; under it a
 * JWKS of tens of MB cost a JSON parse of 0.1 s (padding) to over 1 s (keys) on the event loop
 * before the key cap applied. A real JWKS is a few KB; MAX_JWKS_KEYS (1,000) EC P-256 keys are
 * about 220 KB as JSON, and a key carrying an x5c chain of two or three certificates about 4 KB,
 * so 1 MiB holds every key the key cap lets through with room to spare (or 250 keys with chains),
 * and parses in a few ms. A constant, not a setting: no real issuer comes near it, and more would
 * only buy a hostile issuer parse time.
 */
export const MAX_JWKS_BYTES = 1024 * 1024;

/** Default JWKS location of a SMART Health Cards issuer. */
export function defaultJwksUrl(issuer: string): string {
  return issuer.replace(/\/+$/, "") + "/.well-known/jwks.json";
}

/** SHC issuer keys, bound to that issuer: a card is only checked against its own `iss` keys. */
export class JwksSource extends CrlDocSource {
  constructor(
    private readonly issuer: string,
    location: string,
    env: SourceEnv,
    allowInsecureHttp = false,
  ) {
    super("jwks", location, env, allowInsecureHttp);
    this.allowHttp = allowInsecureHttp;
    this.maxBytes = Math.min(env.maxBytes, MAX_JWKS_BYTES);
    this.what = "JWKS";
  }

  protected async parse(body: Buffer): Promise<Parsed> {
    const parsed = await parseJwksBody(body, this.issuer, this.id, (index, reason) =>
      this.env.logger.warn({ code: "GW_TRUST_FETCH", source: this.id, key: index, reason }, "JWKS key skipped"),
    );
    if (parsed.duplicates > 0) this.env.logger.warn({ code: "GW_TRUST_FETCH", source: this.id, duplicates: parsed.duplicates }, "JWKS lists keys more than once: each key is kept once");
    this.parsedCrls = await this.crls.held(parsed.crls.map((c) => ({ issuer: this.issuer, ...c })));
    const crl = this.crls.part(this.parsedCrls);
    return { keys: parsed.keys, keysSkipped: parsed.keysSkipped ?? 0, version: parsed.version, ...(crl ? { crl } : {}) };
  }
}

export async function parseJwksBody(
  body: Buffer,
  issuer: string,
  source: string,
  onSkip: (index: number, reason: string) => void,
): Promise<Parsed & { crls: Array<{ kid: string; crlVersion: number }>; duplicates: number }> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    throw new SourceError("GW_TRUST_FETCH", "content", "JWKS is not JSON");
  }
  let imp;
  try {
    imp = shcKeysFromJwks(json, issuer, source);
  } catch (e) {
    throw new SourceError("GW_TRUST_FETCH", "content", e instanceof TrustKeyError ? e.message : "unreadable JWKS");
  }
  for (const s of imp.skipped) onSkip(s.index, s.reason);
  if (imp.keys.length === 0) throw new SourceError("GW_TRUST_FETCH", "content", "JWKS holds no usable ES256 key");
  return { keys: imp.keys, keysSkipped: imp.skipped.length, version: digest(body).slice(0, 12), crls: imp.crls, duplicates: imp.duplicates };
}
