import { createHash, type KeyObject } from "node:crypto";
import { listContent, TrustListError, verifyTrustList, type VerifiedList } from "../signed-list.js";
import { laterBound, type TimeObservation } from "../clock-check.js";
import { FUTURE_TOLERANCE_MS, type Parsed, type SourceEnv } from "./base.js";
import { CrlDocSource } from "./crl-doc-source.js";
import { SourceError } from "./errors.js";

/**
 * Our signed trust list. Whatever the origin (download, disk copy, a peer via Redis), the body is
 * verified against the pinned root; a lower version than the one held, or the same version with
 * other content, is a rollback and is refused.
 */
export class SignedListSource extends CrlDocSource {
  private current?: { version: number; digest: string; issuedAt: number };
  /** The latest signed issuedAt verified, from any origin: the time now is at least that (clock-check.ts). */
  signedTime?: TimeObservation;
  private warnedNoExpiry = false;
  private readonly sharedId: string;

  constructor(
    location: string,
    private readonly root: { key: KeyObject; kid?: string },
    env: SourceEnv,
  ) {
    // The CRLs its SHC keys announce: the list vouches for the keys, the issuer alone for what it
    // revoked, read from each issuer (ISSUER/.well-known/crl/KID.json; for a list file,
    // DIR/crl/KID.json next to it) like for a configured JWKS. Not signed: https only.
    super("list", location, env, false);
    // Signed: the root's signature protects the content, so plain http (an air-gapped site mirror) is fine.
    this.allowHttp = true;
    // The cap stays trust.maxListBytes: the body is only base64-decoded and hashed before its signature is checked.
    this.what = "trust list";
    this.sharedId = createHash("sha256").update(location).digest("hex").slice(0, 16);
  }

  get version(): number | undefined {
    return this.current?.version;
  }

