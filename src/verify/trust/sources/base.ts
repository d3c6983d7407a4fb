import { createHash } from "node:crypto";
import type { Clock } from "../../../core/clock.js";
import type { Logger } from "../../../core/logger.js";
import type { SharedCache } from "../shared-cache.js";
import type { SourceSnapshot } from "../view.js";
import { DiskCopy, type DiskMeta } from "./disk-copy.js";
import { SourceError } from "./errors.js";
import { displayLocation, fetchDoc, isUrl, readDoc } from "./fetch-doc.js";
import type { TimeObservation } from "../clock-check.js";

export interface SourceEnv {
  clock: Clock;
  logger: Logger;
  fetch: typeof fetch;
  stateDir: string;
  timeoutMs: number;
  maxBytes: number;
  refreshIntervalMs: number;
  shared?: SharedCache;
  /** Set by the store for the time it runs; aborted by stop() so shutdown never waits on a slow server. */
  signal?: AbortSignal;
}

/** The part of a snapshot a parser produces. */
export type Parsed = Omit<SourceSnapshot, "id" | "ok" | "refreshedAt" | "error">;

/** One trust source as the store sees it: a snapshot that only changes on a complete, valid refresh. */
export interface TrustSource {
  readonly id: string;
  readonly snapshot: SourceSnapshot;
  /** Copies from disk or Redis this source refused so far (counted in the store's stats). */
  readonly cacheRefused?: number;
  /** The server's Date (+ Age) at the last HTTP response, when one was seen (clock-check.ts). */
  readonly serverTime?: TimeObservation;
  /** The latest signed issuedAt this source verified (signed lists only; clock-check.ts). */
  readonly signedTime?: TimeObservation;
  /** Loads the last good copy from disk (remote sources); true if it produced data. */
  init(): Promise<boolean>;
  /** True if the contributed data changed. Throws SourceError; the snapshot then keeps its data. */
  refresh(): Promise<boolean>;
  /**
   * Run after refresh() settles, whether it succeeded or not: fetches again the SHC revocation lists
   * the keys held announce. Apart, so the rest of the data applies without waiting on CRL hosts.
   * True if what they revoke changed; never throws (failures are in the snapshot's `crl.error`).
   */
  refreshCrls?(): Promise<boolean>;
}

/**
 * A document at a file path or http(s) URL. Downloads use ETag; the last good body is kept on
 * disk with its fetch time, so an offline start-up still has data and knows how old it is.
 */
export abstract class DocSource implements TrustSource {
  readonly id: string;
  snapshot: SourceSnapshot;
  serverTime?: TimeObservation;
  /** Copies from disk or a peer (Redis) refused: bad signature, rollback, a time in the future. */
  cacheRefused = 0;
  protected etag?: string;
  protected bodyDigest?: string;
  protected readonly remote: boolean;
  /** Plain http allowed (signed lists, or a source configured with allowInsecureHttp). */
  protected allowHttp = false;
  /**
   * Cap on this document's bytes, downloaded, read from a file or from the disk copy: trust.maxListBytes,
   * unless the kind sets a lower one of its own (a JWKS: MAX_JWKS_BYTES).
   */
  protected maxBytes: number;
  /** What the document is, for messages. */
  protected what = "document";
  private readonly disk: DiskCopy;

  constructor(
    kind: string,
    protected readonly location: string,
    protected readonly env: SourceEnv,
  ) {
    this.id = displayLocation(location);
    this.remote = isUrl(location);
    this.maxBytes = env.maxBytes;
    this.disk = new DiskCopy(`${env.stateDir}/trust`, kind, location);
    this.snapshot = { id: this.id, ok: false, keys: [] };
  }

  protected abstract parse(body: Buffer, origin: "fetch" | "disk" | "shared"): Promise<Parsed>;
  /** Hook: adopt a newer copy from a peer (shared cache) before the download; true if data changed. */
  protected async fromShared(): Promise<boolean> {
    return false;
  }
  /**
   * How fresh a copy read from a cache (disk or a peer via Redis) may count. Freshness comes only
   * from this gateway's own fetch or a signed timestamp: an unsigned source's disk copy keeps the
   * time of the fetch that wrote it, but never a time in the future (refused), so a forged meta file
   * cannot make it look fresh for ever. Signed lists override this with their signed issuedAt.
   */
  protected cachedFreshness(_parsed: Parsed, claimedAt: number): number {
    if (!Number.isFinite(claimedAt) || claimedAt > this.env.clock.now() + FUTURE_TOLERANCE_MS) {
      throw new SourceError("GW_TRUST_FETCH", "content", "cached copy claims a fetch time in the future");
    }
    return claimedAt;
  }
  protected async afterAccept(_body: Buffer, _fetchedAt: number): Promise<void> {}
  protected async afterTouch(_fetchedAt: number): Promise<void> {}

