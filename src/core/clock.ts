/**
 * Time is injected so supervisors, caches and verdict logic can be tested without sleeps.
 * `now()` is wall-clock epoch ms (for credential validity); `monotonic()` is for durations.
 */
export interface Clock {
  now(): number;
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface TimerHandle {
  readonly id: number;
}

const realTimers = new Map<number, NodeJS.Timeout>();
let realSeq = 0;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms) {
    const id = ++realSeq;
    const t = setTimeout(() => {
      realTimers.delete(id);
      fn();
    }, ms);
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
  fn: () => void;
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
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const p = { id: ++this.seq, at: this.mono + Math.max(0, ms), fn };
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
      next.fn();
    }
    this.wall += target - this.mono;
    this.mono = target;
  }
  setWall(ms: number): void {
    this.wall = ms;
  }
}
