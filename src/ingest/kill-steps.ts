import type { Clock, TimerHandle } from "../core/clock.js";
import type { SpawnedProcess } from "./types.js";

export interface KillHooks {
  /** Has the process's exit been seen? Then no further step is taken. */
  exited(): boolean;
  /** Just before SIGKILL: SIGTERM was ignored for `graceMs`. */
  sigkill(): void;
  /** SIGKILL was not answered within another `graceMs` either: the caller gives the process up. */
  abandon(): void;
}

export interface KillSteps {
  /** The exit was seen: clears the pending steps so no timer outlives the process. */
  cancel(): void;
}

/**
 * Stop in steps: SIGTERM now (ffmpeg closes its output cleanly), SIGKILL after `graceMs`, and if
 * even that is never reported, give the process up after another `graceMs` so a wedged child can
 * never hold a camera forever. Timers run on the injected clock.
 */
export function killInSteps(proc: Pick<SpawnedProcess, "kill">, clock: Clock, graceMs: number, hooks: KillHooks): KillSteps {
  const timers: TimerHandle[] = [];
  proc.kill("SIGTERM");
  timers.push(
    clock.setTimeout(() => {
      if (hooks.exited()) return;
      hooks.sigkill();
      proc.kill("SIGKILL");
      timers.push(
        clock.setTimeout(() => {
          if (hooks.exited()) return;
          hooks.abandon();
        }, graceMs),
      );
    }, graceMs),
  );
  return {
    cancel() {
      for (const t of timers) clock.clearTimeout(t);
      timers.length = 0;
    },
  };
}
