import { randomUUID } from "node:crypto";
import * as nodeFs from "node:fs";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { Clock, TimerHandle } from "./clock.js";
import { type LockFs, quietUnlink, releaseOwn, removeIfStill, snapshot } from "./dir-lock-claims.js";

export type { LockFs } from "./dir-lock-claims.js";

/**
 * One writer per directory (the gateway's stateDir, the ledger's directory): a lock file names who
 * holds it. A holder is live when its pid runs on this host, is not this process under an instance
 * id this process does not hold (a container restarted with the same pid, or a release that
 * failed), and did not start after the lock was written (a pid reused by another program). Any
 * other lock is stale and taken over with a warning.
 *
 * A lock written on another host (a recreated container gets a new host name; a stateDir on a
 * network filesystem) cannot be judged by its pid, which means nothing here. Its holder instead
 * refreshes the file's mtime every LOCK_REFRESH_MS, and such a lock is stale once its mtime is
 * older than FOREIGN_STALE_MS. Why the mtime and not a boot or machine id: containers on one
 * machine share the kernel's boot id, so it cannot tell a dead container from a live neighbour,
 * and a host across a network filesystem has its own; only a live holder can keep a file fresh.
 * Why 10 s and 60 s: five refreshes may be missed (a stalled event loop, a network filesystem
 * hiccup) and hosts sharing a directory may differ in clock by up to about 50 s before a live
 * holder looks dead, while a crashed holder's directory is free again after a minute (until then
 * the new gateway exits 2 with GW_STATE_DIR_LOCKED and its restart policy brings it back).
 *
 * A takeover or a release never removes whatever happens to be at the path (two gateways starting
 * at once on a stale lock both judged it stale, and the slower deleted the lock the faster had just
 * linked in: both held it): only under the claim on that exact content (dir-lock-claims.ts) and only
 * while the path still holds it; a new lock goes in by link(), which fails when one is there.
 */
export const LOCK_REFRESH_MS = 10_000;
export const FOREIGN_STALE_MS = 60_000;

export interface LockRecord {
  pid: number;
  /** Random per acquisition: only the holder that wrote it removes it. */
  instance: string;
  host: string;
  /** Epoch ms when the lock was written; NaN when an older lock file did not say. */
  startedAt: number;
  /** Epoch ms of the file's mtime, its holder's last refresh (read, never written); NaN when unknown. */
  refreshedAt?: number;
  /**
   * The holder's start in clock ticks since boot (/proc), compared by the pid-reuse rule: /proc's
   * wall-clock start (btime = now - uptime) moves with a clock step, so a box that started before NTP
   * stepped its clock forward saw its live holder as "started after the lock was written".
   */
  startTicks?: number;
}

/** Instance ids this process holds: a reload, or a second ledger in the same process, sees its own lock. */
const heldHere = new Set<string>();

/** The lock at `path`; undefined when it is not there or cannot be read as a lock (nobody's). */
export function readLock(path: string, fs: LockFs = nodeFs): LockRecord | undefined {
  const seen = snapshot(fs, path);
  return seen?.text === undefined ? undefined : parseLock(fs, path, seen.text);
}

function parseLock(fs: LockFs, path: string, text: string): LockRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<LockRecord> & { since?: unknown } | null;
    if (!r || typeof r.pid !== "number" || !Number.isSafeInteger(r.pid) || r.pid <= 0) return undefined;
    // `since` (ISO): the ledger's lock file before it shared this module.
    const startedAt = typeof r.startedAt === "number" ? r.startedAt : typeof r.since === "string" ? Date.parse(r.since) : NaN;
    let refreshedAt = NaN;
    try {
      refreshedAt = fs.statSync(path).mtimeMs;
    } catch {
      // unknown age: a lock from another host then counts as live
    }
    const ticks = Number.isSafeInteger(r.startTicks) ? { startTicks: r.startTicks } : {};
    return { pid: r.pid, instance: String(r.instance ?? ""), host: String(r.host ?? ""), startedAt, refreshedAt, ...ticks };
  } catch {
    return undefined;
  }
}

