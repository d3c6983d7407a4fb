import { mkdir, readFile, stat } from "node:fs/promises";
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
export class DeltaCopy {
  private readonly dir: string;
  private readonly path: string;

  constructor(
    stateDir: string,
    private readonly maxBytes: number,
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

  async save(entries: readonly StoredDelta[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await atomicWrite(this.path, JSON.stringify({ deltas: entries.map((d) => ({ id: d.id, jws: d.jws })) }));
  }
}
