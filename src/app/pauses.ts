import type { Logger } from "../core/logger.js";
import type { PauseStore } from "../lane/index.js";
import type { PauseStoreStats } from "../output/metrics/index.js";

/**
 * Which lanes an officer paused, kept in a PauseStore so a paused lane stays paused after a
 * restart (a lane closed for an incident must not reopen after a power cut). A state file that
 * exists but cannot be read (torn, corrupt, unreadable) fails safe: every lane starts paused, out
 * of service on its display, until an officer resumes it; a missing file means none was paused.
 * An unwritable store stops nothing: the pause applies in memory, and the log says what a restart
 * would lose.
 */
export class LanePauses {
  private readonly paused = new Set<string>();
  /** The stored state was unreadable: a lane counts as paused until an officer pauses or resumes one. */
  private unknown: boolean;
  private readonly errors: PauseStoreStats = { loadErrors: 0, saveErrors: 0 };

  constructor(
    private readonly store: PauseStore,
    private readonly log: Logger,
  ) {
    const p = store.load();
    this.unknown = p.error !== undefined;
    if (p.error) {
      this.errors.loadErrors++;
      log.error({ code: "GW_PAUSE_STATE_UNREADABLE", err: p.error }, "paused-lane state unreadable: every lane starts paused until an officer resumes it");
    }
    for (const id of p.paused) this.paused.add(id);
    if (this.paused.size > 0) log.info({ lanes: [...this.paused] }, "lanes paused before the restart stay paused");
  }

  has(lane: string): boolean {
    if (this.unknown) this.paused.add(lane);
    return this.paused.has(lane);
  }

  set(lane: string, paused: boolean): void {
    // An officer's decision ends the unknown state: the lanes held paused so far stay paused, on record.
    this.unknown = false;
    if (paused) this.paused.add(lane);
    else this.paused.delete(lane);
    this.save();
  }

  /** Store failures since start, for /metrics (the log says each once as it happens). */
  stats(): PauseStoreStats {
    return { ...this.errors };
  }

  /** Lanes removed from the config: a lane added later under the same id starts unpaused. */
  forget(lanes: readonly string[]): void {
    if (lanes.length === 0) return;
    for (const id of lanes) this.paused.delete(id);
    this.save();
  }

  private save(): void {
    try {
      this.store.save(this.paused);
    } catch (e) {
      this.errors.saveErrors++;
      // The pause itself applies; only its survival across a restart is at risk, so say so.
      this.log.error({ err: (e as Error).message }, "paused-lane state could not be written: a restart would reopen paused lanes");
    }
  }
}
