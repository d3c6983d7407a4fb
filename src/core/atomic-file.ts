import * as nodeFs from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";

/** The file calls of an atomic replace (a seam: a test injects ENOSPC or records the call order). */
export type AtomicFs = Pick<typeof nodeFs, "openSync" | "writeSync" | "fsyncSync" | "closeSync" | "renameSync" | "unlinkSync">;

export interface AtomicWriteOptions {
  /**
   * fsync the temp file before the rename and the directory after it (default true). Without the
   * first, a power cut can leave the new name pointing at an empty file (only ext4's rename
   * heuristic flushes the data first, and not with every mount option or file system); without the
   * second, the old file can come back. false only where the caller's policy says never fsync.
   */
  fsync?: boolean;
  fs?: AtomicFs;
}

/** Writes more of the file; called by a streaming `body` as often as it likes. */
export type AtomicWrite = (chunk: string | Buffer) => void;

/**
 * Replaces `path` so that a crash or power cut leaves either the old or the new content, never a
 * torn or empty file: write `path.tmp`, fsync it, rename it over `path`, fsync the directory.
 * `body` is the content or, for content too large for one string, a function that writes it in
 * pieces. On any failure before the rename the temp file is removed (a full disk must not leave a
 * stray file per try: a restart loop left more with each start) and the old file stays as it was;
 * the error is rethrown (its `syscall` names the call that failed). A failed directory fsync comes
 * after the rename: the new content is in place but perhaps not durable, and that error is thrown.
 */
export function writeFileAtomic(path: string, body: string | Buffer | ((write: AtomicWrite) => void), opts: AtomicWriteOptions = {}): void {
  const fs = opts.fs ?? nodeFs;
  const sync = opts.fsync ?? true;
  // One fixed name per file: a temp file left by a crash (kill -9 mid-write) is reused, not joined by more.
  const tmp = `${path}.tmp`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "w");
    const out = fd;
    const write: AtomicWrite = (chunk) => {
      const b = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      for (let off = 0; off < b.length; ) {
        const n = fs.writeSync(out, b, off, b.length - off);
        // A file system that takes nothing without an error would loop forever.
        if (n <= 0) throw Object.assign(new Error(`write to ${tmp} made no progress`), { code: "EIO", syscall: "write" });
        off += n;
      }
    };
    if (typeof body === "function") body(write);
    else write(body);
    if (sync) fs.fsyncSync(out);
    fd = undefined;
    fs.closeSync(out);
    fs.renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) ignore(() => fs.closeSync(fd!));
    ignore(() => fs.unlinkSync(tmp));
    throw e;
  }
  if (!sync) return;
  try {
    syncDir(dirname(path), fs);
  } catch (e) {
    if (typeof e === "object" && e !== null) replacedBeforeFailure.add(e);
    throw e;
  }
}

const replacedBeforeFailure = new WeakSet<object>();

/**
 * True when writeFileAtomic threw `e` after the rename (the directory fsync failed): the new
 * content is in place, so a caller holding the old file open must reopen it.
 */
export function replacedDespite(e: unknown): boolean {
  return typeof e === "object" && e !== null && replacedBeforeFailure.has(e);
}

/**
 * writeFileAtomic for the async paths (trust copies: large bodies whose fsync must not hold the
 * event loop), always fsynced. `unique` gives the temp file a per-call name, for files that two
 * saves in flight may replace at once.
 */
export async function writeFileAtomicAsync(path: string, data: string | Buffer, opts: { unique?: boolean } = {}): Promise<void> {
  const tmp = opts.unique ? `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp` : `${path}.tmp`;
  try {
    const f = await open(tmp, "w");
    try {
      await f.writeFile(data);
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  const d = await open(dirname(path), "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** fsync a directory, so a rename or a new file in it survives a power cut. */
export function syncDir(dir: string, fs: Pick<AtomicFs, "openSync" | "fsyncSync" | "closeSync"> = nodeFs): void {
  const dfd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

function ignore(f: () => void): void {
  try {
    f();
  } catch {
    // Cleanup after a failure already being thrown: the first error is the one that matters.
  }
}
