import { createHash } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomicAsync } from "../../../core/atomic-file.js";
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
   * The copy, or undefined when there is none (neither file exists: a first start). Throws
   * SourceError `disk-unusable`, naming the file (a path under the state dir, never the URL), when
   * the copy's files are damaged: the meta file empty, unparsable or missing next to a body (or the
   * body missing next to a meta), the body not a file; the caller logs it (it used to be skipped
   * without a word). `disk-damaged` when the body does not match the digest its meta recorded: the
   * caller refuses the copy and counts it, as for any other bad copy. `size` (unread) when the body
   * is above `maxBytes` (a copy saved before its kind had a lower cap).
   */
  async load(maxBytes = Number.POSITIVE_INFINITY): Promise<{ body: Buffer; meta: DiskMeta } | undefined> {
    const bodyPath = this.base + ".body";
    const metaPath = this.base + ".meta.json";
    const damaged = (path: string, what: string) => new SourceError("GW_TRUST_FETCH", "disk-unusable", `disk copy ${path} ${what}: the copy is not used`);
    const [bodyStat, metaStat] = await Promise.all([stat(bodyPath).catch(() => undefined), stat(metaPath).catch(() => undefined)]);
    if (!bodyStat && !metaStat) return undefined;
    if (!bodyStat) throw damaged(bodyPath, "is missing next to its meta file");
    if (!bodyStat.isFile()) throw damaged(bodyPath, "is not a file");
    if (!metaStat) throw damaged(metaPath, "is missing next to the body");
    if (bodyStat.size > maxBytes) throw new SourceError("GW_TRUST_FETCH", "size", `disk copy of ${bodyStat.size} bytes exceeds the cap of ${maxBytes} bytes: not read`);
    let body: Buffer;
    let meta: DiskMeta;
    let metaText: string;
    try {
      [body, metaText] = await Promise.all([readFile(bodyPath), readFile(metaPath, "utf8")]);
    } catch (e) {
      throw damaged(this.base + ".*", `cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    if (metaText.length === 0) throw damaged(metaPath, "is empty (a write cut by a power loss or a full disk)");
    try {
      meta = JSON.parse(metaText) as DiskMeta;
    } catch {
      throw damaged(metaPath, "is not JSON");
    }
    if (typeof meta?.fetchedAt !== "number") throw damaged(metaPath, "has no fetch time");
    const digest = sha256(body);
    if (typeof meta.sha256 === "string" && meta.sha256 !== digest) {
      throw new SourceError("GW_TRUST_FETCH", "disk-damaged", `disk copy ${bodyPath} (${body.length} bytes) does not match the digest recorded when it was saved: torn, truncated or altered`);
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

/**
 * tmp, fsync, rename, fsync of the directory (atomic-file.ts): a reader (or the next start after a
 * power cut) sees the old file or the new one, never part of one; a failed write leaves no temp file.
 */
export async function atomicWrite(path: string, data: Buffer | string): Promise<void> {
  // Per-call temp names: a meta-only save and a full one of the same copy may be in flight at once.
  await writeFileAtomicAsync(path, data, { unique: true });
}
