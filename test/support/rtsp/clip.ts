import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import QRCode from "qrcode";
import { drawFrameClock, clockStripeHeight } from "./frame-clock.js";
import { fixtureCacheDir } from "./paths.js";

export interface ClipSegment {
  /** QR text shown during this segment; absent = no code (the common case at a checkpoint). */
  text?: string;
  seconds: number;
}

export interface QrClipOptions {
  /** Output .ts path; default: a cache file named after a hash of the options. */
  out?: string;
  width: number;
  height: number;
  fps: number;
  segments: ClipSegment[];
  /** Draw the frame counter stripe (see frame-clock.ts). Default true. */
  clock?: boolean;
  /** Keyframe interval in frames; default = fps (one per second: quick start-up). */
  keyint?: number;
  /**
   * Sensor-like noise amplitude (+/- luma levels, seeded, different every frame). 0 (default)
   * gives a nearly static picture that decodes unrealistically cheaply; benches use ~6.
   */
  noise?: number;
}

/** Deterministic noise bytes (xorshift32), so a clip is the same on every machine. */
function noiseTable(size: number, seed: number): Uint8Array {
  const t = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    t[i] = x & 0xff;
  }
  return t;
}

function addNoise(f: Uint8Array, table: Uint8Array, amp: number, frame: number): void {
  const mask = table.length - 1;
  const off = (frame * 7919) & mask;
  const span = 2 * amp + 1;
  for (let i = 0; i < f.length; i++) {
    const v = f[i]! + (table[(i + off) & mask]! % span) - amp;
    f[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

/** Renders a QR code (4-module quiet zone) centred in the area above the clock stripe. */
function drawQr(gray: Uint8Array, width: number, areaHeight: number, text: string): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: "M" });
  const n = qr.modules.size;
  const module = Math.max(2, Math.floor((Math.min(width, areaHeight) * 0.7) / (n + 8)));
  const side = (n + 8) * module;
  const x0 = Math.floor((width - side) / 2);
  const y0 = Math.floor((areaHeight - side) / 2);
  for (let y = 0; y < side; y++) gray.fill(255, (y0 + y) * width + x0, (y0 + y) * width + x0 + side);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (!qr.modules.get(r, c)) continue;
      for (let dy = 0; dy < module; dy++) {
        const row = (y0 + (r + 4) * module + dy) * width + x0 + (c + 4) * module;
        gray.fill(0, row, row + module);
      }
    }
  }
}

/**
 * Generates an H.264 MPEG-TS clip (sliced-threads=0: sliced x264 output arrived half-decoded
 * through the RTSP chain; no B-frames: low delay). Deterministic and cached, so repeated
 * test runs pay once. Returns the path.
 */
/**
 * An x264 MPEG-TS encoder fed 8-bit gray frames on stdin: a GOP of `keyint` frames, no B-frames
 * (low delay), no sliced threads (they gave half-decoded frames through the RTSP chain). `done`
 * settles when ffmpeg exits; its stderr tail is in the error.
 */
export function spawnGrayEncoder(out: string, width: number, height: number, fps: number, keyint: number): { ff: ChildProcessByStdio<Writable, null, Readable>; done: Promise<void> } {
  const ff = spawn("ffmpeg", [
    "-hide_banner", "-loglevel", "error", "-y",
    "-f", "rawvideo", "-pix_fmt", "gray", "-s", `${width}x${height}`, "-r", String(fps), "-i", "pipe:0",
    "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-bf", "0", "-g", String(keyint), "-keyint_min", String(keyint),
    "-x264-params", "sliced-threads=0:scenecut=0", "-pix_fmt", "yuv420p", "-f", "mpegts", out,
  ], { stdio: ["pipe", "ignore", "pipe"] });
  let err = "";
  ff.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const done = new Promise<void>((resolve, reject) => {
    ff.on("error", reject);
    ff.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg clip encode failed (${code}): ${err.slice(-500)}`))));
  });
  return { ff, done };
}

export async function makeQrClip(opts: QrClipOptions): Promise<string> {
  const { width, height, fps, segments } = opts;
  const clock = opts.clock ?? true;
  const keyint = opts.keyint ?? Math.max(1, Math.round(fps));
  const noise = opts.noise ?? 0;
  const key = createHash("sha256").update(JSON.stringify({ v: 1, width, height, fps, segments, clock, keyint, noise })).digest("hex").slice(0, 16);
  const table = noise > 0 ? noiseTable(1 << 16, 0x9e3779b9) : undefined;
  const out = opts.out ?? join(fixtureCacheDir(), `qr-${width}x${height}-${fps}fps-${key}.ts`);
  // The key sidecar makes an explicit `out` safe too: other options, other clip.
  const keyFile = `${out}.key`;
  if (existsSync(out) && existsSync(keyFile) && readFileSync(keyFile, "utf8") === key) return out;
  mkdirSync(join(out, ".."), { recursive: true });
  const tmp = `${out}.${process.pid}.partial.ts`;
  const { ff, done } = spawnGrayEncoder(tmp, width, height, fps, keyint);
  const areaHeight = clock ? height - clockStripeHeight(height) : height;
  let index = 0;
  for (const seg of segments) {
    const base = new Uint8Array(width * height).fill(200);
    if (seg.text !== undefined) drawQr(base, width, areaHeight, seg.text);
    const frames = Math.round(seg.seconds * fps);
    for (let i = 0; i < frames; i++) {
      const f = Uint8Array.from(base);
      if (table) addNoise(f, table, noise, index);
      if (clock) drawFrameClock(f, width, height, index);
      index++;
      if (!ff.stdin.write(f)) await new Promise<void>((r) => ff.stdin.once("drain", r));
    }
  }
  ff.stdin.end();
  await done;
  renameSync(tmp, out);
  writeFileSync(keyFile, key);
  return out;
}

/** Number of frames a clip made from these segments holds. */
export function clipFrameCount(fps: number, segments: ClipSegment[]): number {
  return segments.reduce((n, s) => n + Math.round(s.seconds * fps), 0);
}
