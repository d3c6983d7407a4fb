import type { Logger } from "../core/logger.js";
import type { LaneStatus } from "../core/types.js";
import type { PauseStore } from "../lane/index.js";
import { PAUSE_STATE_UNREADABLE } from "../output/http/readiness.js";
import type { PauseStoreStats } from "../output/metrics/index.js";

/**
 * Which lanes an officer paused, kept in a PauseStore so a paused lane stays paused after a
 * restart (a lane closed for an incident must not reopen after a power cut). A state file that
 * exists but cannot be read (torn, corrupt, unreadable) fails safe: every lane starts paused, out
 * of service on its display, until an officer resumes it; a missing file means none was paused.
 * An unwritable store stops nothing: the pause applies in memory, and the log says what a restart
 * would lose. A lane closed so is not an officer's pause, and is not reported as one: its status
 * carries PAUSE_STATE_UNREADABLE (`annotate`: /readyz, the lane screen) and /metrics
 * `lane_pause_state_unknown` says 1, until an officer pauses or resumes that lane.
 */
export class LanePauses {
  private readonly paused = new Set<string>();
  /** The stored state was unreadable: a lane counts as paused until an officer pauses or resumes one. */
  private unknown: boolean;
  /** Lanes closed because the state was unreadable, on which no officer has decided yet. */
  private readonly held = new Set<string>();
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
    if (this.unknown && !this.paused.has(lane)) {
      this.paused.add(lane);
      this.held.add(lane);
    }
    return this.paused.has(lane);
  }

  set(lane: string, paused: boolean): void {
    // An officer's decision ends the unknown state: the lanes held paused so far stay paused, on
    // record, but still count as held (not an officer's pause) until an officer decides on each.
    this.unknown = false;
    this.held.delete(lane);
    if (paused) this.paused.add(lane);
    else this.paused.delete(lane);
    this.save();
  }

  /** Store failures since start, for /metrics (the log says each once as it happens). */
  stats(): PauseStoreStats {
    return { ...this.errors };
  }

  /** Lanes closed only because the state file was unreadable (for /metrics). */
  unknownLanes(): string[] {
    return [...this.held];
  }

  /** The lane's status, with PAUSE_STATE_UNREADABLE among its problems while it is held closed so. */
  annotate(status: LaneStatus): LaneStatus {
    if (status.state !== "paused" || !this.held.has(status.lane)) return status;
    return { ...status, problems: [...status.problems, PAUSE_STATE_UNREADABLE].sort() };
  }

  /** Lanes removed from the config: a lane added later under the same id starts unpaused. */
  forget(lanes: readonly string[]): void {
    if (lanes.length === 0) return;
    for (const id of lanes) {
      this.paused.delete(id);
      this.held.delete(id);
    }
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
