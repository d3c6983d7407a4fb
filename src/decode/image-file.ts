/**
 * One-shot decoding of an image file (CLI `decode`, tests, bench): sharp decodes PNG/JPEG/WebP
 * straight to one gray channel, then the same strategy as the camera path runs in-process
 * (a worker pool would only add start-up time for a single image).
 */
import sharp from "sharp";
import type { DecodedCode } from "../core/types.js";
import { GatewayError } from "../core/errors.js";
import { decodeSection, type DecodePassName } from "./options.js";
import { cameraSchema } from "../ingest/options.js";
import type { DecodePoolOptions } from "./pool.js";
import { loadReaderModule, readVerifiedWasm, type ZXingReaderModule } from "./wasm-loader.js";
import { HeapImage } from "./luma-read.js";
import { runStrategy } from "./strategy.js";
import { PassCosts } from "./pass-costs.js";
import type { Rect } from "./preprocess.js";

/** Files are not real-time: try everything that can help, with a generous budget. */
export const fileDecodeDefaults = {
  passes: ["tone", "crop", "invert", "regrid", "darken", "lighten", "denoise", "quietzone", "harder", "equalize"] as readonly DecodePassName[],
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

/**
 * Decodes an image file to 8-bit gray in its stored orientation (EXIF not applied). With `fit`,
 * the image is resized to fit inside that frame (Lanczos, aspect kept, never enlarged), as a
 * camera of that resolution would see the scene.
 */
export async function readGrayImage(path: string, fit?: { width: number; height: number }): Promise<GrayImage> {
  try {
    let s = sharp(path, { limitInputPixels: MAX_PIXELS, failOn: "error" }).flatten({ background: "#ffffff" }).toColourspace("b-w");
    if (fit) s = s.resize(fit.width, fit.height, { fit: "inside", withoutEnlargement: true, kernel: "lanczos3" });
    const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
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

export interface CameraDecodeResult extends FileDecodeResult {
  /** The frame the camera path decoded (the file fit inside the default camera resolution). */
  frame: { width: number; height: number; passes: readonly DecodePassName[]; budgetMs: number };
}

/**
 * What a live camera frame gets by default: the file is fit inside the default camera frame size
 * (cameras section: 1920x1080) and decoded with the decode section's default passes and
 * per-frame budget. Width, height and corners are reported in the file's pixels.
 */
export async function decodeImageAsCamera(path: string): Promise<CameraDecodeResult> {
  const cam = cameraDefaults();
  const full = await sharp(path, { limitInputPixels: MAX_PIXELS })
    .metadata()
    .catch((e: unknown) => {
      throw new GatewayError("GW_IMAGE_UNREADABLE", `cannot decode image: ${(e as Error).message}`, { cause: e });
    });
  const gray = await readGrayImage(path, { width: cam.width, height: cam.height });
  const r = await decodeGray(gray, { passes: cam.passes, budgetMs: cam.budgetMs });
  const k = (full.width ?? gray.width) / gray.width;
  const codes = r.codes.map((c) => ({ ...c, corners: c.corners.map(([x, y]) => [x * k, y * k]) as DecodedCode["corners"] }));
  return { width: full.width ?? gray.width, height: full.height ?? gray.height, ms: r.ms, codes, frame: { width: gray.width, height: gray.height, passes: cam.passes, budgetMs: cam.budgetMs } };
}

/** The daemon's defaults for a camera frame: frame size (cameras section) and decode passes/budget. */
export function cameraDefaults(): { width: number; height: number; passes: readonly DecodePassName[]; budgetMs: number } {
  const d = decodeSection.parse({});
  return { width: cameraSchema.shape.width.parse(undefined), height: cameraSchema.shape.height.parse(undefined), passes: d.passes, budgetMs: d.budgetMs };
}
