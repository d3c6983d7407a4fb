/** Timestamps of events within a sliding window (reconnects/stalls in the last hour, restart budget). */
export class EventWindow {
  private times: number[] = [];
  /** Events since construction (never pruned): what a Prometheus counter needs. */
  total = 0;
  constructor(private readonly windowMs: number) {}

  add(at: number): void {
    this.total++;
    this.times.push(at);
    this.prune(at);
  }

  count(now: number): number {
    this.prune(now);
    return this.times.length;
  }

  clear(): void {
    this.times = [];
  }

  private prune(now: number): void {
    const from = now - this.windowMs;
    let i = 0;
    while (i < this.times.length && this.times[i]! <= from) i++;
    if (i > 0) this.times.splice(0, i);
  }
}