/** Clock ticks since boot at which the process `pid` started, from /proc (Linux); undefined where /proc is not there. */
function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    return Number.isSafeInteger(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** Epoch ms the process `pid` started (moves with a wall-clock step: only for locks without startTicks). */
function processStartMs(pid: number): number | undefined {
  try {
    const ticks = processStartTicks(pid);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1]);
    // USER_HZ is 100 on every Linux ABI Node runs on.
    return ticks !== undefined && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : undefined;
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

/** Why the lock `r` is stale at `now` (epoch ms), or undefined when a live process holds it. */
export function staleReason(r: LockRecord, now: number = Date.now()): string | undefined {
  if (heldHere.has(r.instance)) return undefined;
  if (r.host && r.host !== hostname()) {
    // Only the file's age says anything; an unknown age or an mtime ahead of our clock counts as live.
    const age = now - (r.refreshedAt ?? NaN);
    return age > FOREIGN_STALE_MS ? `written on host ${r.host} and not refreshed for ${Math.round(age / 1000)} s (its holder refreshes it every ${LOCK_REFRESH_MS / 1000} s)` : undefined;
  }
  if (r.pid === process.pid) return "written by an earlier process with this pid";
  if (!pidAlive(r.pid)) return "its pid is not running";
  const reused = "its pid now belongs to a process started later";
  if (r.startTicks !== undefined) {
    const ticks = processStartTicks(r.pid);
    if (ticks !== undefined) return ticks !== r.startTicks ? reused : undefined;
  }
  // A lock of an older version: only the wall clock, which a clock step moves.
  const started = processStartMs(r.pid);
  // The holder wrote the lock after it started; a process that started later reuses the pid.
  if (started !== undefined && started > r.startedAt + 1000) return reused;
  return undefined;
}

/** The live holder of the lock at `path` other than this process's own, if any (preflight). */
export function liveHolder(path: string, now: number = Date.now()): LockRecord | undefined {
  const r = readLock(path);
  if (!r || heldHere.has(r.instance)) return undefined;
  return staleReason(r, now) === undefined ? r : undefined;
}

export function describeHolder(r: LockRecord): string {
  const since = Number.isFinite(r.startedAt) ? new Date(r.startedAt).toISOString() : "an unknown time";
  // Another host's lock is judged by its age: say when its holder last refreshed it.
  const refreshed = r.host && r.host !== hostname() && Number.isFinite(r.refreshedAt) ? `, last refreshed ${new Date(r.refreshedAt!).toISOString()}` : "";
  return `held by pid ${r.pid}${r.host ? ` on ${r.host}` : ""} since ${since}${refreshed}`;
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
  /** Schedules the refresh of the lock's mtime (default: Node timers that do not hold the process open). */
  timers?: Pick<Clock, "setTimeout" | "clearTimeout">;
  fs?: LockFs;
  /** process.exit() (a second signal, a stop past its limit) skips the graceful path: the lock goes anyway. */
  releaseOnExit?: boolean;
}

/** Takes `dir/file` or throws `opts.refuse(holder)`; a stale lock is taken over with `opts.warn`. */
export function acquireDirLock(dir: string, file: string, opts: DirLockOptions): DirLock {
  const fs = opts.fs ?? nodeFs;
  const now = opts.now ?? Date.now;
  fs.mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  const startTicks = processStartTicks(process.pid);
  const record: LockRecord = { pid: process.pid, instance: randomUUID(), host: hostname(), startedAt: now(), ...(startTicks !== undefined ? { startTicks } : {}) };
  const text = JSON.stringify(record) + "\n";
  // Written whole under another name, then linked: the lock never exists half written. The write is
  // inside the try: on a full or read-only disk the open succeeds and the write fails, and every
  // failed start used to leave an empty temp file behind.
  const tmp = `${path}.${record.instance}`;
  try {
    fs.writeFileSync(tmp, text, { mode: 0o644 });
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 3) throw e;
      }
      const seen = snapshot(fs, path);
      if (seen === undefined) continue; // released or taken over meanwhile: link again
      const other = seen.text === undefined ? undefined : parseLock(fs, path, seen.text);
      const why = other ? staleReason(other, now()) : "the lock file is unreadable";
      // Also a later round's live holder: another process took the stale lock first.
      if (other && why === undefined) throw opts.refuse(other, path);
      // Removed only if the path still holds what was judged stale, under the claim on that content.
      const taken = removeIfStill(fs, path, seen.key, tmp, (claim, text) => liveClaimant(fs, claim, text, now()));
      if (typeof taken === "object") throw opts.refuse(taken, path);
      if (taken === "removed") opts.warn(`taking over a stale ${opts.what} lock`, { path, reason: why, ...(other ? { pid: other.pid, ...(other.host ? { host: other.host } : {}), since: describeSince(other) } : {}) });
    }
  } finally {
    quietUnlink(fs, tmp);
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
  const refresher = keepFresh(path, record, fs, now, opts);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    refresher.stop();
    process.off("exit", onExit);
    heldHere.delete(record.instance);
    releaseOwn(fs, path, text, tmp);
  };
  return { path, record, release };
}

