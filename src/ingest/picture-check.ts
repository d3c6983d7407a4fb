/**
 * Does the camera still see? A camera can keep delivering frames at full rate while showing
 * nothing useful, and the stall watchdog (frames stopped) cannot tell:
 *  - FROZEN: the picture does not change at all: an encoder or ISP that hangs and repeats its last
 *    picture, a stream relay serving one cached frame. A live sensor's noise, and each keyframe's
 *    new quantisation, move the samples (a smart codec that codes a still scene as skipped blocks
 *    for many seconds is the exception: docs/ingest.md "Picture check").
 *  - BLANK: the picture has no structure: a cap or a hand over the lens, a sensor that returns
 *    black or one grey, a camera turned to a blank wall. Any scene a code could be read in has far
 *    more contrast than sensor noise alone.
 * Each must last `afterMs` of frames before it counts: a traveller standing still in front of the
 * lens for a second is neither. Pure: frames and the monotonic time in, a problem out.
 */

export type PictureProblem = "FROZEN" | "BLANK";

export interface PictureCheckOptions {
  /** A problem counts after this much of continuous frames showing it (ms). */
  afterMs: number;
  /** BLANK: the samples' standard deviation (8-bit levels) is below this. */
  blankStd: number;
}

/** 20 s: past any traveller's pause; the demo clips' longest run of identical frames is 5 s. Std 4: sensor noise of a covered lens is 1-3 levels, a scene tens. */
export const DEFAULT_PICTURE_CHECK: PictureCheckOptions = { afterMs: 20_000, blankStd: 4 };

/** Sample grid: 48 x 27 points (1296 pixel reads per frame; a decode pass reads 2 million at 1080p), the frame's aspect at 1080p. */
const COLS = 48;
const ROWS = 27;
/** A gap in the frames longer than this (a stall, a standby main stream) starts the runs again: no picture, nothing to judge. */
export const PICTURE_GAP_MS = 2000;

export interface PictureFrame {
  width: number;
  height: number;
  stride: number;
  data: Uint8Array;
}

export class PictureCheck {
  private prev = new Uint8Array(COLS * ROWS);
  private cur = new Uint8Array(COLS * ROWS);
  private havePrev = false;
  private frozenSince: number | undefined;
  private blankSince: number | undefined;
  private lastAt: number | undefined;
  /** Sample offsets into the frame buffer, for the frame geometry they were computed for (it rarely changes). */
  private offsets = new Uint32Array(COLS * ROWS);
  private geometry = "";

  constructor(private readonly o: PictureCheckOptions = DEFAULT_PICTURE_CHECK) {}

  observe(f: PictureFrame, now: number): void {
    if (this.lastAt !== undefined && now - this.lastAt > PICTURE_GAP_MS) this.reset();
    const prevAt = this.lastAt ?? now;
    this.lastAt = now;
    const geometry = `${f.width}x${f.height}/${f.stride}`;
    if (geometry !== this.geometry) {
      this.geometry = geometry;
      for (let r = 0; r < ROWS; r++) {
        const row = Math.min(f.height - 1, Math.floor(((r + 0.5) * f.height) / ROWS)) * f.stride;
        for (let c = 0; c < COLS; c++) this.offsets[r * COLS + c] = row + Math.min(f.width - 1, Math.floor(((c + 0.5) * f.width) / COLS));
      }
    }
    const n = COLS * ROWS;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const v = f.data[this.offsets[i]!] ?? 0;
      this.cur[i] = v;
      sum += v;
      sq += v * v;
    }
    const mean = sum / n;
    const std = Math.sqrt(Math.max(0, sq / n - mean * mean));
    const same = this.havePrev && equal(this.cur, this.prev);
    // A run starts at its first frame: for a frozen picture, the one this frame repeats.
    if (same) this.frozenSince ??= prevAt;
    else this.frozenSince = undefined;
    if (std < this.o.blankStd) this.blankSince ??= now;
    else this.blankSince = undefined;
    [this.prev, this.cur] = [this.cur, this.prev];
    this.havePrev = true;
  }

  /** The problem the picture shows now, if it has lasted `afterMs`; none without recent frames. */
  problem(now: number): PictureProblem | undefined {
    if (this.lastAt === undefined || now - this.lastAt > PICTURE_GAP_MS) return undefined;
    // A covered lens is usually also frozen (a flat black repeats exactly): BLANK says more.
    if (this.blankSince !== undefined && now - this.blankSince >= this.o.afterMs) return "BLANK";
    if (this.frozenSince !== undefined && now - this.frozenSince >= this.o.afterMs) return "FROZEN";
    return undefined;
  }

  private reset(): void {
    this.havePrev = false;
    this.frozenSince = undefined;
    this.blankSince = undefined;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
