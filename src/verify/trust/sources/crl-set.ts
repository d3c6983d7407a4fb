import { ridKey, type RidMap } from "../revocations.js";
import type { SourceSnapshot } from "../view.js";
import { loadShcCrls, type CrlCopy, type CrlEnv, type CrlLoad } from "./shc-crl.js";

/** An SHC key that announces a revocation list. */
export interface CrlAnnouncement {
  issuer: string;
  kid: string;
  crlVersion: number;
}

/** What a source's data needs from its CRLs until `take` adopts it (parse, then accept). */
export interface PendingCrls {
  announced: readonly CrlAnnouncement[];
  copies: ReadonlyMap<string, CrlCopy>;
}

/**
 * The revocation lists of the SHC keys one source holds (a JWKS, or the SHC entries of a signed
 * list), for every issuer among them. New data takes the copies held (memory, else disk) at once,
 * without the network, so nothing it brings waits on a CRL host; `load` then fetches them all again
 * (loadShcCrls), and the source reports the result as the `crl` part of its snapshot.
 */
export class CrlSet {
  private announced: readonly CrlAnnouncement[] = [];
  private copies: ReadonlyMap<string, CrlCopy> = new Map();
  private error: string | undefined;

  /**
   * `location`: where the source's data came from, which decides where CRLs are read (crlLocation).
   * `env` is read at each load, not copied: the store sets its abort signal at every start.
   */
  constructor(
    private readonly location: string,
    private readonly env: CrlEnv,
    private readonly allowHttp: boolean,
  ) {}

  /** The CRLs data being parsed announces, with the copies held for them. Reads no network. */
  async held(all: readonly CrlAnnouncement[]): Promise<PendingCrls> {
    // A key in two entries of a list is one CRL, at the higher crlVersion announced.
    const byKey = new Map<string, CrlAnnouncement>();
    for (const a of all) {
      const k = ridKey(a.issuer, a.kid);
      if (a.crlVersion > (byKey.get(k)?.crlVersion ?? 0)) byKey.set(k, a);
    }
    const announced = [...byKey.values()];
    const loads = await this.perIssuer(announced, "held");
    return { announced, copies: new Map(loads.flatMap((l) => [...l.copies])) };
  }

  /** Adopts what `held` read, once the data it was read for is accepted. */
  take(p: PendingCrls): void {
    this.announced = p.announced;
    this.copies = p.copies;
  }

  /** Fetches every announced CRL again (all at once, one deadline). True if what they revoke changed. */
  async load(): Promise<boolean> {
    if (this.announced.length === 0) return false;
    const loads = await this.perIssuer(this.announced, "fetch");
    const copies = new Map(loads.flatMap((l) => [...l.copies]));
    const changed = !sameRevocations(this.copies, copies);
    this.copies = copies;
    this.error = loads.find((l) => l.error)?.error;
    return changed;
  }

  /** The snapshot's `crl` part (undefined when no key announces a CRL). */
  part(p: PendingCrls = { announced: this.announced, copies: this.copies }): SourceSnapshot["crl"] {
    if (p.announced.length === 0) return undefined;
    const asOf = new Map<string, number | undefined>();
    for (const a of p.announced) asOf.set(ridKey(a.issuer, a.kid), p.copies.get(ridKey(a.issuer, a.kid))?.fetchedAt);
    const rids = new Map<string, RidMap>([...p.copies].map(([k, c]) => [k, c.rids]));
    return { asOf, rids, ...(this.error ? { error: this.error } : {}) };
  }

  private perIssuer(announced: readonly CrlAnnouncement[], mode: "fetch" | "held"): Promise<CrlLoad[]> {
    const byIssuer = new Map<string, Array<{ kid: string; crlVersion: number }>>();
    for (const a of announced) {
      const list = byIssuer.get(a.issuer) ?? [];
      list.push({ kid: a.kid, crlVersion: a.crlVersion });
      byIssuer.set(a.issuer, list);
    }
    const env = { ...this.env, allowHttp: this.allowHttp };
    return Promise.all([...byIssuer].map(([issuer, crls]) => loadShcCrls(issuer, this.location, crls, env, this.copies, mode)));
  }
}

function sameRevocations(a: ReadonlyMap<string, CrlCopy>, b: ReadonlyMap<string, CrlCopy>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, ca] of a) {
    const cb = b.get(k);
    if (!cb || !sameRids(ca.rids, cb.rids)) return false;
  }
  return true;
}

function sameRids(a: RidMap, b: RidMap): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [rid, before] of a) if (b.get(rid) !== before) return false;
  return true;
}
