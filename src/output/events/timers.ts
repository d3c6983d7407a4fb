import type { Clock } from "../../core/clock.js";

/**
 * Rejects when `p` has not settled after `ms` on the injected clock. The command itself is not
 * cancelled (Redis may still apply it): callers rely on the forward script's marker, not on this.
 */
export function withTimeout<T>(clock: Clock, p: Promise<T>, ms: number, what = "redis command"): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = clock.setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clock.clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clock.clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * One pause at a time that `wake()` can end early: the pump sleeps between retries and the Redis
 * client's `ready` event (or a close) wakes it instead of a fast poll.
 */
export class WakeableSleep {
  private waker: (() => void) | undefined;

  constructor(private readonly clock: Clock) {}

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.clock.setTimeout(() => {
        this.waker = undefined;
        resolve();
      }, ms);
      this.waker = () => {
        this.clock.clearTimeout(t);
        this.waker = undefined;
        resolve();
      };
    });
  }

  /** Ends the current pause now; a no-op when nothing sleeps. */
  wake(): void {
    this.waker?.();
  }
}
