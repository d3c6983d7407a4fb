/**
 * Presentation clips from a still photo: what a checkpoint camera records while a traveller holds
 * a phone or a card up to it. The photo is fit into the frame (as a 1080p camera sees it), then each
 * frame is rendered with hand motion (a slow drift plus a 2-5 Hz tremor in position, rotation and
 * scale), motion blur along the motion during the exposure, and sensor noise, and the gray frames
 * are piped to Debian ffmpeg (libx264 at a camera's bitrate, short GOP, no B-frames, MPEG-TS).
 * Everything random comes from one seed, so a (photo, seed, options) triple always gives the same
 * frames. Used by `bench:decode -- --clips`, the clip tests and `scripts/make-clip.ts`.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import sharp from "sharp";
// The fixture generator's seeded PRNG (mulberry32): the same numbers on every machine.
import { rng } from "./frames-render.js";

export interface ClipOptions {
  seed: number;
  width?: number;
  height?: number;
  fps?: number;
  durationS?: number;
  /** Target video bitrate; cameras at 1080p15 send 2-4 Mbit/s. */
  bitrateKbps?: number;
  /** Keyframe interval in frames. */
  gop?: number;
  /** Amplitude of the slow drift in pixels (frame scale). */
  driftPx?: number;
  /** Amplitude of the tremor in pixels. */
  tremorPx?: number;
  /** Amplitude of the rotation in degrees. */
  rotDeg?: number;
  /** Relative amplitude of the scale change (0.03 = +-3%). */
  scaleAmp?: number;
  /** Exposure as a fraction of the frame interval (motion blur length). */
  exposure?: number;
  /** Sensor noise, standard deviation in 8-bit levels. */
  noiseSigma?: number;
  /** A moving glare spot on the held-up phone or card (none by default). */
  glare?: Glare;
  ffmpegPath?: string;
}

/**
 * A lamp's reflection on a screen: a disc where the sensor clips to white (soft edge out to 1.3
 * radii), sliding in a straight line from `from` to `to` over the clip as the hand tilts the phone.
 * Positions and radius in the fitted photo's pixels: it moves with the hand like the photo.
 */
export interface Glare {
  from: [number, number];
  to: [number, number];
  radius: number;
}

export type ResolvedClipOptions = Required<Omit<ClipOptions, "ffmpegPath" | "glare">> & Pick<ClipOptions, "glare">;

/** Bump when the rendering changes, so cached clips are rebuilt. */
export const CLIP_GEN_VERSION = 1;

export const clipDefaults: Omit<ResolvedClipOptions, "seed"> = {
  width: 1920,
  height: 1080,
  fps: 15,
  durationS: 2,
  bitrateKbps: 3000,
  gop: 15,
  driftPx: 14,
  tremorPx: 2.5,
  rotDeg: 1.5,
  scaleAmp: 0.03,
  exposure: 0.5,
  noiseSigma: 2.5,
};

