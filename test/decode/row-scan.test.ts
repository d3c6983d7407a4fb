import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { RowScan, ROWS_PER_BATCH } from "../../src/decode/row-scan.js";
import { PREFILTER_SCAN_WASM } from "../../src/decode/prefilter-scan-wasm.js";
import { compileWat, embedSource, EMBED_PATH } from "../../scripts/build-wasm.js";
import { qrFrame, xorshift } from "./helpers.js";
import type { LumaView } from "../../src/decode/luma-read.js";

/**
 * The reference: the JavaScript row scan the WebAssembly one replaced, written plainly. Row y of
 * the 2x box-downscaled view, its prefix sums, and the positions where a pixel turns dark/light
 * against the mean of +/- win pixels by more than `contrast` (hysteresis; clipped at the ends).
 */
function reference(f: LumaView, y: number, win: number, contrast: number): number[] {
  const w = f.width >> 1;
  const row: number[] = [];
  for (let x = 0; x < w; x++) {
    const p = 2 * y * f.stride + 2 * x, q = p + f.stride;
    row.push((f.data[p]! + f.data[p + 1]! + f.data[q]! + f.data[q + 1]! + 2) >> 2);
  }
  const sums = [0];
  for (const v of row) sums.push(sums[sums.length - 1]! + v);
  const out = [0];
  let dark = false;
  for (let x = 0; x < w; x++) {
    const a = Math.max(0, x - win), b = Math.min(w, x + win + 1);
    const mean = (sums[b]! - sums[a]!) / (b - a);
    const v = row[x]!;
    const d: boolean = v < mean - contrast ? true : v > mean + contrast ? false : dark;
    if (d !== dark) out.push(x);
    dark = d;
  }
  out.push(w);
  return out;
}

function noisy(width: number, height: number, stride: number, seed: number): LumaView {
  const data = new Uint8Array(stride * height);
  const next = xorshift(seed);
  // Smooth gradient plus noise: runs of every length, and rows whose ends differ from their middle.
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, ((i % stride) * 255) / width / 2 + 60 + (next() % 61) - 30));
  return { width, height, stride, data };
}

describe("RowScan (WebAssembly)", () => {
  it("the embedded module is wasm/prefilter-scan.wat compiled (run `npm run build:wasm` after editing it)", async () => {
    const bytes = await compileWat();
    expect(Buffer.from(PREFILTER_SCAN_WASM, "base64").equals(Buffer.from(bytes))).toBe(true);
    expect(readFileSync(EMBED_PATH, "utf8")).toBe(embedSource(bytes));
  });

  it("finds the same transitions as the plain JavaScript scan, in batches, for any width and stride", () => {
    const frames: LumaView[] = [
      qrFrame("ROW-SCAN", { width: 640, height: 200, module: 3, x0: 40, y0: 20 }),
      noisy(1920, 140, 1920, 3),
      noisy(642, 140, 644, 5), // odd downscaled width (321): the SIMD loop's scalar tail
      noisy(37, 90, 41, 9), // narrower than two windows: every pixel is near an end
    ];
    const scan = new RowScan();
    let compared = 0;
    for (const f of frames) {
      for (const [y0, step] of [[1, 2], [2, 3]] as const) {
        const h = f.height >> 1;
        const rows = Math.min(ROWS_PER_BATCH, Math.floor((h - 2 - y0) / step) + 1);
        const got = scan.scan(f, y0, step, rows, 24, 6);
        for (let i = 0; i < rows; i++) {
          const want = reference(f, y0 + i * step, 24, 6);
          expect(Array.from(got.tr.subarray(i * got.stride, i * got.stride + got.counts[i]!))).toEqual(want);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });
});
