import type { LumaFrame } from "../core/types.js";

/**
 * Skips decoding frames that show nothing new. At a checkpoint most frames are an empty, still
 * scene, and a frame without a code costs a full scan (every decode pass). The gate compares a
 * sparse grid of pixels with the last frame that WAS decoded, so slow drift adds up and is seen.
 *
 * Never gated: frames while a presentation in view awaits its verdict, and at least one frame
 * in every `maxSkip + 1` (a still code that failed its first read is retried within a few hundred
 * ms). While only decided codes are in view, at most `maxSkipInView` frames in a row are skipped:
 * presence stays fresh (so a held code never seems to leave and return as a replay) at a third
 * of the cost, and a new code appearing is a change, decoded at once.
 */
export type LaneView = "none" | "decided" | "pending";

export interface ChangeGateOptions {
  /** Sample every `step`-th pixel of every `step`-th row. */
  step: number;
  /** A sample changed when its value moved by more than this. */
  pixelDelta: number;
  /** The frame changed when more than this fraction of samples changed. */
  minChanged: number;
  /** At most this many frames in a row are skipped. */
  maxSkip: number;
  /** At most this many in a row while decided codes are in view (keep well under leaveMs). */
  maxSkipInView: number;
  /**
   * Background that always moves: a sample whose activity (see `admit`) is at or above this is
   * left out of the change count. 0 turns it off. 255 never excludes anything.
   */
  volatileAt?: number;
  /**
   * Also changed when, inside any window of 2x2 tiles of `tile` x `tile` samples, more than this
   * fraction of the window's samples changed. Off when unset. The global `minChanged` is sized
   * for a code held up close; a small code (a card at arm's length, a phone further back: 64 px
   * at 1080p) changes a few hundred samples at most and never reaches it, so without this its
   * first frames were skipped and read up to `maxSkip` frames late (bench:e2e's slowest photo
   * showings, 140-160 ms from first appearance to verdict). A 2x2 window of tiles, sliding by
   * one tile, holds every object of up to one tile's size whole, wherever it lies.
   */
  localMinChanged?: number;
  /** Tile side in samples for `localMinChanged` (8 at step 8: 64 px tiles, 128 px windows). */
  tile?: number;
}

// 1% of the frame: a code held up covers far more; a camera's on-screen clock, sensor noise and compression flicker stay below.
// volatileAt 120: a sample must have changed in nearly every frame for about a second (a clock,
// a flickering light or screen, leaves in the wind); a code held up or a moving hand does not.
// localMinChanged 0.12 of a 128 px window: a Version 1 code of 64 px appearing changed 58 of its
// window's 256 samples on bench:e2e's photo clip (bright_spots/image005), a still scene 0.
export const DEFAULT_GATE: ChangeGateOptions = { step: 8, pixelDelta: 12, minChanged: 0.01, maxSkip: 3, maxSkipInView: 2, volatileAt: 120, localMinChanged: 0.12, tile: 8 };

export class ChangeGate {
  private ref: Uint8Array | undefined;
  /** The previous frame's samples (admitted or not) and each sample's recent change activity. */
  private prev: Uint8Array | undefined;
  private activity: Uint8Array | undefined;
  private refW = 0;
  private refH = 0;
  /** Samples per row of the current frame size, and the per-tile change counts (reused). */
  private cols = 0;
  private tiles: Uint32Array | undefined;
  private skipped = 0;
  /** Frames skipped since start (for stats). */
  gated = 0;

  constructor(private readonly o: ChangeGateOptions = DEFAULT_GATE) {}