export interface GraySource {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Fill outside the photo: a dim, flat background, as behind a held-up card. */
const BACKGROUND = 40;


export interface Pose {
  dx: number;
  dy: number;
  rot: number;
  scale: number;
}

/** A hand's pose over time: sum of a slow drift and a faster tremor per axis, random phases. */
export function handMotion(o: ResolvedClipOptions): (t: number) => Pose {
  const r = rng(o.seed ^ 0x9e3779b9);
  const wave = (amp: number, fLo: number, fHi: number) => {
    const f = fLo + (fHi - fLo) * r();
    const ph = 2 * Math.PI * r();
    return (t: number) => amp * Math.sin(2 * Math.PI * f * t + ph);
  };
  const x = [wave(o.driftPx, 0.15, 0.5), wave(o.tremorPx, 2, 5)];
  const y = [wave(o.driftPx, 0.15, 0.5), wave(o.tremorPx, 2, 5)];
  const rot = [wave((o.rotDeg * Math.PI) / 180, 0.1, 0.4), wave((o.rotDeg * Math.PI) / 900, 2, 5)];
  const sc = wave(o.scaleAmp, 0.1, 0.5);
  const sum = (fs: ((t: number) => number)[], t: number) => fs.reduce((a, f) => a + f(t), 0);
  return (t) => ({ dx: sum(x, t), dy: sum(y, t), rot: sum(rot, t), scale: 1 + sc(t) });
}

/**
 * Renders src under a pose into dst (frame size), bilinear, accumulating into acc (for motion
 * blur: several sub-exposure poses are summed, then divided). The pose turns and scales the
 * photo about the frame centre, then shifts it.
 */
function warpAccumulate(src: GraySource, pose: Pose, w: number, h: number, acc: Float32Array): void {
  const cx = w / 2, cy = h / 2, sx0 = src.width / 2, sy0 = src.height / 2;
  // Inverse map: p_src = c_src + R(-rot)/scale * (p_out - c - d)
  const cos = Math.cos(-pose.rot) / pose.scale, sin = Math.sin(-pose.rot) / pose.scale;
  const sw = src.width, sh = src.height, sd = src.data;
  for (let y = 0; y < h; y++) {
    const oy = y + 0.5 - cy - pose.dy;
    const ox0 = 0.5 - cx - pose.dx;
    let u = sx0 + cos * ox0 - sin * oy - 0.5;
    let v = sy0 + sin * ox0 + cos * oy - 0.5;
    const row = y * w;
    for (let x = 0; x < w; x++, u += cos, v += sin) {
      let val = BACKGROUND;
      if (u >= 0 && v >= 0 && u < sw - 1 && v < sh - 1) {
        const iu = u | 0, iv = v | 0, fu = u - iu, fv = v - iv;
        const i = iv * sw + iu;
        const a = sd[i]!, b = sd[i + 1]!, c = sd[i + sw]!, d = sd[i + sw + 1]!;
        val = a + (b - a) * fu + (c - a + (a - b - c + d) * fu) * fv;
      }
      acc[row + x]! += val;
    }
  }
}

/** The photo fit into the frame (enlarged when smaller), gray, Lanczos: as the single-photo fit-1080 bench sees it. */
export async function fitPhoto(photo: string | Buffer, width: number, height: number): Promise<GraySource> {
  const { data, info } = await sharp(photo, { failOn: "error" })
    .flatten({ background: "#ffffff" })
    .toColourspace("b-w")
    .resize(width, height, { fit: "inside", kernel: "lanczos3" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, info.width * info.height) };
}

/** Frame i of the clip, as 8-bit gray (w*h bytes). Pure given the source and options. */
export function renderFrame(src: GraySource, o: ResolvedClipOptions, pose: (t: number) => Pose, i: number, noise: NoiseSource): Uint8Array {
  const { width: w, height: h, fps } = o;
  const t = i / fps;
  const exp = o.exposure / fps;
  // Sub-exposure samples: about one per pixel of displacement during the exposure, 1..6.
  const p0 = pose(t - exp), p1 = pose(t);
  const disp = Math.hypot(p1.dx - p0.dx, p1.dy - p0.dy) + Math.abs(p1.rot - p0.rot) * w * 0.5 + Math.abs(p1.scale - p0.scale) * w * 0.5;
  const k = Math.max(1, Math.min(6, Math.round(disp)));
  const acc = new Float32Array(w * h);
  for (let s = 0; s < k; s++) warpAccumulate(src, pose(k === 1 ? t : t - exp + (exp * s) / (k - 1)), w, h, acc);
  const out = new Uint8Array(w * h);
  const inv = 1 / k;
  if (o.glare) addGlare(acc, k * 255, src, o, o.glare, pose(t), t / Math.max(1e-9, o.durationS));
  for (let j = 0; j < out.length; j++) {
    const v = acc[j]! * inv + noise.next();
    out[j] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
  }
  return out;
}

/** Blends the glare disc at clip position `f` (0..1) into the accumulated exposure (`white` = saturated). */
function addGlare(acc: Float32Array, white: number, src: GraySource, o: ResolvedClipOptions, g: Glare, pose: Pose, f: number): void {
  const { width: w, height: h } = o;
  const sx = g.from[0] + (g.to[0] - g.from[0]) * Math.min(1, f) - src.width / 2;
  const sy = g.from[1] + (g.to[1] - g.from[1]) * Math.min(1, f) - src.height / 2;
  // The photo's forward pose (warpAccumulate inverts it): turn and scale about the centre, then shift.
  const cos = Math.cos(pose.rot) * pose.scale, sin = Math.sin(pose.rot) * pose.scale;
  const cx = w / 2 + pose.dx + cos * sx - sin * sy, cy = h / 2 + pose.dy + sin * sx + cos * sy;
  const r = g.radius * pose.scale, outer = 1.3 * r;
  for (let y = Math.max(0, Math.floor(cy - outer)); y < Math.min(h, Math.ceil(cy + outer)); y++)
    for (let x = Math.max(0, Math.floor(cx - outer)); x < Math.min(w, Math.ceil(cx + outer)); x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (d >= outer) continue;
      const a = d <= r ? 1 : (outer - d) / (outer - r);
      const j = y * w + x;
      acc[j] = acc[j]! * (1 - a) + white * a;
    }
}

/** Gaussian sensor noise from a seeded table (Box-Muller once, then cheap seeded lookups). */
export class NoiseSource {
  private readonly table: Float32Array;
  private state: number;
  constructor(seed: number, sigma: number) {
    const r = rng(seed ^ 0x85ebca6b);
    this.table = new Float32Array(1 << 16);
    for (let i = 0; i < this.table.length; i++) {
      const u = Math.max(1e-12, r()), v = r();
      this.table[i] = sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
    this.state = (seed | 1) >>> 0;
  }
  next(): number {
    // xorshift32 index into the table.
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.table[this.state & 0xffff]!;
  }
}

export function resolveClipOptions(o: ClipOptions): ResolvedClipOptions {
  const r = { ...clipDefaults, ...Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== "ffmpegPath")) } as ResolvedClipOptions;
  return r;
}

