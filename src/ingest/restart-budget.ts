import { backoffDelay } from "./backoff.js";
import { EventWindow } from "./event-window.js";
import type { CameraConfig } from "./types.js";

export type RestartPolicy = Pick<CameraConfig, "restartBudget" | "restartWindowMs" | "failedRetryMs" | "backoffInitialMs" | "backoffMaxMs" | "backoffJitter">;

/** When and in which state the next ffmpeg starts. */
export interface RestartPlan {
  delayMs: number;
  state: "backoff" | "failed";
  /** This exit took the camera over its budget: the one moment GW_CAMERA_FAILED is reported. */
  newlyFailed: boolean;
  /** Backoff steps taken since the last good frame, this one included. */
  attempt: number;
  /** Counted exits within the window, this one included. */
  restartsInWindow: number;
}

/**
 * The restart schedule of one camera: capped exponential backoff with jitter, reset by the first
 * good frame, and a budget of counted exits per window. Over the budget the camera is failed and
 * retried every `failedRetryMs` until a good frame, so a crash loop neither spins nor gives up for
 * good. Which exits count is the caller's decision (exit-policy.ts). Pure: times are passed in,
 * `random` (0 <= r < 1) is injected for the jitter.
 */
export class RestartBudget {
  private readonly restarts: EventWindow;
  private attempt = 0;
  private isFailed = false;

  constructor(
    private readonly p: RestartPolicy,
    private readonly random: () => number = Math.random,
  ) {
    this.restarts = new EventWindow(p.restartWindowMs);
  }

  get failed(): boolean {
    return this.isFailed;
  }

  restartsInWindow(now: number): number {
    return this.restarts.count(now);
  }

  /** A fresh start() begins at the initial delay; a failed camera stays failed until a good frame. */
  resetBackoff(): void {
    this.attempt = 0;
  }

  /** The first good frame of a process; true if that ends a failed state. */
  recovered(): boolean {
    const was = this.isFailed;
    this.attempt = 0;
    this.isFailed = false;
    return was;
  }

  /** `counted`: the exit looks like part of a crash loop and spends the budget. */
  next(counted: boolean, now: number): RestartPlan {
    if (counted) this.restarts.add(now);
    const restartsInWindow = this.restarts.count(now);
    if (counted && restartsInWindow > this.p.restartBudget) {
      const newlyFailed = !this.isFailed;
      this.isFailed = true;
      return { delayMs: this.p.failedRetryMs, state: "failed", newlyFailed, attempt: this.attempt, restartsInWindow };
    }
    if (this.isFailed) return { delayMs: this.p.failedRetryMs, state: "failed", newlyFailed: false, attempt: this.attempt, restartsInWindow };
    const delayMs = backoffDelay(this.attempt++, { initialMs: this.p.backoffInitialMs, maxMs: this.p.backoffMaxMs, jitter: this.p.backoffJitter }, this.random);
    return { delayMs, state: "backoff", newlyFailed: false, attempt: this.attempt, restartsInWindow };
  }
}
