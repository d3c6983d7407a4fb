import { randomUUID } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/**
 * One writer per directory (the gateway's stateDir, the ledger's directory): a lock file names who
 * holds it. A holder is live when its pid runs on this host, is not this process under an instance
 * id this process does not hold (a container restarted with the same pid, or a release that
 * failed), and did not start after the lock was written (a pid reused by another program). Any
 * other lock is stale and taken over with a warning. A lock written on another host is never taken
 * over: its pid means nothing here.
 */
export interface LockRecord {
  pid: number;
  /** Random per acquisition: only the holder that wrote it removes it. */
  instance: string;
  host: string;
  /** Epoch ms when the lock was written; NaN when an older lock file did not say. */
  startedAt: number;
}

/** Instance ids this process holds: a reload, or a second ledger in the same process, sees its own lock. */
const heldHere = new Set<string>();

/** The lock at `path`; undefined when it is not there or cannot be read as a lock (nobody's). */
export function readLock(path: string): LockRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(path, "utf8")) as Partial<LockRecord> & { since?: unknown } | null;
    if (!r || typeof r.pid !== "number" || !Number.isSafeInteger(r.pid) || r.pid <= 0) return undefined;
    // `since` (ISO): the ledger's lock file before it shared this module.
    const startedAt = typeof r.startedAt === "number" ? r.startedAt : typeof r.since === "string" ? Date.parse(r.since) : NaN;
    return { pid: r.pid, instance: String(r.instance ?? ""), host: String(r.host ?? ""), startedAt };
  } catch {
    return undefined;
  }
}

/** Epoch ms the process `pid` started, from /proc (Linux); undefined where /proc is not there. */
function processStartMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    // USER_HZ is 100 on every Linux ABI Node runs on.
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the pid exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Why the lock `r` is stale, or undefined when a live process holds it. */
export function staleReason(r: LockRecord): string | undefined {
  if (heldHere.has(r.instance)) return undefined;
  if (r.host && r.host !== hostname()) return undefined;
  if (r.pid === process.pid) return "written by an earlier process with this pid";
  if (!pidAlive(r.pid)) return "its pid is not running";
  const started = processStartMs(r.pid);
  // The holder wrote the lock after it started; a process that started later reuses the pid.
  if (started !== undefined && started > r.startedAt + 1000) return "its pid now belongs to a process started later";
  return undefined;
}

/** The live holder of the lock at `path` other than this process's own, if any (preflight). */
export function liveHolder(path: string): LockRecord | undefined {
  const r = readLock(path);
  if (!r || heldHere.has(r.instance)) return undefined;
  return staleReason(r) === undefined ? r : undefined;
}

export function describeHolder(r: LockRecord): string {
  const since = Number.isFinite(r.startedAt) ? new Date(r.startedAt).toISOString() : "an unknown time";
  return `held by pid ${r.pid}${r.host ? ` on ${r.host}` : ""} since ${since}`;
}

export interface DirLock {
  readonly path: string;
  readonly record: LockRecord;
  /** Removes the lock if it is still ours. Idempotent; throws only when the file is there and cannot be removed. */
  release(): void;
}

export interface DirLockOptions {
  /** The caller's error for a live holder (its code and words). */
  refuse: (holder: LockRecord, path: string) => Error;
  /** A stale lock taken over: said once, with why. */
  warn: (msg: string, fields: object) => void;
  /** What the warning calls the lock, e.g. "stateDir". */
  what: string;
  now?: () => number;
  /** process.exit() (a second signal, a stop past its limit) skips the graceful path: the lock goes anyway. */
  releaseOnExit?: boolean;
}

/** Takes `dir/file` or throws `opts.refuse(holder)`; a stale lock is taken over with `opts.warn`. */
export function acquireDirLock(dir: string, file: string, opts: DirLockOptions): DirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  const record: LockRecord = { pid: process.pid, instance: randomUUID(), host: hostname(), startedAt: (opts.now ?? Date.now)() };
  // Written whole under another name, then linked: the lock never exists half written.
  const tmp = `${path}.${record.instance}`;
  writeFileSync(tmp, JSON.stringify(record) + "\n", { mode: 0o644 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 3) throw e;
      }
      const other = readLock(path);
      const why = other ? staleReason(other) : "the lock file is unreadable";
      // A later round that finds a live holder: another process took the stale lock first.
      if (other && why === undefined) throw opts.refuse(other, path);
      opts.warn(`taking over a stale ${opts.what} lock`, { path, reason: why, ...(other ? { pid: other.pid, since: describeSince(other) } : {}) });
      removeIfThere(path);
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  heldHere.add(record.instance);
  const onExit = () => {
    try {
      release();
    } catch {
      // exiting: the next start takes a lock left behind over
    }
  };
  if (opts.releaseOnExit) process.on("exit", onExit);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", onExit);
    heldHere.delete(record.instance);
    // Only our own: a lock another process took over (ours looked stale to it) stays.
    if (readLock(path)?.instance === record.instance) removeIfThere(path);
  };
  return { path, record, release };
}

function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

function describeSince(r: LockRecord): string | undefined {
  return Number.isFinite(r.startedAt) ? new Date(r.startedAt).toISOString() : undefined;
}
