import { shcKeysFromJwks, TrustKeyError } from "../keys.js";
import { digest, type Parsed, type SourceEnv } from "./base.js";
import { CrlDocSource } from "./crl-doc-source.js";
import { SourceError } from "./errors.js";

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
