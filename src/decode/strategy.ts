/**
 * The per-frame decode strategy: a cheap QR-only pass first, then escalation passes in the
 * configured order, each only while the frame's time budget lasts and nothing was found yet.
 * Runs inside a worker (or in-process for one-shot file decoding); no logger, no clock singleton.
 */
import type { DecodedCode, Point } from "../core/types.js";
import type { DecodePassName } from "../config/sections/decode.js";
import { HeapImage, type LumaView } from "./luma-read.js";
import { baseQrOptions, encodeReaderOptions, type EncodedReaderOptions } from "./reader-options.js";
import { cropScaleInto, downscale2Into, localStretchInto, type Rect } from "./preprocess.js";

export interface StrategyInput {
  frame: LumaView;
  passes: readonly DecodePassName[];
  budgetMs: number;
  /** Where a code was recently seen on this camera (frame coordinates), for the crop pass. */
  hint?: Rect;
}

export interface StrategyOutput {
  codes: DecodedCode[];
  passes: DecodePassName[];
  foundBy?: DecodePassName;
  decodeMs: number;
}

const FAST = encodeReaderOptions(baseQrOptions);
const HARDER = encodeReaderOptions({ ...baseQrOptions, tryHarder: true });

/** Below this side length (px) a hinted crop is upscaled 2x before decoding. */
const SMALL_CODE_PX = 160;

type PassFn = (img: HeapImage, frame: LumaView, hint: Rect | undefined) => DecodedCode[] | undefined;

const passes: Record<DecodePassName, PassFn> = {
  fast: (img, frame) => readFull(img, frame, FAST),
  harder: (img, frame) => readFull(img, frame, HARDER),
  downscale: (img, frame) => {
    downscale2Into(frame, img.reserve(frame.width >> 1, frame.height >> 1));
    return mapCodes(img.read(FAST), (p) => [p[0] * 2, p[1] * 2]);
  },
  invert: (img, frame) => {
    img.load(frame);
    img.invertInPlace();
    return img.read(FAST);
  },
  equalize: (img, frame) => {
    localStretchInto(frame, img.reserve(frame.width, frame.height));
    return img.read(HARDER);
  },
  crop: (img, frame, hint) => {
    if (!hint) return undefined;
    const scale = Math.max(hint.w, hint.h) < SMALL_CODE_PX * 2 ? 2 : 1;
    const dst = img.reserve(Math.max(1, Math.round(hint.w * scale)), Math.max(1, Math.round(hint.h * scale)));
    cropScaleInto(frame, hint, scale, dst);
    return mapCodes(img.read(HARDER), (p) => [hint.x + p[0] / scale, hint.y + p[1] / scale]);
  },
};

function readFull(img: HeapImage, frame: LumaView, opts: EncodedReaderOptions): DecodedCode[] {
  img.load(frame);
  return img.read(opts);
}

function mapCodes(codes: DecodedCode[], f: (p: Point) => Point): DecodedCode[] {
  return codes.map((c) => ({ ...c, corners: c.corners.map(f) as DecodedCode["corners"] }));
}

/** Per-worker running cost estimate of each pass (ms per megapixel), to skip what cannot fit. */
export class PassCosts {
  private readonly perMp = new Map<DecodePassName, number>();
  estimate(pass: DecodePassName, pixels: number): number {
    const c = this.perMp.get(pass);
    return c === undefined ? 0 : (c * pixels) / 1e6;
  }
  record(pass: DecodePassName, pixels: number, ms: number): void {
    const v = (ms * 1e6) / Math.max(1, pixels);
    const old = this.perMp.get(pass);
    this.perMp.set(pass, old === undefined ? v : old * 0.8 + v * 0.2);
  }
}

export function runStrategy(img: HeapImage, input: StrategyInput, costs: PassCosts, now: () => number = () => performance.now()): StrategyOutput {
  const t0 = now();
  const ran: DecodePassName[] = [];
  const pixels = input.frame.width * input.frame.height;
  for (const name of input.passes) {
    if (name === "crop" && !input.hint) continue;
    const elapsed = now() - t0;
    if (ran.length > 0 && elapsed + costs.estimate(name, pixels) > input.budgetMs) continue;
    const ts = now();
    const codes = passes[name](img, input.frame, input.hint);
    costs.record(name, pixels, now() - ts);
    ran.push(name);
    if (codes && codes.length > 0) return { codes, passes: ran, foundBy: name, decodeMs: now() - t0 };
  }
  return { codes: [], passes: ran, decodeMs: now() - t0 };
}
