import type { Clock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import { headerLine, loadSpool, SpoolFile, STATE_FILE, writeState, type LoadedSpool, type SpoolAppendFs, type SpoolState } from "./spool-file.js";
import { SyncScheduler } from "./sync-scheduler.js";

export type FsyncPolicy = "always" | "interval" | "never";

export interface SpoolDiskOptions {
  dir: string;
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  /** The spool file is rewritten without forwarded records once it is this big. */
  compactBytes: number;
  clock: Clock;
  log: Logger;
  /** The spool file's append calls (a seam: a test injects a short write; production uses node:fs). */
  fs?: SpoolAppendFs;
}

/**
 * Forwarded records are cut from the file only once it has grown past `compactBytes`, and not while
 * the pending records make up more than half of it (the rewrite would barely shrink it): so the
 * state write before a rewrite happens every few thousand events, not per batch.
 */
export function shouldCompact(fileSize: number, compactBytes: number, pendingCount: number, pendingBytes: number): boolean {
  if (fileSize < compactBytes) return false;
  return !(pendingCount > 0 && fileSize < pendingBytes * 2);
}

/** Disk failures since start, for /metrics (events_spool_*_errors_total, events_spool_degraded). */
export interface SpoolDiskErrors {
  /** Writes that failed: record appends, state file saves, compaction rewrites. */
  writeErrors: number;
  /** fsync or close calls that failed: records perhaps not on disk. */
  fsyncErrors: number;
  /** Compactions that failed (each also counted as a write or fsync error). */
  compactionErrors: number;
}

/**
 * What `load` found on disk when the spool started, for /metrics (events_spool_recovered_at_start,
 * events_spool_records_damaged_total, events_spool_state_recovered, events_spool_state_lost).
 */
export interface SpoolRecovery {
  /** Records the last run left pending, queued again for the stream. */
  recoveredAtStart: number;
  /** Lines that could not be read back and were dropped (torn or damaged): events perhaps never forwarded. */
  recordsDamaged: number;
  /** The state file was missing; the spool file's header gave the epoch and position floor. */
  stateRecovered: boolean;
  /** State file and header both missing: a new epoch, so the stream may get pending events twice. */
  stateLost: boolean;
}

/** The wait after a failed compaction before the next try. */
export const COMPACT_RETRY_MS = 10_000;

/** Node's fs errors name the failing call; fsync and close failures lose durability, not the write. */
const isSyncError = (e: unknown): boolean => {
  const call = (e as { syscall?: unknown } | null)?.syscall;
  return call === "fsync" || call === "fdatasync" || call === "close";
};

/** The disk operations whose failures are logged once per episode (and again when they work). */
type DiskOp = "fsync" | "state";

/** The error's message and the call that failed (Node's `syscall`: write, fsync, rename, open...). */
function failureFields(e: unknown): { err: string; op?: string } {
  const call = (e as { syscall?: unknown } | null)?.syscall;
  return { err: e instanceof Error ? e.message : String(e), ...(typeof call === "string" ? { op: call } : {}) };
}

/**
 * The spool's disk side: the append-only file, the state file (epoch, `doneN`), the fsync policy
 * and compaction. Disk errors are logged here and never thrown at the spool's callers, except at
 * start (a spool that cannot open its directory must not pretend to be durable).
 */
export class SpoolDisk {
  state: SpoolState = { epoch: "", doneN: 0 };
  private file: SpoolFile | undefined;
  private failed = false;
  /** The highest position whose append failed and that is in memory only (0: none). */
  private memoryOnlyUpTo = 0;
  private readonly sync: SyncScheduler;
  /** After a failed compaction: no new try before this monotonic time. */
  private compactRetryAt: number | undefined;
  readonly errors: SpoolDiskErrors = { writeErrors: 0, fsyncErrors: 0, compactionErrors: 0 };
  /** Operations failing now: a full disk fails every sync, so each is logged when it starts and ends. */
  private readonly failing = new Set<DiskOp>();
  recovery: SpoolRecovery = { recoveredAtStart: 0, recordsDamaged: 0, stateRecovered: false, stateLost: false };

  constructor(private readonly o: SpoolDiskOptions) {
    this.sync = new SyncScheduler({
      clock: o.clock,
      intervalMs: o.fsyncIntervalMs,
      syncData: () => {
        this.counted(() => this.file?.fsync());
        this.worked("fsync");
      },
      saveState: () => {
        this.counted(() => writeState(o.dir, this.state, o.fsync !== "never"));
        this.worked("state");
      },
      onError: (step, e) => this.failedOp(step === "data" ? "fsync" : "state", e),
    });
  }

  /**
   * True while records whose append failed are in memory only: until they are forwarded or dropped
   * (markDone passes them) or a rewrite puts every pending record back on disk.
   */
  get degraded(): boolean {
    return this.memoryOnlyUpTo > 0;
  }

  /**
   * Reads what the last run left (state, pending records, at most `maxBytes` of them, the newest) and
   * reports damage it had to skip. The caller reports `droppedOverBound` with its other bound drops.
   */
  load(appendedAt: number, maxBytes = Infinity): LoadedSpool {
    const loaded = loadSpool(this.o.dir, appendedAt, maxBytes);
    this.state = loaded.state;
    const log = this.o.log;
    const n = loaded.pending.length;
    this.recovery = { recoveredAtStart: n, recordsDamaged: loaded.badLines, stateRecovered: loaded.stateRecovered, stateLost: loaded.stateLost };
    if (loaded.badLines) log.warn({ badLines: loaded.badLines }, "spool had unreadable lines (torn write at a crash); they were skipped");
    if (loaded.stateLost) log.warn({ pending: n }, "spool state file and header missing: pending events are resent under a new epoch (the stream may get duplicates; consumers dedupe by id)");
    if (loaded.stateRecovered) log.warn({ pending: n, epoch: loaded.state.epoch }, "spool state file missing: epoch and position floor recovered from the spool file's header");
    return loaded;
  }

  /** Saves the loaded state durably and rewrites the file to hold only `pendingLines` (drops torn lines). */
  open(pendingLines: string[]): void {
    this.saveState(true);
    this.file = new SpoolFile(this.o.dir, () => headerLine(this.state), this.o.fs);
    this.file.rewrite(pendingLines);
  }

  get isOpen(): boolean {
    return this.file !== undefined;
  }

  /**
   * Writes one record line per the fsync policy. `pending` only goes into the failure log; `n` (the
   * record's position) lets the degraded flag clear once that record is forwarded.
   */
  append(line: string, pending: number, n: number): void {
    try {
      this.counted(() => {
        this.file!.append(line);
        if (this.o.fsync === "always") this.file!.fsync();
        else if (this.o.fsync === "interval") this.sync.dataWritten();
      });
      this.failed = false;
    } catch (e) {
      // A full or failing disk must not cost the event: it is still forwarded from memory.
      if (!isSyncError(e)) this.memoryOnlyUpTo = Math.max(this.memoryOnlyUpTo, n);
      if (!this.failed) this.o.log.error({ err: (e as Error).message, pending }, "spool write failed: events kept in memory only until the disk recovers");
      this.failed = true;
    }
  }

  /** Every position <= n was forwarded or dropped; saved with the next sync, not at once. */
  markDone(n: number): void {
    this.state.doneN = Math.max(this.state.doneN, n);
    if (this.memoryOnlyUpTo <= n) this.memoryOnlyUpTo = 0;
    this.sync.stateChanged();
  }

  /** Redis acknowledged every position <= n under `marker` at wall-clock `at` (and they are done). */
  markAcked(n: number, at: number, marker: string): void {
    const before = this.state.acked?.marker === marker ? this.state.acked.n : 0;
    this.state.acked = { n: Math.max(before, n), at, marker };
    this.markDone(n);
  }

  /**
   * Redis reaches only position `reach` of what it acknowledged, and the records from `firstHeld` on
   * are queued again: they are not done any more (a restart must load them) and Redis is asked
   * about `reach` from now on. Saved at once, per the fsync policy.
   */
  rollBack(reach: number, firstHeld: number | undefined): void {
    if (this.state.acked) this.state.acked = { ...this.state.acked, n: reach };
    if (firstHeld !== undefined) this.state.doneN = Math.min(this.state.doneN, firstHeld - 1);
    try {
      this.counted(() => this.saveState(this.o.fsync !== "never"));
    } catch (e) {
      // The timer tries again. Until then a crash restarts from the old state, which counts the
      // records put back as done: they would not be sent again.
      this.sync.stateChanged();
      this.failing.add("state");
      this.o.log.error({ code: "GW_SPOOL_STATE_WRITE", file: STATE_FILE, ...failureFields(e) }, "spool state file not saved after a Redis rollback; retried at every sync");
    }
  }

  /**
   * Rewrites the file without forwarded records when it is big enough (see shouldCompact). The
   * state goes to disk first (fsynced per policy): it must be there before records vanish, or
   * positions could be reused after a power loss.
   */
  compact(pendingCount: number, pendingBytes: number, pendingLines: () => string[]): void {
    const file = this.file;
    if (!file || !shouldCompact(file.size, this.o.compactBytes, pendingCount, pendingBytes)) return;
    // A full spool asks on every verdict; after a failure (a full disk) each try would write up to
    // the whole bound again, so the next one waits.
    if (this.compactRetryAt !== undefined && this.o.clock.monotonic() < this.compactRetryAt) return;
    try {
      this.counted(() => {
        this.saveState(this.o.fsync !== "never");
        file.rewrite(pendingLines());
      });
      // Every pending record is on disk again, those whose append failed included.
      this.memoryOnlyUpTo = 0;
      this.compactRetryAt = undefined;
    } catch (e) {
      this.errors.compactionErrors++;
      this.compactRetryAt = this.o.clock.monotonic() + COMPACT_RETRY_MS;
      this.o.log.error({ err: e, retryInMs: COMPACT_RETRY_MS }, "spool compaction failed; the file keeps forwarded records until the next try");
    }
  }

  /** fsync now (flush), logging a failure rather than throwing it. */
  syncNow(): void {
    try {
      this.counted(() => this.file?.fsync());
      this.worked("fsync");
    } catch (e) {
      this.failedOp("fsync", e);
    }
  }

  /** No more timed syncs (the start of a close). */
  stopTimer(): void {
    this.sync.stop();
  }

  /** Saves the state durably and closes the file (fsynced). */
  close(): void {
    this.sync.stop();
    if (!this.file) return;
    this.saveState(true);
    this.file.close();
  }

  /** Runs a disk operation, counting its failure as a write or an fsync error, and rethrows it. */
  private counted(op: () => void): void {
    try {
      op();
    } catch (e) {
      if (isSyncError(e)) this.errors.fsyncErrors++;
      else this.errors.writeErrors++;
      throw e;
    }
  }

  private saveState(sync: boolean): void {
    writeState(this.o.dir, this.state, sync);
    this.sync.stateSaved();
    this.worked("state");
  }

  /**
   * Logs a failed spool fsync or state save when it starts failing, not at every retry (a full disk
   * fails each sync, once a second): the error message and the failing call, no stack.
   */
  private failedOp(op: DiskOp, e: unknown): void {
    if (this.failing.has(op)) return;
    this.failing.add(op);
    const f = failureFields(e);
    if (op === "state") {
      this.o.log.error(
        { code: "GW_SPOOL_STATE_WRITE", file: STATE_FILE, ...f },
        "spool state file not saved; retried at every sync (until then a restart resumes from the older forwarded position: the Redis marker skips what was sent)",
      );
    } else this.o.log.error(f, "spool fsync failed: appended events may not be on disk; retried at every sync");
  }

  private worked(op: DiskOp): void {
    if (!this.failing.delete(op)) return;
    if (op === "state") this.o.log.info({ code: "GW_SPOOL_STATE_WRITE", file: STATE_FILE }, "spool state file saved again");
    else this.o.log.info("spool fsync works again");
  }
}
