/**
 * A simple in-memory TrustView for tests, benchmarks and the fuzz targets: keys, revocations,
 * staleness and the clock verdict set by hand. Production code never uses it (ESLint refuses
 * imports of `testing/` from src/): the daemon and the CLI get their views from the trust store
 * (`trust/store.ts`, `trust/load-source.ts`). Revocation ids are matched exactly; an SHC entry
 * `rid.T` revokes only cards issued before epoch second T, as the SHC revocation spec says.
 */
import type { CredentialFormat } from "../../core/types.js";
import type { RevocationQuery, TrustKey, TrustStatus, TrustView } from "../trust/types.js";

export class MemoryTrust implements TrustView {
  private readonly byKid = new Map<string, TrustKey[]>();
  private readonly revoked = new Map<string, number | undefined>();
  stale = false;
  clockUntrusted: TrustStatus["clockUntrusted"];
  version = "memory-1";

  constructor(keys: Iterable<TrustKey> = []) {
    for (const k of keys) this.add(k);
  }

  add(k: TrustKey): this {
    const list = this.byKid.get(k.kid) ?? [];
    list.push(k);
    this.byKid.set(k.kid, list);
    return this;
  }

  /** Revokes `id` for a format (SHC: `rid` or `rid.timestamp`). */
  revoke(format: CredentialFormat, id: string): this {
    if (format === "shc") {
      const dot = id.lastIndexOf(".");
      if (dot > 0 && /^\d+$/.test(id.slice(dot + 1))) {
        this.revoked.set(`shc:${id.slice(0, dot)}`, Number(id.slice(dot + 1)) * 1000);
        return this;
      }
    }
    this.revoked.set(`${format}:${id}`, undefined);
    return this;
  }

  keysFor(kid: string, format: CredentialFormat): readonly TrustKey[] {
    return (this.byKid.get(kid) ?? []).filter((k) => k.formats.includes(format));
  }

  keysForIssuer(issuer: string, format: CredentialFormat): readonly TrustKey[] {
    const out: TrustKey[] = [];
    for (const list of this.byKid.values()) for (const k of list) if (k.issuer === issuer && k.formats.includes(format)) out.push(k);
    return out;
  }

  isRevoked(q: RevocationQuery): boolean {
    const key = `${q.format}:${q.id}`;
    if (!this.revoked.has(key)) return false;
    const before = this.revoked.get(key);
    return before === undefined || q.issuedAt === undefined || q.issuedAt < before;
  }

  status(_nowMs: number): TrustStatus {
    let keys = 0;
    for (const l of this.byKid.values()) keys += l.length;
    return { version: this.version, stale: this.stale, ...(this.clockUntrusted ? { clockUntrusted: this.clockUntrusted } : {}), sources: [{ source: "memory", ok: true, keys }] };
  }
}
