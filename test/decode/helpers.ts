import QRCode from "qrcode";
import type { LumaFrame } from "../../src/core/types.js";

/** A synthetic frame with one QR at (x0, y0): enough for engine tests without the fixture generator. */
export function qrFrame(text: string, opts: { width?: number; height?: number; stride?: number; module?: number; x0?: number; y0?: number; cameraId?: string; seq?: number } = {}): LumaFrame {
  const width = opts.width ?? 640;
  const height = opts.height ?? 480;
  const stride = opts.stride ?? width;
  const ms = opts.module ?? 4;
  const x0 = opts.x0 ?? 100;
  const y0 = opts.y0 ?? 80;
  const q = QRCode.create(text, { errorCorrectionLevel: "M" });
  const n = q.modules.size;
  const data = new Uint8Array(stride * height).fill(230);
  for (let y = 0; y < n * ms; y++)
    for (let x = 0; x < n * ms; x++) if (q.modules.get(Math.floor(y / ms), Math.floor(x / ms))) data[(y + y0) * stride + x + x0] = 20;
  return { cameraId: opts.cameraId ?? "cam1", seq: opts.seq ?? 1, width, height, stride, data, receivedAt: performance.now() };
}

export function blankFrame(cameraId = "cam1", seq = 1, width = 320, height = 240): LumaFrame {
  return { cameraId, seq, width, height, stride: width, data: new Uint8Array(width * height).fill(128), receivedAt: performance.now() };
}

/** Seeded xorshift32: the same pseudo-random sequence for a seed on every run (noise in test frames). */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
