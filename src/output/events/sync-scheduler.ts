import type { Clock, TimerHandle } from "../../core/clock.js";

export interface SyncSchedulerDeps {
  clock: Clock;
  intervalMs: number;
  /** fsync the spool file's data. */
  syncData(): void;
  /** Write (and, per policy, fsync) the state file. */
  saveState(): void;
  /**
   * A failed data fsync (`data`) or state save (`state`: write, fsync or rename of the state
   * file); the flags stay set, so the next timer tries again.
   */
  onError(step: "data" | "state", e: unknown): void;
}

/**
 * Batches disk syncs: appends (policy `interval`) and state changes (every forwarded or dropped
 * batch) only mark what is dirty, and one timer per interval syncs it. A checkpoint sends a few
 * verdicts a second, a burst after an outage thousands: neither should pay an fsync per event.
 */
export class SyncScheduler {
  private timer: TimerHandle | undefined;
  private dataDirty = false;
  private stateDirty = false;
  private stopped = false;

  constructor(private readonly deps: SyncSchedulerDeps) {}

  /** Appended data waits for the next sync. */
  dataWritten(): void {
    this.dataDirty = true;
    this.schedule();
  }

  /** The state changed; it is saved at the next sync. */
  stateChanged(): void {
    this.stateDirty = true;
    this.schedule();
  }

  /** The state was saved elsewhere (start, compaction, close): the timer need not save it again. */
  stateSaved(): void {
    this.stateDirty = false;
  }

  /** No more timers: close() saves and syncs itself. */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      let step: "data" | "state" = "data";
      try {
        if (this.dataDirty) this.deps.syncData();
        this.dataDirty = false;
        step = "state";
        if (this.stateDirty) {
          this.deps.saveState();
          this.stateDirty = false;
        }
      } catch (e) {
        this.deps.onError(step, e);
      }
    }, this.deps.intervalMs);
  }
}