  async init(): Promise<boolean> {
    if (!this.remote) return false;
    try {
      const copy = await this.disk.load(this.maxBytes);
      if (!copy) return false;
      const parsed = await this.parse(copy.body, "disk");
      const at = this.cachedFreshness(parsed, copy.meta.fetchedAt);
      this.accept(parsed, copy.body, at, copy.meta.etag);
      this.env.logger.info({ source: this.id, version: parsed.version, fetchedAt: new Date(copy.meta.fetchedAt).toISOString() }, "trust source loaded from disk copy");
      return true;
    } catch (e) {
      const err = e as SourceError;
      // Damaged files (an empty meta after a power cut, a directory in the way) are no copy to
      // refuse: named in the log, not counted as a refused copy (a bad signature, a torn body).
      if (err.reason === "disk-unusable") {
        this.env.logger.warn({ code: err.code, source: this.id, reason: err.reason, err: err.message }, "disk copy of trust source damaged; not loaded");
        return false;
      }
      this.cacheRefused++;
      this.env.logger.warn({ code: err.code ?? "GW_TRUST_SIGNATURE", source: this.id, reason: err.reason, err: err.message }, "disk copy of trust source rejected");
      return false;
    }
  }

  async refresh(): Promise<boolean> {
    try {
      return await this.refreshInner();
    } catch (e) {
      const err = e instanceof SourceError ? e : new SourceError("GW_TRUST_FETCH", "internal", (e as Error).message);
      this.snapshot = { ...this.snapshot, ok: false, error: `${err.code}:${err.reason}` };
      throw err;
    }
  }

  private async refreshInner(): Promise<boolean> {
    // A newer verified copy from a peer is taken at once, but the download still runs: only our own
    // fetch (or the copy's signed time) makes data fresh.
    const adopted = this.remote ? await this.fromShared() : false;
    return (await this.fetchAndAccept()) || adopted;
  }

  private async fetchAndAccept(): Promise<boolean> {
    const now = () => this.env.clock.now();
    let body: Buffer;
    let etag: string | undefined;
    if (this.remote) {
      const doc = await fetchDoc(this.location, {
        fetch: this.env.fetch,
        timeoutMs: this.env.timeoutMs,
        maxBytes: this.maxBytes,
        what: this.what,
        allowHttp: this.allowHttp,
        ...(this.etag ? { etag: this.etag } : {}),
        ...(this.env.signal ? { signal: this.env.signal } : {}),
      });
      if (doc.dateMs !== undefined) this.serverTime = { vouchedMs: doc.dateMs, wallMs: now(), monoMs: this.env.clock.monotonic() };
      if (doc.notModified) {
        if (this.bodyDigest === undefined) throw new SourceError("GW_TRUST_FETCH", "http-status", "304 without a copy to revalidate");
        await this.touch(now());
        return false;
      }
      body = doc.body!;
      etag = doc.etag;
    } else {
      body = await readDoc(this.location, this.maxBytes, this.what);
    }
    if (digest(body) === this.bodyDigest) {
      if (etag) this.etag = etag;
      await this.touch(now());
      return false;
    }
    const parsed = await this.parse(body, "fetch");
    const fetchedAt = now();
    this.accept(parsed, body, fetchedAt, etag);
    if (this.remote) await this.saveCopy(body, { fetchedAt, ...(etag ? { etag } : {}), ...(parsed.version ? { version: parsed.version } : {}) });
    await this.afterAccept(body, fetchedAt);
    return true;
  }

  /**
   * The disk copy is a cache for the next offline start: data accepted is in use whether or not it
   * can be written (a read-only or full disk, stateDir/trust not a directory). A failure is a `disk`
   * warning, as for CRLs and deltas, never a failed refresh: that would report data in use as not,
   * skip the Redis copy and back off as for an outage.
   */
  private async saveCopy(body: Buffer | undefined, meta: DiskMeta): Promise<void> {
    try {
      await this.disk.save(body, meta);
    } catch (e) {
      this.env.logger.warn({ code: "GW_TRUST_FETCH", source: this.id, reason: "disk", err: (e as NodeJS.ErrnoException).code ?? (e as Error).message }, "trust source in use, but its disk copy could not be saved: the next offline start lacks it");
    }
  }

  /** Keeps a body taken from elsewhere (a peer via Redis) as the disk copy too, for the next offline start. */
  protected async persist(body: Buffer, fetchedAt: number): Promise<void> {
    if (this.remote) await this.disk.save(body, { fetchedAt, ...(this.etag ? { etag: this.etag } : {}), ...(this.snapshot.version ? { version: this.snapshot.version } : {}) });
  }

  protected accept(parsed: Parsed, body: Buffer, fetchedAt: number, etag: string | undefined): void {
    this.bodyDigest = digest(body);
    this.etag = etag;
    this.snapshot = { ...parsed, id: this.id, ok: true, refreshedAt: fetchedAt };
  }

  protected async touch(at: number): Promise<void> {
    this.snapshot = { ...this.snapshot, ok: true, refreshedAt: Math.max(at, this.snapshot.refreshedAt ?? 0) };
    delete this.snapshot.error;
    if (this.remote) await this.saveCopy(undefined, { fetchedAt: at, ...(this.etag ? { etag: this.etag } : {}), ...(this.snapshot.version ? { version: this.snapshot.version } : {}) });
    await this.afterTouch(at);
  }
}

/** Clock difference tolerated before a cached or signed time counts as "in the future". */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

export function digest(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}