  /**
   * True when the frame should be decoded; records its samples as the new reference if so.
   * The gate also learns the background's restless parts: each sample's activity rises by 16
   * when it changed since the previous frame and decays by 1/8 otherwise, so only a sample that
   * changes in nearly every frame for about a second reaches `volatileAt` (an on-screen clock,
   * flicker) and stops counting as a change; a code held up is still.
   */
  admit(f: LumaFrame, view: LaneView): boolean {
    const samples = this.sample(f);
    const sameShape = this.ref !== undefined && this.refW === f.width && this.refH === f.height;
    this.learn(samples, sameShape);
    const maxSkip = view === "decided" ? this.o.maxSkipInView : this.o.maxSkip;
    const must = view === "pending" || !sameShape || this.skipped >= maxSkip;
    if (!must && !this.changed(samples)) {
      this.skipped++;
      this.gated++;
      return false;
    }
    this.ref = samples;
    this.refW = f.width;
    this.refH = f.height;
    this.skipped = 0;
    return true;
  }

  private sample(f: LumaFrame): Uint8Array {
    const { step } = this.o;
    const cols = Math.floor(f.width / step);
    const rows = Math.floor(f.height / step);
    this.cols = cols;
    const out = new Uint8Array(cols * rows);
    let k = 0;
    for (let r = 0; r < rows; r++) {
      const row = r * step * f.stride;
      for (let c = 0; c < cols; c++) out[k++] = f.data[row + c * step]!;
    }
    return out;
  }

  private learn(s: Uint8Array, sameShape: boolean): void {
    if (!this.o.volatileAt) return;
    if (!sameShape || !this.prev || !this.activity || this.activity.length !== s.length) {
      this.activity = new Uint8Array(s.length);
      this.prev = s;
      return;
    }
    const a = this.activity, p = this.prev, t = this.o.pixelDelta;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]! - p[i]!;
      a[i] = d > t || d < -t ? Math.min(255, a[i]! + 16) : a[i]! - (a[i]! >> 3);
    }
    this.prev = s;
  }

  private changed(s: Uint8Array): boolean {
    const ref = this.ref!;
    const limit = Math.max(1, Math.floor(s.length * this.o.minChanged));
    const act = this.o.volatileAt ? this.activity : undefined;
    const vol = this.o.volatileAt ?? 256;
    const local = this.o.localMinChanged;
    const cols = this.cols, T = Math.max(1, this.o.tile ?? 8);
    const tc = Math.ceil(cols / T), tr = Math.ceil(s.length / Math.max(1, cols) / T);
    let tiles: Uint32Array | undefined;
    if (local !== undefined && cols > 0) {
      if (!this.tiles || this.tiles.length !== tc * tr) this.tiles = new Uint32Array(tc * tr);
      tiles = this.tiles.fill(0);
    }
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]! - ref[i]!;
      if ((d > this.o.pixelDelta || d < -this.o.pixelDelta) && !(act && act[i]! >= vol)) {
        if (++n > limit) return true;
        if (tiles) tiles[Math.floor(Math.floor(i / cols) / T) * tc + Math.floor((i % cols) / T)]!++;
      }
    }
    if (!tiles || n === 0) return false;
    // Every window of 2x2 tiles (1x1 at an edge of a frame narrower than two tiles).
    const windowLimit = local! * T * T * 4;
    for (let y = 0; y < Math.max(1, tr - 1); y++) {
      for (let x = 0; x < Math.max(1, tc - 1); x++) {
        const y1 = Math.min(y + 1, tr - 1), x1 = Math.min(x + 1, tc - 1);
        let sum = tiles[y * tc + x]!;
        if (x1 !== x) sum += tiles[y * tc + x1]!;
        if (y1 !== y) sum += tiles[y1 * tc + x]! + (x1 !== x ? tiles[y1 * tc + x1]! : 0);
        if (sum > windowLimit) return true;
      }
    }
    return false;
  }
}

/**
 * Activity on a camera's substream (mainStream: on-activity): the gate's test against the last frame
 * that counted as activity, never forced (no maxSkip), learning the restless background the same way.
 */
export function activityDetector(g: ChangeGateOptions = DEFAULT_GATE): (f: LumaFrame) => boolean {
  const gate = new ChangeGate({ ...g, maxSkip: Number.POSITIVE_INFINITY, maxSkipInView: Number.POSITIVE_INFINITY });
  return (f) => gate.admit(f, "none");
}
