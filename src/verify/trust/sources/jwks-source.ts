import { shcKeysFromJwks, TrustKeyError } from "../keys.js";
import { DocSource, digest, type Parsed, type SourceEnv } from "./base.js";
import { SourceError } from "./errors.js";
import { crlHealth, loadShcCrls, ridMaps, type CrlCopy } from "./shc-crl.js";

/** Default JWKS location of a SMART Health Cards issuer. */
export function defaultJwksUrl(issuer: string): string {
  return issuer.replace(/\/+$/, "") + "/.well-known/jwks.json";
}

/** SHC issuer keys, bound to that issuer: a card is only checked against its own `iss` keys. */
export class JwksSource extends DocSource {
  /** CRL-announcing keys of the JWKS held now, and of the one being parsed (taken on accept). */
  private crls: Array<{ kid: string; crlVersion: number }> = [];
  private parsedCrls: Array<{ kid: string; crlVersion: number }> = [];
  /** The CRL copies in use, with the time each was last had from the issuer. */
  private copies: ReadonlyMap<string, CrlCopy> = new Map();
  private parsedCopies: ReadonlyMap<string, CrlCopy> = new Map();

  constructor(
    private readonly issuer: string,
    location: string,
    env: SourceEnv,
    allowInsecureHttp = false,
  ) {
    super("jwks", location, env);
    this.allowHttp = allowInsecureHttp;
  }

  protected async parse(body: Buffer): Promise<Parsed> {
    const parsed = await parseJwksBody(body, this.issuer, this.id, (index, reason) =>
      this.env.logger.warn({ code: "GW_TRUST_FETCH", source: this.id, key: index, reason }, "JWKS key skipped"),
    );
    this.parsedCrls = parsed.crls;
    const load = await loadShcCrls(this.issuer, this.location, parsed.crls, { ...this.env, allowHttp: this.allowHttp }, this.copies);
    this.parsedCopies = load.copies;
    return { keys: parsed.keys, keysSkipped: parsed.keysSkipped ?? 0, version: parsed.version, shc: ridMaps(load.copies), crl: crlHealth(parsed.crls, this.issuer, load) };
  }

  protected override accept(parsed: Parsed, body: Buffer, fetchedAt: number, etag: string | undefined): void {
    super.accept(parsed, body, fetchedAt, etag);
    this.crls = this.parsedCrls;
    this.copies = this.parsedCopies;
  }

  /** CRLs change without the JWKS changing: re-read them on every refresh, even after a 304. */
  protected override async afterTouch(): Promise<void> {
    if (this.crls.length === 0) return;
    const load = await loadShcCrls(this.issuer, this.location, this.crls, { ...this.env, allowHttp: this.allowHttp }, this.copies);
    this.copies = load.copies;
    this.snapshot = { ...this.snapshot, shc: ridMaps(load.copies), crl: crlHealth(this.crls, this.issuer, load) };
  }
}

export async function parseJwksBody(
  body: Buffer,
  issuer: string,
  source: string,
  onSkip: (index: number, reason: string) => void,
): Promise<Parsed & { crls: Array<{ kid: string; crlVersion: number }> }> {
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
  return { keys: imp.keys, keysSkipped: imp.skipped.length, version: digest(body).slice(0, 12), crls: imp.crls };
}
