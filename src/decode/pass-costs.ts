/**
 * Per-worker running cost estimates of the decode passes, asked by the strategy's budget rule
 * before each pass. Pure: measured times in, estimates out.
 */
import type { DecodePassName } from "./options.js";

/**
 * Per-worker running cost estimate of each pass (ms per megapixel), to skip what cannot fit.
 * The estimate is the running mean plus three running mean deviations (about the 99th percentile
 * of a normal spread): a pass's cost varies with the frame (denoise on a noisy photo, crops of
 * large symbols), and the budget bounds the p99, not the mean; with the mean alone, the last pass
 * a budget admitted overran it by up to a tenth on the dev photos. Two guards against a trap: one
 * pathological frame (flat noise makes zxing chase thousands of finder candidates) could inflate
 * an estimate so far that the pass is skipped forever, and a skipped pass never gets a new sample.
 * So a sample moves the estimate by at most 2x, and each skip decays it (the mean slowly, the
 * spread faster), so the pass is retried after some frames.
 * `crop` is counted per pixel it crops, and `bend`, the grid fit of a located symbol (grid-fit.ts),
 * per module of the symbol: their cost follows what they work on, not the frame.
 */
export class PassCosts {
  private readonly perMp = new Map<DecodePassName | "bend", { mean: number; dev: number }>();
  estimate(pass: DecodePassName | "bend", pixels: number): number {
    const c = this.perMp.get(pass);
    return c === undefined ? 0 : ((c.mean + 3 * c.dev) * pixels) / 1e6;
  }
  record(pass: DecodePassName | "bend", pixels: number, ms: number): void {
    const v = (ms * 1e6) / Math.max(1, pixels);
    const old = this.perMp.get(pass);
    if (old === undefined) {
      this.perMp.set(pass, { mean: v, dev: 0 });
      return;
    }
    const x = Math.min(v, old.mean * 2);
    this.perMp.set(pass, { mean: old.mean * 0.8 + x * 0.2, dev: old.dev * 0.8 + Math.abs(x - old.mean) * 0.2 });
  }
  skipped(pass: DecodePassName | "bend"): void {
    const old = this.perMp.get(pass);
    if (old !== undefined) this.perMp.set(pass, { mean: old.mean * 0.95, dev: old.dev * 0.85 });
  }
}
