/**
 * One-shot decoding of an image file (CLI `decode`, tests, bench): sharp decodes PNG/JPEG/WebP
 * straight to one gray channel, then the same strategy as the camera path runs in-process
 * (a worker pool would only add start-up time for a single image).
 */
import sharp from "sharp";
import type { DecodedCode } from "../core/types.js";
import { GatewayError } from "../core/errors.js";
import type { DecodePassName } from "../config/sections/decode.js";
import type { DecodePoolOptions } from "./pool.js";
import { loadReaderModule, readVerifiedWasm, type ZXingReaderModule } from "./wasm-loader.js";
import { HeapImage } from "./luma-read.js";
import { PassCosts, runStrategy } from "./strategy.js";
import type { Rect } from "./preprocess.js";

/** Files are not real-time: try everything that can help, with a generous budget. */
export const fileDecodeDefaults = {
  passes: ["fast", "crop", "harder", "downscale", "invert", "equalize"] as readonly DecodePassName[],
  budgetMs: 10_000,
};

/** Larger than any phone photo (12 MP) with room, small enough to bound memory on a gateway. */
const MAX_PIXELS = 50_000_000;

let shared: { mod: Promise<ZXingReaderModule>; costs: PassCosts } | undefined;

export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Decodes an image file to 8-bit gray in its stored orientation (EXIF not applied). */
export async function readGrayImage(path: string): Promise<GrayImage> {
  try {
    const { data, info } = await sharp(path, { limitInputPixels: MAX_PIXELS, failOn: "error" })
      .flatten({ background: "#ffffff" })
      .toColourspace("b-w")
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new Error(`expected 1 gray channel, got ${info.channels}`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw new GatewayError("GW_IMAGE_UNREADABLE", `cannot decode image: ${(e as Error).message}`, { cause: e });
  }
}

export interface FileDecodeResult {
  width: number;
  height: number;
  /** Decode time only (reading and image decoding excluded). */
  ms: number;
  codes: DecodedCode[];
}

/** Runs the decode strategy in-process on a packed gray image (file decode, tests, bench). */
export async function decodeGray(img: GrayImage, opts: Partial<DecodePoolOptions> = {}, hint?: Rect): Promise<FileDecodeResult> {
  shared ??= { mod: loadReaderModule(readVerifiedWasm()), costs: new PassCosts() };
  const mod = await shared.mod;
  const heap = new HeapImage(mod);
  try {
    const out = runStrategy(
      heap,
      { frame: { ...img, stride: img.width }, passes: opts.passes ?? fileDecodeDefaults.passes, budgetMs: opts.budgetMs ?? fileDecodeDefaults.budgetMs, ...(hint ? { hint } : {}) },
      shared.costs,
    );
    return { width: img.width, height: img.height, ms: out.decodeMs, codes: out.codes };
  } finally {
    heap.free();
  }
}

export async function decodeImageFile(path: string, opts: Partial<DecodePoolOptions> = {}): Promise<FileDecodeResult> {
  return decodeGray(await readGrayImage(path), opts);
}
