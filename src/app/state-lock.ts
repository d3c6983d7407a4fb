import { join } from "node:path";
import { acquireDirLock, describeHolder, liveHolder, type DirLock, type LockRecord } from "../core/dir-lock.js";
import { GatewayError } from "../core/errors.js";

/**
 * One gateway per stateDir: two would number events from the same .seq files (duplicate event ids)
 * and interleave one hash-chained ledger. The lock rules (live holder, stale takeover) are in
 * core/dir-lock.ts, shared with the ledger's own lock.
 */
export const LOCK_FILE = "gateway.lock";

export { describeHolder, type LockRecord };
export type StateLock = DirLock;

/** The live holder of `stateDir`'s lock other than this process's own gateways, if any (preflight). */
export function lockHolder(stateDir: string): LockRecord | undefined {
  return liveHolder(join(stateDir, LOCK_FILE));
}

/** Takes the lock or throws GW_STATE_DIR_LOCKED; a stale lock is taken over with `warn`. */
export function acquireStateLock(stateDir: string, opts: { warn: (msg: string, fields: object) => void; now?: () => number }): StateLock {
  const lock = acquireDirLock(stateDir, LOCK_FILE, {
    what: "stateDir",
    warn: opts.warn,
    now: opts.now,
    releaseOnExit: true,
    refuse: (holder, path) => new GatewayError("GW_STATE_DIR_LOCKED", `gateway.stateDir ${stateDir} is in use by another gateway (${describeHolder(holder)}; ${path})`),
  });
  const release = () => {
    try {
      lock.release();
    } catch {
      // a stop must not fail on it: the next start takes a lock left behind over
    }
  };
  return { path: lock.path, record: lock.record, release };
}