/**
 * The x264 command: a camera's encoder settings (CBR-ish with VBV, short GOP, no B-frames, no
 * sliced threads: field notes). One encoder thread: with VBV, x264's frame threads made the output
 * differ from run to run (measured), and a clip must be reproducible from its seed.
 */
export function encoderArgs(o: ResolvedClipOptions, out: string): string[] {
  const kbps = o.bitrateKbps;
  return [
    "-hide_banner", "-loglevel", "error", "-y",
    "-f", "rawvideo", "-pix_fmt", "gray", "-s", `${o.width}x${o.height}`, "-r", String(o.fps), "-i", "pipe:0",
    "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-threads", "1",
    "-b:v", `${kbps}k`, "-maxrate", `${kbps}k`, "-bufsize", `${kbps}k`,
    "-g", String(o.gop), "-keyint_min", String(o.gop), "-sc_threshold", "0", "-bf", "0",
    "-x264-params", "sliced-threads=0", "-pix_fmt", "yuv420p", "-f", "mpegts", out,
  ];
}

export interface ClipInfo {
  file: string;
  frames: number;
  fps: number;
  width: number;
  height: number;
  /** True when a cached clip was reused. */
  cached: boolean;
}

/**
 * Renders and encodes a clip from a photo (path, encoded bytes or a gray image already fit).
 * Written to a temporary name and renamed, so a killed run never leaves a half clip in a cache.
 */
export async function makeClip(photo: string | Buffer | GraySource, out: string, opts: ClipOptions): Promise<ClipInfo> {
  const o = resolveClipOptions(opts);
  const src = typeof photo === "string" || Buffer.isBuffer(photo) ? await fitPhoto(photo, o.width, o.height) : photo;
  const pose = handMotion(o);
  const noise = new NoiseSource(o.seed, o.noiseSigma);
  const frames = Math.max(1, Math.round(o.durationS * o.fps));
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const ff = spawn(opts.ffmpegPath ?? "ffmpeg", encoderArgs(o, tmp), { stdio: ["pipe", "ignore", "pipe"] });
  let err = "";
  ff.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  ff.stdin.on("error", () => {}); // an early ffmpeg exit is reported by the exit handler below
  const done = new Promise<void>((resolve, reject) => {
    ff.on("error", reject);
    ff.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${err.trim()}`))));
  });
  try {
    for (let i = 0; i < frames; i++) {
      const f = renderFrame(src, o, pose, i, noise);
      if (!ff.stdin.write(f)) await new Promise<void>((r) => ff.stdin.once("drain", () => r()));
    }
    ff.stdin.end();
    await done;
    renameSync(tmp, out);
  } catch (e) {
    ff.kill("SIGKILL");
    rmSync(tmp, { force: true });
    throw e;
  }
  return { file: out, frames, fps: o.fps, width: o.width, height: o.height, cached: false };
}

/** The cache key of a clip: generator version, photo bytes and every option. */
export function clipKey(photoBytes: Uint8Array, o: ClipOptions): string {
  const r = resolveClipOptions(o);
  // The replacer's key list applies at every depth: the glare's own keys must be in it.
  const keys = [...Object.keys(r), ...(r.glare ? Object.keys(r.glare) : [])].sort();
  return createHash("sha256").update(`v${CLIP_GEN_VERSION}|${JSON.stringify(r, keys)}|`).update(photoBytes).digest("hex").slice(0, 16);
}

/** makeClip through a cache folder: the same photo, seed and options reuse the file. */
export async function cachedClip(photoPath: string, cacheDir: string, name: string, opts: ClipOptions): Promise<ClipInfo> {
  const bytes = readFileSync(photoPath);
  const file = join(cacheDir, `${name}-${clipKey(bytes, opts)}.ts`);
  const o = resolveClipOptions(opts);
  if (existsSync(file)) return { file, frames: Math.round(o.durationS * o.fps), fps: o.fps, width: o.width, height: o.height, cached: true };
  return makeClip(bytes, file, opts);
}
