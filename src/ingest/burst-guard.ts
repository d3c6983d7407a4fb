/**
 * Decides whether a frame may be handed on. After a gap (and at process start), a camera or
 * ffmpeg often delivers buffered old frames in a burst; deciding on them would show a verdict
 * for someone who has already left. So after a gap we hold back until a frame arrives at
 * normal pacing: every frame before it (closely spaced, hence buffered) is dropped.
 * Pure: times are passed in.
 */
export class BurstGuard {
  private last: number | undefined;
  private settling = true;
  private readonly intervalMs: number;
  private readonly gapMs: number;

  constructor(fps: number) {
    this.intervalMs = 1000 / fps;
    this.gapMs = Math.max(3 * this.intervalMs, 300);
  }

  /** Call at process start: the first frames of a new process are treated as after a gap. */
  reset(): void {
    this.last = undefined;
    this.settling = true;
  }

  /** true: deliver; false: drop (burst or first frame after a gap). */
  accept(now: number): boolean {
    const prev = this.last;
    this.last = now;
    if (prev === undefined) return false;
    const spacing = now - prev;
    if (spacing >= this.gapMs) {
      this.settling = true;
      return false;
    }
    if (this.settling) {
      if (spacing >= 0.5 * this.intervalMs) {
        this.settling = false;
        return true;
      }
      return false;
    }
    return true;
  }
}
