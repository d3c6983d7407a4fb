/**
 * Reads shared by the passes: a frame read whole, a re-drawn symbol read as a pure one, and a
 * read's points mapped back to frame coordinates.
 */
import type { DecodedCode, Point } from "../core/types.js";
import type { HeapImage, LumaView, Quad, ReadOut } from "./luma-read.js";
import { baseQrOptions, encodeReaderOptions, type EncodedReaderOptions } from "./reader-options.js";

/**
 * A re-drawn symbol (regrid.ts) is clean, axis-aligned and has its quiet zone: zxing's pure-symbol
 * reader skips finder detection; the plain reader is the fallback for a drawing it rejects.
 */
const PURE = encodeReaderOptions({ ...baseQrOptions, isPure: true });
const PLAIN = encodeReaderOptions(baseQrOptions);

/**
 * A drawn symbol read as a pure one, the plain reader as fallback; undefined when neither reads.
 * Only the codes: what else the reader located is in the drawing, not in the frame.
 */
export function readDrawn(img: HeapImage, image: { width: number; height: number; data: Uint8Array }): ReadOut | undefined {
  img.reserve(image.width, image.height).set(image.data);
  let out = img.read(PURE);
  if (out.codes.length === 0) out = img.read(PLAIN);
  return out.codes.length > 0 ? { codes: out.codes, candidates: [] } : undefined;
}

export function readFull(img: HeapImage, frame: LumaView, opts: EncodedReaderOptions): ReadOut {
  img.load(frame);
  return img.read(opts);
}

export function mapOut(out: ReadOut, f: (p: Point) => Point): ReadOut {
  return {
    codes: out.codes.map((c) => ({ ...c, corners: c.corners.map(f) as DecodedCode["corners"] })),
    candidates: out.candidates.map((q) => q.map(f) as Quad),
    ...(out.grids ? { grids: out.grids.map((g) => ({ corners: g.corners.map(f) as Quad, dim: g.dim })) } : {}),
  };
}
