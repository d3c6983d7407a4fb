import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { join } from "node:path";

export const LOCK_FILE = "ledger.lock";

/** What the lock file holds: who writes the ledger, for the takeover rule and for a person. */
export interface LockHolder {
  pid: number;
  /** Random per process: tells this process apart from an earlier one that had the same pid. */
  instance: string;
  /** Random per acquisition: only the ledger that took the lock removes it. */
  token: string;
  host: string;
  since: string;
}

/** This process: tells a lock it left (a release that failed) from another process's. */
const INSTANCE = randomUUID();
/** Lock files held by ledgers open in this process: a reload closes the old ledger before it opens the new one. */
const held = new Set<string>();

/**
 * Another live process writes this ledger (two gateways sharing gateway.stateDir): a second
 * writer would interleave a second chain into the same files, so this one stays off.
 */
export class LedgerLockedError extends Error {
  readonly code = "GW_LEDGER_LOCKED";
  constructor(
    readonly path: string,
    readonly holder: Partial<LockHolder>,
  ) {
    super(`ledger ${path} is held by pid ${String(holder.pid)} on ${String(holder.host)} since ${String(holder.since)}: another gateway writes this ledger (gateway.stateDir shared?)`);
    this.name = "LedgerLockedError";
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the pid exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(path: string): Partial<LockHolder> | undefined {
  try {
    const h = JSON.parse(readFileSync(path, "utf8")) as unknown;
    return h && typeof h === "object" ? (h as Partial<LockHolder>) : {};
  } catch (e) {
    // Gone between our create and read: free again. Unparsable (a crash mid-write): nobody's.
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? undefined : {};
  }
}

/**
 * A lock nobody can be using: left by this process (no ledger of ours holds it now), by a pid that is gone, or by an
 * earlier process that had our pid (a container restarted: pids start over, the instance differs).
 * A live pid of another process is taken as a live writer, even if it was reused by something
 * else; a person removes the file then. Pids mean nothing across hosts: a stateDir must not be
 * shared between hosts.
 */
function stale(path: string, h: Partial<LockHolder>): boolean {
  if (h.instance === INSTANCE) return !held.has(path);
  if (typeof h.pid !== "number" || !Number.isSafeInteger(h.pid) || h.pid <= 0) return true;
  return h.pid === process.pid || !alive(h.pid);
}

function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/** Takes the ledger directory's lock (an O_EXCL file) or throws LedgerLockedError; returns the release. */
export function lockLedgerDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, instance: INSTANCE, token: randomUUID(), host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const h = readHolder(path);
      if (h === undefined) continue;
      // A second round means another process took the stale lock first: it is live now.
      if (attempt > 0 || !stale(path, h)) throw new LedgerLockedError(path, h);
      removeIfThere(path);
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me) + "\n");
    } finally {
      closeSync(fd);
    }
    held.add(path);
    return () => {
      held.delete(path);
      // Only our own: a lock another process took over (ours looked stale to it) stays.
      if (readHolder(path)?.token === me.token) removeIfThere(path);
    };
  }
}
