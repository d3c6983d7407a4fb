import { join } from "node:path";
import { acquireDirLock, describeHolder, liveHolder, type DirLock, type LockFs, type LockRecord } from "../core/dir-lock.js";
import type { Clock } from "../core/clock.js";
import { GatewayError } from "../core/errors.js";
import { secretMasker } from "../core/mask.js";
import { describeErrno } from "../config/state-probe.js";

/**
 * One gateway per stateDir: two would number events from the same .seq files (duplicate event ids)
 * and interleave one hash-chained ledger. The lock rules (live holder, stale takeover, the refresh
 * that lets another host tell a dead holder) are in core/dir-lock.ts, shared with the ledger's lock.
 */
export const LOCK_FILE = "gateway.lock";

export { describeHolder, type LockRecord };
export type StateLock = DirLock;

/** The live holder of `stateDir`'s lock other than this process's own gateways, if any (preflight). */
export function lockHolder(stateDir: string): LockRecord | undefined {
  return liveHolder(join(stateDir, LOCK_FILE));
}

/**
 * Errors of a disk that cannot take a write: full (ENOSPC, EDQUOT), read-only (EROFS, also an ext4
 * remounted read-only after an error), refused (EACCES, EPERM) or failing (EIO): one code for the
 * operator, naming the errno; whether a restart can help (space freed) or not (permissions) is the
 * exit status's business (cli/commands/preflight-exit.ts).
 */
const DISK_ERRNOS = new Set(["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EIO"]);

/** `e` as GW_STATE_DIR_UNWRITABLE (naming `path` and the errno) when it is a disk error; otherwise undefined. */
export function stateDirUnwritable(stateDir: string, path: string, e: unknown): GatewayError | undefined {
  const err = e as NodeJS.ErrnoException | null;
  if (!err || typeof err.code !== "string" || !DISK_ERRNOS.has(err.code)) return undefined;
  const m = (s: string) => secretMasker.mask(s);
  return new GatewayError("GW_STATE_DIR_UNWRITABLE", `gateway.stateDir ${m(stateDir)} cannot be written: ${describeErrno(e)} at ${m(err.path ?? path)}`, { cause: e });
}

/**
 * Takes the lock or throws GW_STATE_DIR_LOCKED (a live holder) or GW_STATE_DIR_UNWRITABLE (the
 * directory cannot take the lock file); a stale lock is taken over with `warn`. `clock` times the
 * lock's refresh and says the time.
 */
export function acquireStateLock(stateDir: string, opts: { warn: (msg: string, fields: object) => void; clock?: Clock; fs?: LockFs }): StateLock {
  let lock: DirLock;
  try {
    lock = acquireDirLock(stateDir, LOCK_FILE, {
      what: "stateDir",
      warn: opts.warn,
      ...(opts.clock ? { now: () => opts.clock!.now(), timers: opts.clock } : {}),
      ...(opts.fs ? { fs: opts.fs } : {}),
      releaseOnExit: true,
      refuse: (holder, path) => new GatewayError("GW_STATE_DIR_LOCKED", `gateway.stateDir ${stateDir} is in use by another gateway (${describeHolder(holder)}; ${path})`),
    });
  } catch (e) {
    throw stateDirUnwritable(stateDir, join(stateDir, LOCK_FILE), e) ?? e;
  }
  const release = () => {
    try {
      lock.release();
    } catch {
      // a stop must not fail on it: the next start takes a lock left behind over
    }
  };
  return { path: lock.path, record: lock.record, release };
}
