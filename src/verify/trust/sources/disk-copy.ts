import { createHash } from "node:crypto";
import { mkdir, open, readFile, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { SourceError } from "./errors.js";

/** What is kept next to a persisted document; never the URL (it may hold credentials). */
export interface DiskMeta {
  fetchedAt: number;
  etag?: string;
  version?: string;
  /**
   * SHA-256 (hex) of the body this meta belongs to. An unsigned document (a deny list, a JWKS, a
   * CRL) has nothing else to show that the bytes read back are the bytes fetched: a body torn by
   * a power cut, zeroed by the filesystem or cut short would otherwise load as a shorter deny list,
   * un-revoking what it lost. Absent in copies written before it existed (then accepted as before).
   */
  sha256?: string;
}

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/**
 * Last good copy of one remote source under STATE_DIR/trust/, written atomically (tmp, fsync,
 * rename) with the body's digest in its meta, and refused on load when the body does not match it.
 */
export class DiskCopy {
  private readonly base: string;
  /** Digest of the body on disk, once this process loaded or wrote it (a meta-only save keeps it). */
  private bodyDigest: string | undefined;

  constructor(
    private readonly dir: string,
    kind: string,
    location: string,
  ) {
    const id = createHash("sha256").update(location).digest("hex").slice(0, 16);
    this.base = join(dir, `${kind}-${id}`);
  }

  /**
   * The copy, or undefined when there is none (or its meta is unreadable). Throws SourceError
   * `disk-damaged` when the body does not match the digest its meta recorded: the caller refuses
   * the copy and counts it, as for any other bad copy; `size` (unread) when the body is above
   * `maxBytes` (a copy saved before its kind had a lower cap).
   */
  async load(maxBytes = Number.POSITIVE_INFINITY): Promise<{ body: Buffer; meta: DiskMeta } | undefined> {
    let body: Buffer;
    let meta: DiskMeta;
    let size: number;
    try {
      size = (await stat(this.base + ".body")).size;
    } catch {
      return undefined;
    }
    if (size > maxBytes) throw new SourceError("GW_TRUST_FETCH", "size", `disk copy of ${size} bytes exceeds the cap of ${maxBytes} bytes: not read`);
    try {
      const [b, metaText] = await Promise.all([readFile(this.base + ".body"), readFile(this.base + ".meta.json", "utf8")]);
      body = b;
      meta = JSON.parse(metaText) as DiskMeta;
      if (typeof meta.fetchedAt !== "number") return undefined;
    } catch {
      return undefined;
    }
    const digest = sha256(body);
    if (typeof meta.sha256 === "string" && meta.sha256 !== digest) {
      throw new SourceError("GW_TRUST_FETCH", "disk-damaged", `disk copy (${body.length} bytes) does not match the digest recorded when it was saved: torn, truncated or altered`);
    }
    this.bodyDigest = digest;
    return { body, meta };
  }

  async save(body: Buffer | undefined, meta: DiskMeta): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if (body) {
      await atomicWrite(this.base + ".body", body);
      this.bodyDigest = sha256(body);
    }
    // The body goes first: a crash between the two leaves an old meta whose digest refuses the new body.
    await atomicWrite(this.base + ".meta.json", JSON.stringify({ ...meta, ...(this.bodyDigest ? { sha256: this.bodyDigest } : {}) }));
  }
}

/** tmp, fsync, rename: a reader (or the next start after a power cut) sees the old file or the new one, never part of one. */
export async function atomicWrite(path: string, data: Buffer | string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const f = await open(tmp, "w");
  try {
    await f.writeFile(data);
    // On the disk before the rename: otherwise a power cut can leave the new name on an empty file.
    await f.sync();
  } finally {
    await f.close();
  }
  await rename(tmp, path);
}
