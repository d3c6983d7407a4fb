/** How far back the rate looks. */
export const FPS_WINDOW_MS = 5_000;

/**
 * Frames per second of the current process, from the times its frames were read. Pure: times are
 * passed in. The owner resets it when a process starts or ends: no process, no frames, and a gap
 * before a new process must not drag its rate down for the next window.
 */
export class FpsMeter {
  private readonly times: number[] = [];

  constructor(private readonly windowMs = FPS_WINDOW_MS) {}

  record(now: number): void {
    this.times.push(now);
    while (this.times.length > 0 && this.times[0]! <= now - this.windowMs) this.times.shift();
  }

  reset(): void {
    this.times.length = 0;
  }

  /**
   * Frame intervals over the time they span, so the rate is right from the second frame of a new
   * process on (a fixed 5 s divisor under-reported for 5 s after every recovery). When frames
   * stop, the silence since the last one counts too, so a stalled camera decays towards 0 instead
   * of keeping its last rate.
   */
  rate(now: number): number {
    const t = this.times.filter((x) => x > now - this.windowMs);
    if (t.length < 2) return 0;
    const first = t[0]!;
    const last = t[t.length - 1]!;
    const interval = (last - first) / (t.length - 1);
    const span = Math.max(last - first, now - first - interval);
    return span > 0 ? ((t.length - 1) * 1000) / span : 0;
  }
}
