/**
 * Decides whether a frame may be handed on. After a gap (and at process start), a camera or
 * ffmpeg often delivers buffered old frames in a burst; deciding on them would show a verdict
 * for someone who has already left. So after a gap we hold back until frames arrive at normal
 * pacing for SETTLE_FRAMES spacings in a row: everything before (closely spaced, hence
 * buffered) is dropped. Two spacings, not one, because a CPU-starved decoder can space a
 * burst out by chance for one frame. Pure: times are passed in.
 */
const SETTLE_FRAMES = 2;
/** A spacing of at least this fraction of the nominal interval counts as paced. */
const PACED = 0.75;

export class BurstGuard {
  private last: number | undefined;
  private paced = 0;
  private readonly intervalMs: number;
  private readonly gapMs: number;

  constructor(fps: number) {
    this.intervalMs = 1000 / fps;
    this.gapMs = Math.max(3 * this.intervalMs, 300);
  }

  /** Call at process start: the first frames of a new process are treated as after a gap. */
  reset(): void {
    this.last = undefined;
    this.paced = 0;
  }

  /** true: deliver; false: drop (burst, or still settling after a gap). */
  accept(now: number): boolean {
    const prev = this.last;
    this.last = now;
    if (prev === undefined) return false;
    const spacing = now - prev;
    if (spacing >= this.gapMs) {
      this.paced = 0;
      return false;
    }
    if (this.paced >= SETTLE_FRAMES) return true;
    this.paced = spacing >= PACED * this.intervalMs ? this.paced + 1 : 0;
    return this.paced >= SETTLE_FRAMES;
  }
}
