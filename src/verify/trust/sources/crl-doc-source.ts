import { DocSource, type Parsed, type SourceEnv } from "./base.js";
import { CrlSet, type PendingCrls } from "./crl-set.js";

/**
 * A source whose SHC keys announce revocation lists (a JWKS, our signed list): the CRLs of the keys
 * held, taken over on accept together with the keys they belong to, and re-read on every refresh.
 */
export abstract class CrlDocSource extends DocSource {
  protected readonly crls: CrlSet;
  /** The CRLs of the body being parsed: taken on accept, with its keys. */
  protected parsedCrls?: PendingCrls;

  constructor(kind: string, location: string, env: SourceEnv, crlsOverHttp: boolean) {
    super(kind, location, env);
    this.crls = new CrlSet(location, env, crlsOverHttp);
  }

  protected override accept(parsed: Parsed, body: Buffer, fetchedAt: number, etag: string | undefined): void {
    super.accept(parsed, body, fetchedAt, etag);
    if (this.parsedCrls) this.crls.take(this.parsedCrls);
  }

  /** CRLs change without the keys changing: re-read on every refresh, also after a 304 or a failed download. */
  async refreshCrls(): Promise<boolean> {
    const changed = await this.crls.load();
    const crl = this.crls.part();
    if (crl) this.snapshot = { ...this.snapshot, crl };
    return changed;
  }
}
