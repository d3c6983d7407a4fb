/**
 * The prefilter's row scan in WebAssembly (wasm/prefilter-scan.wat, embedded by
 * `npm run build:wasm`): for a batch of rows of the 2x box-downscaled view of a frame, the
 * positions where the colour changes against the local mean (prefilter.ts explains the test).
 * Same arithmetic as the JavaScript it replaced, about twice as fast on the idle path's main
 * thread cost (bench:prefilter, docs/lane.md); test/decode/row-scan.test.ts holds the reference.
 *
 * One instance per thread (the module is instantiated synchronously from ~1 kB of bytes); the
 * views returned by `scan` are valid until its next call.
 */
import type { LumaView } from "./luma-read.js";
import { PREFILTER_SCAN_WASM } from "./prefilter-scan-wasm.js";

/** Scanned rows per call: enough to amortise the call, few enough for an early stop to save work. */
export const ROWS_PER_BATCH = 32;

interface ScanExports {
  memory: WebAssembly.Memory;
  scan: (inPtr: number, width: number, w: number, rows: number, win: number, contrast: number, row: number, sums: number, tr: number, cnt: number) => void;
}

let compiled: WebAssembly.Module | undefined;

export interface ScannedRows {
  /** Row i's transitions start at i * stride: 0, the positions, then w. */
  tr: Int32Array;
  stride: number;
  /** Row i's number of entries in `tr`. */
  counts: Int32Array;
}

export class RowScan {
  private readonly ex: ScanExports;
  private width = -1;
  private layout = { in: 0, row: 0, sums: 0, tr: 0, cnt: 0 };

  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(PREFILTER_SCAN_WASM, "base64"));
    this.ex = new WebAssembly.Instance(compiled, {}).exports as unknown as ScanExports;
  }

  /**
   * Rows y0, y0 + step, ... (`rows` of them) of the downscaled view (w = frame.width >> 1), each
   * from frame rows 2y and 2y + 1. `win` and `contrast` as in PrefilterOptions.
   */
  scan(frame: LumaView, y0: number, step: number, rows: number, win: number, contrast: number): ScannedRows {
    const { width, stride, data } = frame;
    const w = width >> 1;
    this.fit(width);
    const L = this.layout;
    const mem = new Uint8Array(this.ex.memory.buffer);
    for (let i = 0; i < rows; i++) {
      const src = 2 * (y0 + i * step) * stride;
      const dst = L.in + i * 2 * width;
      if (stride === width) mem.set(data.subarray(src, src + 2 * width), dst);
      else {
        mem.set(data.subarray(src, src + width), dst);
        mem.set(data.subarray(src + stride, src + stride + width), dst + width);
      }
    }
    this.ex.scan(L.in, width, w, rows, win, contrast, L.row, L.sums, L.tr, L.cnt);
    const buf = this.ex.memory.buffer;
    return { tr: new Int32Array(buf, L.tr, ROWS_PER_BATCH * (w + 2)), stride: w + 2, counts: new Int32Array(buf, L.cnt, ROWS_PER_BATCH) };
  }

  /** Lays out the memory for frames `width` wide, growing it when needed. */
  private fit(width: number): void {
    if (width === this.width) return;
    const w = width >> 1;
    const align = (n: number) => (n + 15) & ~15;
    const inBytes = ROWS_PER_BATCH * 2 * width;
    const row = align(inBytes);
    const sums = align(row + w + 16);
    const tr = align(sums + (w + 1) * 4);
    const cnt = align(tr + ROWS_PER_BATCH * (w + 2) * 4);
    const need = cnt + ROWS_PER_BATCH * 4;
    const have = this.ex.memory.buffer.byteLength;
    if (need > have) this.ex.memory.grow(Math.ceil((need - have) / 65536));
    this.layout = { in: 0, row, sums, tr, cnt };
    this.width = width;
  }
}
