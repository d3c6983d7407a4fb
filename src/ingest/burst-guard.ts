/**
 * Decides whether a frame may be handed on. After a gap (and at process start), a camera or
 * ffmpeg often delivers buffered old frames in a burst; deciding on them would show a verdict
 * for someone who has already left. So after a gap we hold back until SETTLE_FRAMES spacings in
 * a row are not burst-like: everything before (closely spaced, hence buffered) is dropped.
 * Two spacings, not one, because a CPU-starved decoder can space a burst out for one frame.
 *
 * A stream slower than configured must never be blocked: "gap" is relative to the spacing
 * actually observed (EWMA), and while settling a slow spacing counts as paced, since frames
 * far apart cannot be a burst. Pure: times are passed in.
 */
const SETTLE_FRAMES = 2;
/** A spacing below this fraction of the nominal interval is burst-like. */
const FAST = 0.75;
/** The observed-spacing estimate is capped so a real stall is never absorbed as "normal". */
const MAX_TYPICAL_MS = 1000;

export class BurstGuard {
  private last: number | undefined;
  private paced = 0;
  private typical: number;
  private readonly intervalMs: number;

  constructor(fps: number) {
    this.intervalMs = 1000 / fps;
    this.typical = this.intervalMs;
  }

  /** Call at process start: the first frames of a new process are treated as after a gap. */
  reset(): void {
    this.last = undefined;
    this.paced = 0;
  }

  private get gapMs(): number {
    return Math.max(3 * this.intervalMs, 300, 3 * this.typical);
  }

  /** true: deliver; false: drop (burst, or still settling after a gap). */
  accept(now: number): boolean {
    const prev = this.last;
    this.last = now;
    if (prev === undefined) return false;
    const spacing = now - prev;
    const settled = this.paced >= SETTLE_FRAMES;
    if (spacing >= this.gapMs && settled) {
      this.paced = 0;
      return false;
    }
    if (spacing < FAST * this.intervalMs) {
      if (settled) return true;
      this.paced = 0;
      return false;
    }
    this.typical = Math.min(MAX_TYPICAL_MS, 0.8 * this.typical + 0.2 * spacing);
    if (settled) return true;
    this.paced++;
    return this.paced >= SETTLE_FRAMES;
  }
}
