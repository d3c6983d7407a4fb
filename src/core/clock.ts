import { runGuarded } from "./faults.js";

/**
 * Time is injected so supervisors, caches and verdict logic can be tested without sleeps.
 * `now()` is wall-clock epoch ms (for credential validity); `monotonic()` is for durations.
 *
 * Every timer callback is guarded: a synchronous throw or a rejected promise it returns is
 * recorded as a fault (src/core/faults.ts: logged by the app, counted in /metrics) and never
 * reaches the process, so no timer can take the gateway down. `label` names the timer in that
 * record (module.purpose); it must never carry payload data.
 */
export interface Clock {
  now(): number;
  monotonic(): number;
  setTimeout(fn: () => unknown, ms: number, label?: string): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's setTimeout overflows above 2^31-1 ms and then fires after 1 ms: clamp instead. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A delay every Clock can take: never negative, never past MAX_TIMER_MS (stages clamp before an injected clock). */
export const clampTimerMs = (ms: number): number => Math.min(Math.max(0, ms), MAX_TIMER_MS);

export interface TimerHandle {
  readonly id: number;
}

const realTimers = new Map<number, NodeJS.Timeout>();
let realSeq = 0;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms, label = "timer") {
    const id = ++realSeq;
    const t = setTimeout(() => {
      realTimers.delete(id);
      runGuarded(fn, label, "timer");
    }, clampTimerMs(ms));
    realTimers.set(id, t);
    return { id };
  },
  clearTimeout(handle) {
    const t = realTimers.get(handle.id);
    if (t) clearTimeout(t);
    realTimers.delete(handle.id);
  },
};

interface Pending {
  id: number;
  at: number;
  fn: () => unknown;
  label: string;
}

/** A manual clock: `advance(ms)` fires due timers in order, so tests are deterministic. */
export class FakeClock implements Clock {
  private mono = 0;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(private wall = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
  setTimeout(fn: () => unknown, ms: number, label = "timer"): TimerHandle {
    const p = { id: ++this.seq, at: this.mono + Math.max(0, ms), fn, label };
    this.pending.push(p);
    return { id: p.id };
  }
  clearTimeout(handle: TimerHandle): void {
    this.pending = this.pending.filter((p) => p.id !== handle.id);
  }
  /** Number of timers still waiting; lets tests assert that nothing busy-loops. */
  get pendingCount(): number {
    return this.pending.length;
  }
  advance(ms: number): void {
    const target = this.mono + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.pending[0];
      if (!next || next.at > target) break;
      this.pending.shift();
      this.wall += next.at - this.mono;
      this.mono = next.at;
      // Same guard as the system clock: tests see what production does.
      runGuarded(next.fn, next.label, "timer");
    }
    this.wall += target - this.mono;
    this.mono = target;
  }
  setWall(ms: number): void {
    this.wall = ms;
  }
}
