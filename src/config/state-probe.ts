import { randomUUID } from "node:crypto";
import * as fsp from "node:fs/promises";
import { join } from "node:path";

/**
 * Whether a directory takes a write, found by doing one: create a small file, write to it, fsync
 * it, remove it. access(W_OK) says yes to root on a full disk, and on a filesystem the kernel
 * remounted read-only after an error only the write itself says no; `run` then died on its first
 * state write with a bare errno.
 */
export interface ProbeFs {
  open(path: string, flags: string, mode: number): Promise<{ write(data: Uint8Array): Promise<unknown>; sync(): Promise<void>; close(): Promise<void> }>;
  unlink(path: string): Promise<void>;
}

/** Bigger than nothing (a full tmpfs or ext4 refuses the first page), small enough to leave no trace. */
const PROBE = new TextEncoder().encode("checkpoint-gateway write probe\n");

/** Undefined when `dir` took the probe; else the errno and its words and the file, e.g. "ENOSPC (no space left on device) at DIR/.cpgw-probe-…". */
export async function probeWritable(dir: string, fs: ProbeFs = fsp): Promise<string | undefined> {
  const path = join(dir, `.cpgw-probe-${randomUUID()}`);
  let created = false;
  try {
    const fh = await fs.open(path, "wx", 0o600);
    created = true;
    try {
      await fh.write(PROBE);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return undefined;
  } catch (e) {
    return `${describeErrno(e)} at ${path}`;
  } finally {
    // Removed even when the write failed: an empty probe file on every check would pile up.
    if (created) await fs.unlink(path).catch(() => undefined);
  }
}

/** "ENOSPC (no space left on device)": the errno and its own words, without Node's prefix, syscall and path. */
export function describeErrno(e: unknown): string {
  const err = e as NodeJS.ErrnoException | null;
  const words = String(err?.message).replace(/^[A-Z]+: /, "").split(",")[0];
  return `${err?.code ?? "error"} (${words})`;
}
