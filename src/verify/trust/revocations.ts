import type { RevocationQuery } from "./types.js";
import { RevocationIndex, credentialIdHash, ID_HASH_BYTES } from "./revocation-index.js";

/** SHC rid entries of one issuer key: rid -> revoke credentials issued before this epoch ms (Infinity: all). */
export type RidMap = ReadonlyMap<string, number>;

/**
 * A change to the deny lists. Hashes are 32 hex digits (see credentialIdHash); SHC rids are the
 * issuer's `rid` values, optionally `rid.TIMESTAMP` (seconds) as in the SMART Health Cards CRL format.
 */
export interface RevocationDelta {
  add?: string[];
  remove?: string[];
  shc?: Array<{ issuer: string; kid: string; add?: string[]; remove?: string[] }>;
}

export class RevocationDeltaError extends Error {}

const HEX32 = /^[0-9a-f]{32}$/;

export function ridKey(issuer: string, kid: string): string {
  return `${issuer}\u0000${kid}`;
}

/** SHC `rid.TIMESTAMP`: seconds since the epoch, decimal digits only (12 reach past the year 30000). */
const RID_TS = /^\d{1,12}$/;

/**
 * Parses `rid` or `rid.TIMESTAMP`; timestamps are seconds since the epoch per the SHC spec. Anything
 * else after the dot throws, and every reader refuses the whole list for it: `R.` or `R. ` read as
 * `Number("")`, 0, would revoke no card at all (fail open), and `0x10`/`1e10` are no spec form.
 */
export function parseRid(entry: string): { rid: string; before: number } {
  const dot = entry.indexOf(".");
  if (dot < 0) return { rid: entry, before: Infinity };
  const ts = entry.slice(dot + 1);
  if (!RID_TS.test(ts)) throw new RevocationDeltaError("rid timestamp is not a number of seconds (digits only)");
  return { rid: entry.slice(0, dot), before: Number(ts) * 1000 };
}

/**
 * Adds one `rid` or `rid.TIMESTAMP` entry to a rid map, keeping the widest revocation of that rid:
 * a bare rid (every card) beats any timestamp, a later timestamp beats an earlier one. Every reader
 * of rid entries (deny lists, signed lists, issuer CRLs, deltas) goes through here, so the order of
 * the entries never decides: `["R", "R.1600000000"]` revokes every card with rid R, as does the
 * reverse. Narrowing a revocation is only a delta's explicit `remove` (RevocationSet.withDelta).
 */
export function addRid(m: Map<string, number>, entry: string): void {
  const { rid, before } = parseRid(entry);
  widenRid(m, rid, before);
}

/** The one place a rid's revocation is combined with what is held: the wider one stays. */
export function widenRid(m: Map<string, number>, rid: string, before: number): void {
  m.set(rid, Math.max(before, m.get(rid) ?? -Infinity));
}

/**
 * Immutable: applying a delta returns a new set sharing the big indexes, so a verification holding
 * the old snapshot is never affected. Deltas live in small overlay Sets until the owner compacts
 * them into a new index (see compact()).
 */
export class RevocationSet {
  constructor(
    readonly indexes: readonly RevocationIndex[] = [],
    readonly added: ReadonlySet<string> = new Set(),
    readonly removed: ReadonlySet<string> = new Set(),
    readonly shc: ReadonlyMap<string, RidMap> = new Map(),
  ) {}

  static readonly empty = new RevocationSet();

  get hashCount(): number {
    return this.indexes.reduce((a, i) => a + i.size, 0) + this.added.size;
  }

  get overlaySize(): number {
    return this.added.size + this.removed.size;
  }

  isRevoked(q: RevocationQuery): boolean {
    if (q.format === "shc") return this.isRidRevoked(q);
    return this.hasHash(credentialIdHash(q.id));
  }

  hasHash(hash: Uint8Array): boolean {
    if (this.added.size > 0 || this.removed.size > 0) {
      const hex = Buffer.from(hash.buffer, hash.byteOffset, ID_HASH_BYTES).toString("hex");
      if (this.added.has(hex)) return true;
      if (this.removed.has(hex)) return false;
    }
    for (const idx of this.indexes) if (idx.has(hash)) return true;
    return false;
  }

