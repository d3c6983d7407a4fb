import type { DecodedCode, Point } from "../core/types.js";
import type { ZXingReaderModule } from "./wasm-loader.js";
import type { EncodedReaderOptions } from "./reader-options.js";

const MIN_SIDE = 21;

export type Quad = [Point, Point, Point, Point];

export interface ReadOut {
  codes: DecodedCode[];
  candidates: Quad[];
  /**
   * Located QR symbols whose format and codewords zxing read but whose Reed-Solomon check failed: the
   * symbol's outer corners (in its own orientation: the top-left is its top-left finder's corner)
   * and its size in modules. A grid to sample modules on (votes.ts).
   */
  grids?: LocatedGrid[];
}

export interface LocatedGrid {
  corners: Quad;
  dim: number;
}

/** A tightly packed 8-bit luminance image living in the wasm heap (see `HeapImage`). */
export interface LumaView {
  width: number;
  height: number;
  stride: number;
  data: Uint8Array;
}

/**
 * A reusable block in the wasm heap holding one packed gray image. Passes write their variant
 * (inverted, equalised, cropped) straight into it, so no per-pass allocation and no RGBA detour.
 */
export class HeapImage {
  private ptr = 0;
  private capacity = 0;
  width = 0;
  height = 0;

  constructor(private readonly mod: ZXingReaderModule) {}

  /** Reserves width*height bytes and returns a view to fill. Views die when the heap grows. */
  reserve(width: number, height: number): Uint8Array {
    const size = width * height;
    if (size > this.capacity) {
      if (this.ptr) this.mod._free(this.ptr);
      this.ptr = this.mod._malloc(size);
      if (!this.ptr) {
        this.capacity = 0;
        throw new Error(`wasm heap: cannot allocate ${size} bytes`);
      }
      this.capacity = size;
    }
    this.width = width;
    this.height = height;
    return this.mod.HEAPU8.subarray(this.ptr, this.ptr + size);
  }

  /** Copies a (possibly strided) luma image in, row by row when stride != width. */
  load(src: LumaView): void {
    const dst = this.reserve(src.width, src.height);
    copyPacked(src, dst);
  }

  /** Light-on-dark codes: XOR a word at a time (malloc returns 8-byte aligned pointers). */
  invertInPlace(): void {
    const size = this.width * this.height;
    const words = size >> 2;
    const w32 = new Uint32Array(this.mod.HEAPU8.buffer, this.ptr, words);
    for (let i = 0; i < words; i++) w32[i] = ~w32[i]!;
    const bytes = this.mod.HEAPU8;
    for (let i = this.ptr + words * 4; i < this.ptr + size; i++) bytes[i] = 255 - bytes[i]!;
  }

  view(): Uint8Array {
    return this.mod.HEAPU8.subarray(this.ptr, this.ptr + this.width * this.height);
  }

  /**
   * Decodes the heap image. With `returnErrors` set in the options, symbols zxing located but could
   * not decode come back as `candidates` (their corners): cheap evidence of where a damaged or
   * washed-out code is, which the crop pass then works on at higher effort.
   */
  read(options: EncodedReaderOptions): ReadOut {
    const candidates: Quad[] = [];
    const grids: LocatedGrid[] = [];
    // zxing throws a C++ exception on degenerate sizes; a QR needs 21 modules anyway.
    if (this.width < MIN_SIDE || this.height < MIN_SIDE) return { codes: [], candidates };
    const vec = this.mod.readBarcodesFromPixmap(this.ptr, this.width, this.height, options);
    try {
      const out: DecodedCode[] = [];
      const n = vec.size();
      for (let i = 0; i < n; i++) {
        const r = vec.get(i);
        if (!r) continue;
        const p = r.position;
        const corners: Quad = [
          [p.topLeft.x, p.topLeft.y],
          [p.topRight.x, p.topRight.y],
          [p.bottomRight.x, p.bottomRight.y],
          [p.bottomLeft.x, p.bottomLeft.y],
        ];
        if (!r.isValid) {
          candidates.push(corners);
          const v = /^\d+$/.test(r.version) ? Number(r.version) : 0;
          // A checksum error: the format and the codewords were read, Reed-Solomon failed. The
          // symbol is real and its size known (a format error says neither).
          if (r.format === "QRCode" && v >= 1 && v <= 40 && r.error.startsWith("ChecksumError")) grids.push({ corners, dim: 17 + 4 * v });
          continue;
        }
        // Micro QR comes back too (zxing reads it with QR), and no credential uses it. Its smallest
        // versions (one finder, 2-3 check codewords) get assembled from a real code's finder and
        // the data beside it: measured, a 6-digit M1 "code" inside a glared, damaged QR code (the
        // clips bench's glare variant). Located ones still count as candidates above: where one
        // is, a real QR code often is too, and its crop reads it (a dev photo).
        if (r.format !== "QRCode") continue;
        // Copy: the result's bytes may be a view into the heap that the next read reuses.
        out.push({ text: r.text, bytes: new Uint8Array(r.bytes), format: "QRCode", corners });
      }
      return { codes: out, candidates, ...(grids.length > 0 ? { grids } : {}) };
    } finally {
      vec.delete();
    }
  }

  free(): void {
    if (this.ptr) this.mod._free(this.ptr);
    this.ptr = 0;
    this.capacity = 0;
  }
}

export function copyPacked(src: LumaView, dst: Uint8Array): void {
  const { width, height, stride, data } = src;
  if (stride === width) {
    dst.set(data.subarray(0, width * height));
    return;
  }
  for (let y = 0; y < height; y++) dst.set(data.subarray(y * stride, y * stride + width), y * width);
}
