import { createHash } from "node:crypto";
import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { deltaCarried, RevocationSet } from "./revocations.js";
import { DeltaRefused, verifyRevocationDelta, type RevocationSigner, type VerifiedDelta } from "./signed-delta.js";
import type { SharedCache } from "./shared-cache.js";
import { DeltaCopy, type StoredDelta } from "./sources/delta-copy.js";
import { SourceError } from "./sources/errors.js";

/** Bounds on what a Redis writer can make every gateway hold: one delta's size, refusals remembered. */
const MAX_DELTA_CHARS = 8 * 1024 * 1024;
const MAX_REFUSED_TRACKED = 100_000;

export interface RevocationDeltasDeps {
  stateDir: string;
  clock: Clock;
  log: Logger;
  shared?: SharedCache;
  /** The keys the signed lists held now name as revocation signers; undefined until every signed list has loaded. */
  signers(): RevocationSigner[] | undefined;
  /** What the signed lists held now revoke: a delta they carry entirely is not kept on disk. */
  signedRevocations(): RevocationSet;
  /** The overlay changed outside pull() and publish() (deltas found on disk at a save): the owner rebuilds its view. */
  changed(): void;
}

export interface RevocationDeltas {
  /** The accepted deltas folded in signed order: only its additions count (view.ts). */
  overlay(): RevocationSet;
  /** Reads the disk copy (candidates only: admitted once the signers are known). */
  loadDisk(): Promise<void>;
  /** Forgets the signers last seen, so the next pull re-admits the disk candidates and re-reads the stream. */
  resetSigners(): void;
  /** Re-checks the signers, reads the stream from where it was; true if the overlay changed. Saves when it did. */
  pull(): Promise<boolean>;
  /** Writes the accepted deltas that still matter to disk (serialised; failures are `disk` warnings). */
  save(): Promise<void>;
  /** A delta signed by a named signer: applied now (verify, admit, fold; then `applied()`), saved, published to Redis. */
  publish(jws: string, applied: () => void): Promise<{ shared: boolean }>;
  stats(): { applied: number; refused: number; copyRefused: number };
  /** Resolves once the saves queued so far are done. */
  settled(): Promise<void>;
}

/**
 * Signed revocation deltas (docs/trust.md "Deltas"): those accepted from the Redis stream and our
 * own publishes, keyed by their signed text so a re-appended copy counts once. Refused entries are
 * not kept (a Redis writer could flood the stream): they are counted once by digest, and when the
 * list's signers change the whole stream is read again under the new signers, so an entry that
 * arrived before its signer was named is not lost. Accepted deltas are also kept on disk (the
 * stream is not durable) and read back at start; what is read is only a candidate, admitted like a
 * stream entry whenever the signers are (re)known.
 */