  private isRidRevoked(q: RevocationQuery): boolean {
    if (!q.issuer || !q.kid) return false;
    const m = this.shc.get(ridKey(q.issuer, q.kid));
    const before = m?.get(q.id);
    if (before === undefined) return false;
    // Unknown issue time with a timestamped entry: fail safe, treat as revoked.
    return q.issuedAt === undefined || q.issuedAt < before;
  }

  withDelta(delta: RevocationDelta): RevocationSet {
    const added = new Set(this.added);
    const removed = new Set(this.removed);
    for (const raw of delta.add ?? []) {
      const h = normHex(raw);
      added.add(h);
      removed.delete(h);
    }
    for (const raw of delta.remove ?? []) {
      const h = normHex(raw);
      removed.add(h);
      added.delete(h);
    }
    let shc = this.shc;
    if (delta.shc?.length) {
      const next = new Map(this.shc);
      for (const d of delta.shc) {
        const key = ridKey(d.issuer, d.kid);
        const m = new Map(next.get(key) ?? []);
        // Removals first, from what earlier deltas held; an add never narrows what is held (addRid).
        // So a delta narrowing `R` to `R.TS` says both: remove ["R"], add ["R.TS"].
        for (const e of d.remove ?? []) m.delete(parseRid(e).rid);
        for (const e of d.add ?? []) addRid(m, e);
        next.set(key, m);
      }
      shc = next;
    }
    return new RevocationSet(this.indexes, added, removed, shc);
  }

  /** Same content with the overlay folded into one index (done off the lookup path, when the overlay grows). */
  compact(): RevocationSet {
    if (this.overlaySize === 0 && this.indexes.length <= 1) return this;
    const parts: Buffer[] = this.indexes.map((i) => i.toBytes());
    parts.push(Buffer.from([...this.added].join(""), "hex"));
    let index = RevocationIndex.fromBytes(Buffer.concat(parts));
    if (this.removed.size > 0) {
      const all = index.toBytes();
      const keep: Buffer[] = [];
      for (let o = 0; o < all.length; o += ID_HASH_BYTES) {
        const h = all.subarray(o, o + ID_HASH_BYTES);
        if (!this.removed.has(h.toString("hex"))) keep.push(h);
      }
      index = RevocationIndex.fromBytes(Buffer.concat(keep));
    }
    return new RevocationSet([index], new Set(), new Set(), this.shc);
  }
}

/**
 * True when applying `delta` over `base` can change no verdict: `base` already revokes every hash
 * the delta adds or removes (a removal only withdraws an earlier delta's addition, never what
 * `base` holds), every rid it adds for at least as long, and every rid it removes for every card.
 * Used with the signed lists as `base`: such a delta is carried by them and need not be kept.
 */
export function deltaCarried(delta: RevocationDelta, base: RevocationSet): boolean {
  for (const raw of [...(delta.add ?? []), ...(delta.remove ?? [])]) if (!base.hasHash(Buffer.from(normHex(raw), "hex"))) return false;
  for (const d of delta.shc ?? []) {
    const held = base.shc.get(ridKey(d.issuer, d.kid));
    for (const e of d.add ?? []) {
      const { rid, before } = parseRid(e);
      if (!((held?.get(rid) ?? -Infinity) >= before)) return false;
    }
    for (const e of d.remove ?? []) if (held?.get(parseRid(e).rid) !== Infinity) return false;
  }
  return true;
}

function normHex(raw: string): string {
  const h = typeof raw === "string" ? raw.trim().toLowerCase() : "";
  if (!HEX32.test(h)) throw new RevocationDeltaError("revocation hash must be 32 hex digits");
  return h;
}

/**
 * Merges several sources' SHC rid maps (same issuer/kid from two sources: union, earliest cut-off
 * loses to "all"). A key only one source has keeps that source's map, uncopied (rid maps are never
 * changed once built): views are rebuilt as each source settles, and a big CRL is not copied each time.
 */
export function mergeRidMaps(maps: Iterable<ReadonlyMap<string, RidMap>>): Map<string, RidMap> {
  const out = new Map<string, RidMap>();
  const copied = new Set<string>();
  for (const m of maps) {
    for (const [key, rids] of m) {
      const held = out.get(key);
      if (!held) {
        out.set(key, rids);
        continue;
      }
      let cur = held as Map<string, number>;
      if (!copied.has(key)) {
        cur = new Map(held);
        copied.add(key);
        out.set(key, cur);
      }
      for (const [rid, before] of rids) widenRid(cur, rid, before);
    }
  }
  return out;
}
