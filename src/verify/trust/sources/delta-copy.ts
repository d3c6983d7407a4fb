import { mkdir, readFile, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { atomicWrite } from "./disk-copy.js";
import { SourceError } from "./errors.js";

/** One accepted revocation delta as kept on disk: its signed text, and the stream entry id that orders equal signed times. */
export interface StoredDelta {
  id: string;
  jws: string;
}

/**
 * The signed revocation deltas this gateway accepted, under STATE_DIR/trust/. The Redis stream
 * is not durable (trimmed, deleted, a Redis restarted without persistence): without this copy a
 * restart or a trust reload after losing it would un-revoke what the deltas revoked until the
 * signed list carries it. Only the signed texts are kept, and the store verifies each one again
 * against the signers of the list it holds when it loads them: a disk writer can delete the file,
 * not add a revocation or remove one.
 */
/**
 * The copy's own bound, not the trust lists' `maxListBytes`: a few mass revocations (a delta may
 * hold up to 8 MiB) can add up past a small site's list bound, and a copy written that large but
 * refused at the next start would un-revoke everything in it.
 */
export const DELTA_COPY_MAX_BYTES = 512 * 1024 * 1024;

export class DeltaCopy {
  private readonly dir: string;
  private readonly path: string;

  constructor(
    stateDir: string,
    private readonly maxBytes = DELTA_COPY_MAX_BYTES,
  ) {
    this.dir = join(stateDir, "trust");
    this.path = join(this.dir, "revocation-deltas.json");
  }

  /** The entries saved last, or none when there is no file. Throws SourceError when the file is not what save() writes. */
  async load(): Promise<StoredDelta[]> {
    const st = await stat(this.path).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return undefined;
      throw new SourceError("GW_TRUST_FETCH", "file", `cannot read the revocation deltas copy: ${e.code ?? "error"}`);
    });
    if (!st) return [];
    if (st.size > this.maxBytes) throw new SourceError("GW_TRUST_FETCH", "size", `revocation deltas copy is larger than ${this.maxBytes} bytes`);
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(this.path, "utf8"));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code) throw new SourceError("GW_TRUST_FETCH", "file", `cannot read the revocation deltas copy: ${(e as NodeJS.ErrnoException).code}`);
      throw new SourceError("GW_TRUST_FETCH", "disk-damaged", "revocation deltas copy is not JSON: torn or altered");
    }
    const deltas = (doc as { deltas?: unknown } | null)?.deltas;
    if (!Array.isArray(deltas) || !deltas.every((d) => typeof (d as StoredDelta)?.id === "string" && typeof (d as StoredDelta)?.jws === "string")) {
      throw new SourceError("GW_TRUST_FETCH", "disk-damaged", "revocation deltas copy is not a list of deltas");
    }
    return (deltas as StoredDelta[]).map((d) => ({ id: d.id, jws: d.jws }));
  }

  /** Refuses (SourceError "size") to write a copy load() would refuse: the one on disk stays. */
  async save(entries: readonly StoredDelta[]): Promise<void> {
    const text = JSON.stringify({ deltas: entries.map((d) => ({ id: d.id, jws: d.jws })) });
    if (Buffer.byteLength(text) > this.maxBytes) throw new SourceError("GW_TRUST_FETCH", "size", `revocation deltas copy would be larger than ${this.maxBytes} bytes; the copy on disk is kept`);
    await mkdir(this.dir, { recursive: true });
    await atomicWrite(this.path, text);
  }

  /** Moves a copy that can never load (damaged, too large) aside for a person, so that saving again does not erase it; returns the new name. */
  async setAside(now: number): Promise<string> {
    const to = `${this.path}.refused-${now}`;
    await rename(this.path, to);
    return to;
  }
}
