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
}

// 1% of the frame: a code held up covers far more; a camera's on-screen clock, sensor noise and compression flicker stay below.
export const DEFAULT_GATE: ChangeGateOptions = { step: 8, pixelDelta: 12, minChanged: 0.01, maxSkip: 3, maxSkipInView: 2 };

export class ChangeGate {
  private ref: Uint8Array | undefined;
  private refW = 0;
  private refH = 0;
  private skipped = 0;
  /** Frames skipped since start (for stats). */
  gated = 0;

  constructor(private readonly o: ChangeGateOptions = DEFAULT_GATE) {}

  /** True when the frame should be decoded; records its samples as the new reference if so. */
  admit(f: LumaFrame, view: LaneView): boolean {
    const samples = this.sample(f);
    const sameShape = this.ref !== undefined && this.refW === f.width && this.refH === f.height;
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
    const out = new Uint8Array(cols * rows);
    let k = 0;
    for (let r = 0; r < rows; r++) {
      const row = r * step * f.stride;
      for (let c = 0; c < cols; c++) out[k++] = f.data[row + c * step]!;
    }
    return out;
  }

  private changed(s: Uint8Array): boolean {
    const ref = this.ref!;
    const limit = Math.max(1, Math.floor(s.length * this.o.minChanged));
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const d = s[i]! - ref[i]!;
      if ((d > this.o.pixelDelta || d < -this.o.pixelDelta) && ++n > limit) return true;
    }
    return false;
  }
}
