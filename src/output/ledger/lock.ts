import { acquireDirLock, type LockRecord } from "../../core/dir-lock.js";

export const LOCK_FILE = "ledger.lock";

/**
 * Another live process writes this ledger (two gateways sharing gateway.stateDir): a second
 * writer would interleave a second chain into the same files, so this one stays off.
 */
export class LedgerLockedError extends Error {
  readonly code = "GW_LEDGER_LOCKED";
  constructor(
    readonly path: string,
    readonly holder: LockRecord,
  ) {
    const since = Number.isFinite(holder.startedAt) ? new Date(holder.startedAt).toISOString() : "an unknown time";
    super(`ledger ${path} is held by pid ${holder.pid} on ${holder.host || "this host"} since ${since}: another gateway writes this ledger (gateway.stateDir shared?)`);
    this.name = "LedgerLockedError";
  }
}

/**
 * Takes the ledger directory's lock or throws LedgerLockedError; returns the release. The rules
 * (live holder, stale takeover with `warn`) are core/dir-lock.ts's, shared with gateway.lock.
 */
export function lockLedgerDir(dir: string, warn: (msg: string, fields: object) => void = () => {}): () => void {
  const lock = acquireDirLock(dir, LOCK_FILE, { what: "ledger", warn, refuse: (holder, path) => new LedgerLockedError(path, holder) });
  return lock.release;
}