/** Node timers, unref'd: a lock must never hold a process open (a ledger opened by a short-lived tool). */
const nodeTimers: Pick<Clock, "setTimeout" | "clearTimeout"> = (() => {
  const live = new Map<number, NodeJS.Timeout>();
  let seq = 0;
  return {
    setTimeout(fn: () => unknown, ms: number): TimerHandle {
      const id = ++seq;
      const t = setTimeout(() => {
        live.delete(id);
        fn();
      }, ms);
      t.unref();
      live.set(id, t);
      return { id };
    },
    clearTimeout(h: TimerHandle) {
      clearTimeout(live.get(h.id));
      live.delete(h.id);
    },
  };
})();

/**
 * Touches the lock's mtime every LOCK_REFRESH_MS so a gateway on another host can tell a live holder
 * from a dead one. Never throws: a failed refresh is a warning (once until it works again), since at
 * worst another host takes the lock over after FOREIGN_STALE_MS; a lock that another process has
 * taken over is left alone (warned once) and no longer refreshed.
 */
function keepFresh(path: string, record: LockRecord, fs: LockFs, now: () => number, opts: DirLockOptions): { stop(): void } {
  const timers = opts.timers ?? nodeTimers;
  const warn = (msg: string, fields: object) => {
    try {
      opts.warn(msg, fields);
    } catch {
      // a warning must not stop the refresh
    }
  };
  let timer: TimerHandle | undefined;
  let stopped = false;
  let failing = false;
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    try {
      const cur = readLock(path, fs);
      if (cur && cur.instance !== record.instance) {
        warn(`the ${opts.what} lock was taken over by another process: it is no longer refreshed`, { path, pid: cur.pid, ...(cur.host ? { host: cur.host } : {}) });
        return;
      }
      const t = new Date(now());
      fs.utimesSync(path, t, t);
      if (failing) warn(`the ${opts.what} lock is refreshed again`, { path });
      failing = false;
    } catch (e) {
      if (!failing) warn(`the ${opts.what} lock could not be refreshed: a gateway on another host may take it over after ${FOREIGN_STALE_MS / 1000} s`, { path, err: (e as Error).message });
      failing = true;
    }
    if (!stopped) timer = timers.setTimeout(tick, LOCK_REFRESH_MS, "lock.refresh");
  };
  timer = timers.setTimeout(tick, LOCK_REFRESH_MS, "lock.refresh");
  return {
    stop() {
      stopped = true;
      if (timer) timers.clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** The live process named by the claim `claim` (its text `text`), judged like a lock; undefined when stale or unreadable. */
function liveClaimant(fs: LockFs, claim: string, text: string | undefined, now: number): LockRecord | undefined {
  const r = text === undefined ? undefined : parseLock(fs, claim, text);
  return r && staleReason(r, now) === undefined ? r : undefined;
}

function describeSince(r: LockRecord): string | undefined {
  return Number.isFinite(r.startedAt) ? new Date(r.startedAt).toISOString() : undefined;
}