export function createRevocationDeltas(d: RevocationDeltasDeps): RevocationDeltas {
  const accepted = new Map<string, VerifiedDelta & { id: string }>();
  const deltaCopy = new DeltaCopy(d.stateDir);
  let diskDeltas: StoredDelta[] = [];
  let deltaCopyRefused = 0;
  let savedDeltas: string | undefined;
  /** The copy on disk could not be read (an I/O error, not a damaged file): never overwrite it, read it again before the next save. */
  let deltaCopyUnread = false;
  let saving: Promise<void> = Promise.resolve();
  const refusedDigests = new Set<string>();
  let refusedOverflow = 0;
  let overlay = RevocationSet.empty;
  let signersKey: string | undefined;
  let streamPos = "0";
  /**
   * Raised whenever the stream is to be read again from the start (the signers changed). Pulls may
   * overlap (the poll runs during a refresh); one that read under older signers, or from a position
   * since moved, must not set the position: it would skip the re-read the new signers need.
   */
  let streamGen = 0;

  function countRefused(jws: string, id: string, e: DeltaRefused): void {
    const h = createHash("sha256").update(jws).digest("hex");
    if (refusedDigests.has(h)) return;
    if (refusedDigests.size < MAX_REFUSED_TRACKED) refusedDigests.add(h);
    else refusedOverflow++;
    d.log.warn({ code: "GW_TRUST_SIGNATURE", entry: id, reason: e.reason }, "revocation delta refused");
  }

  /** Verifies one delta against the current signers; true if it is newly accepted. */
  function admit(jws: string, id: string, signers: readonly RevocationSigner[]): boolean {
    if (accepted.has(jws)) return false;
    try {
      if (jws.length > MAX_DELTA_CHARS) throw new DeltaRefused("schema", "revocation delta too large");
      accepted.set(jws, { ...verifyRevocationDelta(jws, signers), id });
      return true;
    } catch (e) {
      if (!(e instanceof DeltaRefused)) throw e;
      countRefused(jws, id, e);
      return false;
    }
  }

  /** Folds the accepted deltas in signed order (re-appending an old delta cannot undo a newer one). */
  function foldDeltas(): void {
    const good = [...accepted.values()].sort((a, b) => a.issuedAt - b.issuedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let o = RevocationSet.empty;
    for (const x of good) o = o.withDelta(x.delta);
    overlay = o;
  }

  /** When the signers change, accepted deltas are re-checked and the stream is read again from the start. */
  function syncSigners(): boolean {
    const signers = d.signers();
    if (!signers) return false;
    const key = signers.map((x) => `${x.kid}:${x.key.export({ format: "der", type: "spki" }).toString("base64")}`).sort().join(",");
    if (key === signersKey) return false;
    signersKey = key;
    const before = accepted.size;
    for (const [jws, x] of [...accepted]) {
      accepted.delete(jws);
      admit(jws, x.id, signers);
    }
    for (const x of diskDeltas) admit(x.jws.trim(), x.id, signers);
    streamPos = "0";
    streamGen++;
    foldDeltas();
    return accepted.size !== before;
  }

  async function pull(): Promise<boolean> {
    let changed = syncSigners();
    const signers = d.signers();
    if (d.shared && signers) {
      const from = streamPos;
      const gen = streamGen;
      const r = await d.shared.readRevocations(from);
      // Read under signers since replaced: the re-read from the start that syncSigners asked for decides.
      if (r && gen === streamGen) {
        // A trimmed stream (reset) drops nothing already accepted: deltas are signed, so what we verified
        // stays verified, and a Redis writer cannot un-revoke by trimming.
        let pulled = false;
        for (const e of r.entries) pulled = admit(e.data.trim(), e.id, signers) || pulled;
        // An overlapping pull that already moved on keeps its position (entries are deduplicated either way).
        if (streamPos === from) streamPos = r.lastId;
        if (pulled) foldDeltas();
        changed ||= pulled;
      }
    }
    if (changed) await save();
    return changed;
  }

  function deltaSetKey(entries: readonly StoredDelta[]): string {
    return createHash("sha256").update(entries.map((e) => e.jws.trim()).sort().join("\n")).digest("hex");
  }

  /**
   * Writes the accepted deltas that still matter to disk (tmp, fsync, rename), one write at a time,
   * each of the set as it is then. Not before the signed lists have loaded: until then nothing is
   * accepted, and writing that would erase what the next start needs.
   */
  function save(): Promise<void> {
    saving = saving
      .then(async () => {
        const signers = d.signers();
        if (!signers) return;
        if (deltaCopyUnread) {
          // Whatever the copy on disk holds must be in what is written over it.
          await loadDisk();
          if (deltaCopyUnread) return;
          for (const x of diskDeltas) admit(x.jws.trim(), x.id, signers);
          foldDeltas();
          d.changed();
        }
        const signed = d.signedRevocations();
        const keep = [...accepted].filter(([, x]) => !deltaCarried(x.delta, signed)).map(([jws, x]) => ({ id: x.id, jws }));
        const key = deltaSetKey(keep);
        if (key === savedDeltas) return;
        await deltaCopy.save(keep);
        savedDeltas = key;
      })
      .catch((e: unknown) =>
        d.log.warn({ code: "GW_TRUST_FETCH", reason: "disk", err: (e as NodeJS.ErrnoException).code ?? (e as Error).message }, "revocation deltas not saved to disk: a restart without the Redis stream would lack them"),
      );
    return saving;
  }

  async function loadDisk(): Promise<void> {
    try {
      diskDeltas = await deltaCopy.load();
      savedDeltas = deltaSetKey(diskDeltas);
      deltaCopyUnread = false;
    } catch (e) {
      const err = e instanceof SourceError ? e : new SourceError("GW_TRUST_FETCH", "internal", (e as Error).message);
      if (!deltaCopyUnread) deltaCopyRefused++;
      if (err.reason === "disk-damaged" || err.reason === "size") {
        // It will never load: kept aside for a person, so the next save starts a new copy instead of erasing it.
        const aside = await deltaCopy.setAside(d.clock.now()).catch(() => undefined);
        deltaCopyUnread = aside === undefined;
        d.log.error({ code: err.code, reason: err.reason, err: err.message, ...(aside ? { keptAs: aside } : {}) }, "disk copy of revocation deltas rejected: what it held is applied again only when the Redis stream or the signed list carries it");
      } else {
        deltaCopyUnread = true;
        d.log.warn({ code: err.code, reason: err.reason, err: err.message }, "disk copy of revocation deltas cannot be read: it is not overwritten, and read again before the next save");
      }
    }
  }

  async function publish(signedDelta: string, applied: () => void): Promise<{ shared: boolean }> {
    const jws = signedDelta.trim();
    syncSigners();
    const signers = d.signers();
    if (!signers) throw new DeltaRefused("unknown-signer", "no signed trust list loaded yet: nobody is named to sign revocation deltas");
    try {
      if (jws.length > MAX_DELTA_CHARS) throw new DeltaRefused("schema", "revocation delta too large");
      verifyRevocationDelta(jws, signers);
    } catch (e) {
      if (e instanceof DeltaRefused) countRefused(jws, "local", e);
      throw e;
    }
    admit(jws, "local", signers);
    foldDeltas();
    applied();
    await save();
    if (!d.shared) return { shared: false };
    const ok = await d.shared.publishRevocations(jws);
    // Our own entry comes back on the next pull; it is the same text, so it counts once.
    return { shared: ok };
  }

  return {
    overlay: () => overlay,
    loadDisk,
    resetSigners: () => {
      signersKey = undefined;
    },
    pull,
    save,
    publish,
    stats: () => ({ applied: accepted.size, refused: refusedDigests.size + refusedOverflow, copyRefused: deltaCopyRefused }),
    settled: () => saving,
  };
}