  protected async parse(body: Buffer, origin: "fetch" | "disk" | "shared"): Promise<Parsed> {
    let verified: VerifiedList;
    try {
      verified = await verifyTrustList(body.toString("utf8"), this.root, this.env.maxBytes);
    } catch (e) {
      throw toSourceError(e);
    }
    const { payload, digest } = verified;
    const issuedAt = Date.parse(payload.issuedAt);
    // Evidence about the local clock even when this copy is refused below (a copy from disk whose
    // issuedAt is in the future is what an offline boot with a reset clock looks like).
    const seen = { vouchedMs: issuedAt, wallMs: this.env.clock.now(), monoMs: this.env.clock.monotonic() };
    if (Number.isFinite(issuedAt)) this.signedTime = laterBound(this.signedTime, seen);
    if (this.current) {
      if (payload.version < this.current.version) throw new SourceError("GW_TRUST_SIGNATURE", "rollback", `list version ${payload.version} is older than held ${this.current.version}`);
      if (payload.version === this.current.version && digest !== this.current.digest) {
        throw new SourceError("GW_TRUST_SIGNATURE", "rollback", `list version ${payload.version} re-issued with different content`);
      }
    }
    const expiresAt = payload.expiresAt ? Date.parse(payload.expiresAt) : undefined;
    // An expired list is never taken over a held one; an expired disk copy is still loaded at start-up so
    // verdicts say TRUST_STALE (status marks it stale) rather than KEY_UNKNOWN.
    if (expiresAt !== undefined && expiresAt <= this.env.clock.now() && origin !== "disk") throw new SourceError("GW_TRUST_SIGNATURE", "expired", `list version ${payload.version} has expired`);
    // From a cache the signed issuedAt is the list's only freshness: one in the future is refused.
    if (origin !== "fetch" && !(issuedAt <= this.env.clock.now() + FUTURE_TOLERANCE_MS)) {
      throw new SourceError("GW_TRUST_SIGNATURE", "content", `list version ${payload.version} claims issuedAt in the future`);
    }
    let content;
    try {
      content = await listContent(payload, this.id);
    } catch (e) {
      throw toSourceError(e);
    }
    // Over plain http nobody vouches that a download is the current version: at a start without a
    // disk copy (nothing to call a rollback), only a signed expiry stops an older genuine list.
    if (expiresAt === undefined && origin === "fetch" && /^http:/i.test(this.location) && !this.warnedNoExpiry) {
      this.warnedNoExpiry = true;
      this.env.logger.warn({ code: "GW_TRUST_SIGNATURE", source: this.id, reason: "no-expiry" }, "signed trust list over plain http carries no expiresAt: an older genuine version could be served as current to a gateway without a disk copy");
    }
    for (const s of content.skipped) this.env.logger.warn({ code: "GW_TRUST_SIGNATURE", source: this.id, entry: s.entry, reason: s.reason }, "trust list key skipped");
    const crls = await this.crls.held(content.crls);
    const crl = this.crls.part(crls);
    this.parsedCrls = crls;
    this.current = { version: payload.version, digest, issuedAt };
    return {
      ...(crl ? { crl } : {}),
      keys: content.keys,
      keysSkipped: content.skipped.length,
      hashes: content.hashes,
      shc: content.shc,
      revocationSigners: content.revocationSigners,
      version: String(payload.version),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
  }

  /**
   * A copy from a cache (disk, a peer via Redis) is as fresh as its signed issuedAt, never as the
   * fetch time the cache claims: whoever can write Redis or stateDir/trust could otherwise keep a
   * revoked list "fresh" for ever. A signed time in the future is refused (no freshness at all).
   */
  protected override cachedFreshness(_parsed: Parsed, _claimedAt: number): number {
    // parse() has just verified this copy, refused a future issuedAt and set `current` to it.
    return Math.min(this.current!.issuedAt, this.env.clock.now());
  }

  /**
   * A peer's copy in Redis, adopted only if it verifies and is newer than ours (the version field
   * Redis holds is a hint; the signed payload decides). It never replaces the download: freshness
   * comes from our own fetch or the list's signed issuedAt, not from a peer's word.
   */
  protected override async fromShared(): Promise<boolean> {
    const shared = this.env.shared;
    if (!shared) return false;
    const s = await shared.getList(this.sharedId);
    if (!s || (this.current && s.version <= this.current.version)) return false;
    const body = Buffer.from(s.jws, "utf8");
    let parsed: Parsed;
    let at: number;
    try {
      parsed = await this.parse(body, "shared");
      at = this.cachedFreshness(parsed, s.fetchedAt);
    } catch (e) {
      const err = e as SourceError;
      this.cacheRefused++;
      this.env.logger.warn({ code: err.code ?? "GW_TRUST_SIGNATURE", source: this.id, reason: err.reason }, "shared cache copy of trust list rejected");
      return false;
    }
    this.accept(parsed, body, at, undefined);
    this.env.logger.info({ source: this.id, version: parsed.version }, "trust list adopted from shared cache");
    // In use either way: a disk that cannot take the copy is a disk problem, not a Redis copy refused.
    await this.persist(body, at).catch((e: unknown) =>
      this.env.logger.warn({ code: "GW_TRUST_FETCH", source: this.id, reason: "disk", err: (e as NodeJS.ErrnoException).code ?? (e as Error).message }, "trust list adopted from shared cache, but its disk copy could not be saved"),
    );
    return true;
  }

  protected override accept(parsed: Parsed, body: Buffer, fetchedAt: number, etag: string | undefined): void {
    super.accept(parsed, body, fetchedAt, etag);
    this.lastBody = body;
  }

  protected override async afterAccept(body: Buffer, fetchedAt: number): Promise<void> {
    if (!this.env.shared || !this.current || !this.remote) return;
    await this.env.shared.putList(this.sharedId, { jws: body.toString("utf8"), version: this.current.version, fetchedAt, ...(this.etag ? { etag: this.etag } : {}) });
  }

  protected override async afterTouch(fetchedAt: number): Promise<void> {
    if (!this.env.shared || !this.current || !this.remote) return;
    const touched = await this.env.shared.touchList(this.sharedId, this.current.version, fetchedAt);
    if (!touched) {
      // Redis lost the copy (flush, new prefix) or holds another version: give it ours.
      const s = await this.env.shared.getList(this.sharedId);
      if (this.lastBody && (!s || s.version < this.current.version)) await this.afterAccept(this.lastBody, fetchedAt);
    }
  }

  private lastBody?: Buffer;
}

function toSourceError(e: unknown): SourceError {
  if (e instanceof SourceError) return e;
  if (e instanceof TrustListError) return new SourceError("GW_TRUST_SIGNATURE", e.reason, e.message);
  return new SourceError("GW_TRUST_SIGNATURE", "content", (e as Error).message);
}
