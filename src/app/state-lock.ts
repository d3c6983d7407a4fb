import { randomUUID } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { GatewayError } from "../core/errors.js";

/**
 * One gateway per stateDir: two would number events from the same .seq files (duplicate event ids)
 * and interleave one hash-chained ledger. The lock file holds who took it; a holder is live when its
 * pid runs on this host, is not this process under another instance id (a container restarted with
 * the same pid), and did not start after the lock was written (a pid reused by another program).
 */
export const LOCK_FILE = "gateway.lock";

export interface LockRecord {
  pid: number;
  instance: string;
  host: string;
  /** Epoch ms when the lock was written. */
  startedAt: number;
}

/** Instance ids this process holds: a reload or a second gateway in the same process sees its own lock. */
const heldHere = new Set<string>();

function readLock(path: string): LockRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(path, "utf8")) as Partial<LockRecord>;
    if (typeof r.pid !== "number" || typeof r.instance !== "string" || typeof r.startedAt !== "number") return undefined;
    return { pid: r.pid, instance: r.instance, host: String(r.host ?? ""), startedAt: r.startedAt };
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
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Why the lock at `r` is stale, or undefined when a live process holds it. */
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

/** The live holder of `stateDir`'s lock other than this process's own gateways, if any (preflight). */
export function lockHolder(stateDir: string): LockRecord | undefined {
  const r = readLock(join(stateDir, LOCK_FILE));
  if (!r || heldHere.has(r.instance)) return undefined;
  return staleReason(r) === undefined ? r : undefined;
}

export function describeHolder(r: LockRecord): string {
  return `held by pid ${r.pid}${r.host ? ` on ${r.host}` : ""} since ${new Date(r.startedAt).toISOString()}`;
}

export interface StateLock {
  readonly record: LockRecord;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): void;
}

/** Takes the lock or throws GW_STATE_DIR_LOCKED; a stale lock is taken over with `warn`. */
export function acquireStateLock(stateDir: string, opts: { warn: (msg: string, fields: object) => void; now?: () => number }): StateLock {
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, LOCK_FILE);
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
      if (other && why === undefined) {
        throw new GatewayError("GW_STATE_DIR_LOCKED", `gateway.stateDir ${stateDir} is in use by another gateway (${describeHolder(other)}; ${path})`);
      }
      opts.warn("taking over a stale stateDir lock", { path, reason: why, ...(other ? { pid: other.pid, since: new Date(other.startedAt).toISOString() } : {}) });
      try {
        unlinkSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  heldHere.add(record.instance);
  // process.exit() (a second signal, a stop past its limit) skips the graceful path: the lock goes anyway.
  const onExit = () => release();
  process.on("exit", onExit);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", onExit);
    heldHere.delete(record.instance);
    if (readLock(path)?.instance !== record.instance) return;
    try {
      unlinkSync(path);
    } catch {
      // gone already: nothing to release
    }
  };
  return { record, release };
}
