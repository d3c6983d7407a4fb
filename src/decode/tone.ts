/**
 * Tone passes: a lookup table applied while the frame is copied into the wasm heap, so a tone
 * variant costs one pass over the pixels plus the decode. Measured on real photos (docs/decode.md):
 * zxing's binarizer needs local contrast, and an under- or over-exposed code (a phone screen in a
 * bright hall, a card in shadow next to a bright spot) has its modules squeezed into a few gray
 * levels at one end of the range. A gamma curve that moves the frame's median to mid-gray spreads
 * them again; fixed darken/lighten curves catch what the median misses (a small code in a frame
 * whose median is set by the background).
 */
import type { LumaView } from "./luma-read.js";

/** Every SAMPLE_STEP-th pixel feeds the histogram: enough for a median, ~1% of a frame's cost. */
const SAMPLE_STEP = 7;
/** Gamma is clamped: beyond this a dark frame's noise becomes the image. */
const GAMMA_MIN = 0.25;
const GAMMA_MAX = 4;
/** Close enough to 1 that the curve would change almost nothing: use the frame as it is. */
const GAMMA_SKIP = 0.12;

/** Median gray level of a sample of the frame. */
export function sampledMedian(src: LumaView): number {
  const h = new Uint32Array(256);
  const { width, height, stride, data } = src;
  let n = 0;
  for (let y = 0; y < height; y += 2) {
    const r = y * stride;
    for (let x = (y >> 1) % SAMPLE_STEP; x < width; x += SAMPLE_STEP) {
      h[data[r + x]!]!++;
      n++;
    }
  }
  let acc = 0;
  for (let i = 0; i < 256; i++) {
    acc += h[i]!;
    if (acc * 2 >= n) return i;
  }
  return 255;
}

/** The gamma that maps the median to mid-gray (clamped), or 1 when the frame needs none. */
export function autoGamma(median: number): number {
  const m = Math.min(250, Math.max(5, median)) / 255;
  const g = Math.min(GAMMA_MAX, Math.max(GAMMA_MIN, Math.log(0.5) / Math.log(m)));
  return Math.abs(g - 1) < GAMMA_SKIP ? 1 : g;
}

export function gammaLut(gamma: number): Uint8Array {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = Math.round(255 * Math.pow(i / 255, gamma));
  return t;
}

/**
 * The lookup table widened to two pixels (64K entries, 128 KB), kept for the last table seen: a
 * camera's gamma changes slowly and darken/lighten use fixed tables.
 */
let pairLut: Uint16Array | undefined;
const pairOf = new Uint8Array(256);

function pairTable(lut: Uint8Array): Uint16Array {
  if (pairLut && pairOf.every((v, i) => v === lut[i])) return pairLut;
  pairLut ??= new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) pairLut[i] = lut[i & 255]! | (lut[i >>> 8]! << 8);
  pairOf.set(lut);
  return pairLut;
}

/**
 * Copies a (possibly strided) luma image into a packed destination through a lookup table. The
 * tone pass runs this on every frame, and byte by byte it cost about a third of a 1080p zxing
 * read (docs/decode.md, "Cost floor"); a packed, 4-byte aligned frame goes four pixels per word
 * through the two-pixel table instead (each byte is mapped in place, so byte order does not matter).
 */
export function lutInto(src: LumaView, lut: Uint8Array, dst: Uint8Array): void {
  const { width, height, stride, data } = src;
  const n = width * height;
  if (stride === width && n >= 65536 && data.byteOffset % 4 === 0 && dst.byteOffset % 4 === 0) {
    const t = pairTable(lut);
    const words = n >> 2;
    const s32 = new Uint32Array(data.buffer, data.byteOffset, words);
    const d32 = new Uint32Array(dst.buffer, dst.byteOffset, words);
    for (let i = 0; i < words; i++) {
      const v = s32[i]!;
      d32[i] = (t[v & 0xffff]! | (t[v >>> 16]! << 16)) >>> 0;
    }
    for (let i = words * 4; i < n; i++) dst[i] = lut[data[i]!]!;
    return;
  }
  for (let y = 0; y < height; y++) {
    const s = y * stride;
    const d = y * width;
    for (let x = 0; x < width; x++) dst[d + x] = lut[data[s + x]!]!;
  }
}
