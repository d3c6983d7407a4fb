/**
 * Decides whether a frame may be handed on. After a gap (and at process start), a camera or
 * ffmpeg often delivers buffered old frames in a burst; deciding on them would show a verdict
 * for someone who has already left. So after a gap we hold back until the stream looks live:
 * everything before (closely spaced, hence buffered) is dropped. Live means either of:
 * - SETTLE_FRAMES spacings in a row that are not burst-like (>= FAST of the nominal interval).
 *   Two, not one, because a CPU-starved decoder can space a burst out for one frame.
 * - STEADY_SPACINGS spacings in a row within STEADY_TOLERANCE of their median, that median no
 *   shorter than a live camera's frame interval can be (`minLiveMs`). A camera sending more
 *   frames than `fps` says (PAL 25 against the default 15, a 15 fps substream against 5) never
 *   gives the nominal spacing, and without this it would never go online. A buffered burst
 *   arrives as fast as ffmpeg decodes: a few ms apart, under that floor; a starved decoder's
 *   burst (2, 88, 2 ms) is not steady. The tolerance is wide because a loaded gateway reads
 *   frames late by several ms: +-8 ms on a 40 ms spacing is +-40%.
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
/** Steady spacings that settle a stream faster than configured; more than SETTLE_FRAMES since they are not paced. */
const STEADY_SPACINGS = 4;
const STEADY_TOLERANCE = 0.5;
/** No checkpoint camera sends more than this, and none more than MAX_FPS_RATIO times its configured rate. */
const MAX_CAMERA_FPS = 60;
const MAX_FPS_RATIO = 6;

export class BurstGuard {
  private last: number | undefined;
  private paced = 0;
  private settled = false;
  private typical: number;
  private readonly intervalMs: number;
  private readonly minLiveMs: number;
  /** The last spacings while settling, oldest first. */
  private readonly recent: number[] = [];
  private _settledFps: number | undefined;

  constructor(fps: number) {
    this.intervalMs = 1000 / fps;
    this.typical = this.intervalMs;
    // Jitter: a 60 fps camera's median spacing can fall somewhat below 16.7 ms.
    this.minLiveMs = 0.75 * Math.max(1000 / MAX_CAMERA_FPS, this.intervalMs / MAX_FPS_RATIO);
  }

  /** Call at process start: the first frames of a new process are treated as after a gap. */
  reset(): void {
    this.last = undefined;
    this.unsettle();
    this._settledFps = undefined;
  }

  /**
   * The frame rate the stream settled at, from the spacings that settled it (after a start or a
   * gap); undefined while settling. Lets the owner see a camera sending more than configured.
   */
  get settledFps(): number | undefined {
    return this._settledFps;
  }

  private get gapMs(): number {
    return Math.max(3 * this.intervalMs, 300, 3 * this.typical);
  }

  private unsettle(): void {
    this.settled = false;
    this.paced = 0;
    this.recent.length = 0;
  }

  /** true: deliver; false: drop (burst, or still settling after a gap). */
  accept(now: number): boolean {
    const prev = this.last;
    this.last = now;
    if (prev === undefined) return false;
    const spacing = now - prev;
    if (this.settled) {
      if (spacing >= this.gapMs) {
        this.unsettle();
        return false;
      }
      if (spacing >= FAST * this.intervalMs) this.observe(spacing);
      return true;
    }
    this.recent.push(spacing);
    if (this.recent.length > STEADY_SPACINGS) this.recent.shift();
    if (spacing < FAST * this.intervalMs) this.paced = 0;
    else {
      this.observe(spacing);
      this.paced++;
    }
    const steady = steadyMedian(this.recent, this.minLiveMs);
    if (this.paced < SETTLE_FRAMES && steady === undefined) return false;
    this.settled = true;
    this._settledFps = 1000 / (steady ?? median(this.recent.slice(-SETTLE_FRAMES)));
    return true;
  }

  private observe(spacing: number): void {
    this.typical = Math.min(MAX_TYPICAL_MS, 0.8 * this.typical + 0.2 * spacing);
  }
}

/** The median of STEADY_SPACINGS spacings all within STEADY_TOLERANCE of it and at least `minMs`; else undefined. */
function steadyMedian(spacings: readonly number[], minMs: number): number | undefined {
  if (spacings.length < STEADY_SPACINGS) return undefined;
  const m = median(spacings);
  if (m < minMs) return undefined;
  return spacings.every((s) => Math.abs(s - m) <= STEADY_TOLERANCE * m) ? m : undefined;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
