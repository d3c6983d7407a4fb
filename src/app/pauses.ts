import type { Logger } from "../core/logger.js";
import type { PauseStore } from "../lane/index.js";

/**
 * Which lanes an officer paused, kept in a PauseStore so a paused lane stays paused after a
 * restart. Neither an unreadable nor an unwritable store stops anything: the pause applies in
 * memory either way, and the log says what a restart would lose.
 */
export class LanePauses {
  private readonly paused = new Set<string>();

  constructor(
    private readonly store: PauseStore,
    private readonly log: Logger,
  ) {
    const p = store.load();
    if (p.error) log.warn({ err: p.error }, "paused-lane state unreadable: lanes start unpaused");
    for (const id of p.paused) this.paused.add(id);
    if (this.paused.size > 0) log.info({ lanes: [...this.paused] }, "lanes paused before the restart stay paused");
  }

  has(lane: string): boolean {
    return this.paused.has(lane);
  }

  set(lane: string, paused: boolean): void {
    if (paused) this.paused.add(lane);
    else this.paused.delete(lane);
    this.save();
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
      // The pause itself applies; only its survival across a restart is at risk, so say so.
      this.log.error({ err: (e as Error).message }, "paused-lane state could not be written: a restart would reopen paused lanes");
    }
  }
}
