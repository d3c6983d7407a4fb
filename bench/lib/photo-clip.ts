/**
 * Clips made from the real QR photos (boofcv-dev) for the e2e bench: each photo, fit inside the
 * frame, is shown for `showS`, then the same scene with its codes painted over for `gapS` (the
 * scene's background without a code). A frame clock is drawn in the bottom stripe. The photos are
 * read from their folder at bench time and never copied into the repository; the clip is a cache
 * under .tmp/. Until the clips work (issue #9 item 6) lands its generator, this one stands in.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { clockStripeHeight, drawFrameClock } from "../../test/support/rtsp/frame-clock.js";
import { fixtureCacheDir } from "../../test/support/rtsp/paths.js";
import { spawnGrayEncoder } from "../../test/support/rtsp/clip.js";
import { paintOverBox } from "./paint-over.js";

export interface Photo {
  file: string;
  /** Ground-truth corner quads in original pixels. */
  quads: Array<Array<[number, number]>>;
}

/** The photo folder, if present: BENCH_PHOTOS, or ../shared/testdata/boofcv-dev from /work/main or a worktree. */
export function photoDir(): string | undefined {
  const c = [process.env.BENCH_PHOTOS, join(process.cwd(), "../shared/testdata/boofcv-dev"), join(process.cwd(), "../../shared/testdata/boofcv-dev")];
  return c.find((p): p is string => !!p && existsSync(p));
}

export function listPhotos(dir: string): Photo[] {
  const out: Photo[] = [];
  for (const cat of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const f of readdirSync(join(dir, cat)).filter((f) => /\.(jpg|png)$/i.test(f)).sort()) {
      const truth = join(dir, cat, f.replace(/\.(jpg|png)$/i, ".truth.json"));
      const quads: Array<Array<[number, number]>> = [];
      if (existsSync(truth)) {
        const arr = JSON.parse(readFileSync(truth, "utf8")) as Array<Record<string, string>>;
        for (const o of arr) quads.push([1, 2, 3, 4].map((i) => [Number(o[`x${i}`]), Number(o[`y${i}`])] as [number, number]));
      }
      out.push({ file: join(dir, cat, f), quads });
    }
  }
  return out;
}

/** The photo fit inside width x (height - clock stripe), centred on mid-gray; codes painted over when `blank`. */
async function render(p: Photo, width: number, height: number, blank: boolean): Promise<Uint8Array> {
  const area = height - clockStripeHeight(height);
  const meta = await sharp(p.file).metadata();
  const W = meta.width ?? 1, H = meta.height ?? 1;
  const s = Math.min(width / W, area / H);
  const w = Math.max(1, Math.round(W * s)), h = Math.max(1, Math.round(H * s));
  const { data } = await sharp(p.file).flatten({ background: "#ffffff" }).toColourspace("b-w").resize(w, h, { fit: "fill" }).raw().toBuffer({ resolveWithObject: true });
  const img = new Uint8Array(data.buffer, data.byteOffset, w * h);
  if (blank) {
    for (const quad of p.quads) {
      const xs = quad.map((q) => q[0] * s), ys = quad.map((q) => q[1] * s);
      paintOverBox(img, w, h, xs, ys);
    }
  }
  const frame = new Uint8Array(width * height).fill(128);
  const ox = Math.floor((width - w) / 2), oy = Math.floor((area - h) / 2);
  for (let y = 0; y < h; y++) frame.set(img.subarray(y * w, y * w + w), (oy + y) * width + ox);
  return frame;
}

export interface PhotoClip {
  path: string;
  frames: number;
  /** [first, end) frame indexes in which a code is shown. */
  shows: Array<[number, number]>;
}

/** Encodes the clip (H.264 in MPEG-TS, same settings as the generated clips), cached by content. */
export async function makePhotoClip(photos: Photo[], o: { width: number; height: number; fps: number; showS: number; gapS: number; blankOnly?: boolean }): Promise<PhotoClip> {
  const show = Math.round(o.showS * o.fps), gap = Math.round(o.gapS * o.fps);
  const shows: Array<[number, number]> = [];
  let n = 0;
  for (let i = 0; i < photos.length; i++) {
    n += gap;
    if (!o.blankOnly) shows.push([n, n + show]);
    n += show;
  }
  const key = createHash("sha256").update(JSON.stringify({ v: 1, files: photos.map((p) => p.file), ...o })).digest("hex").slice(0, 16);
  const out = join(fixtureCacheDir(), `photos-${o.width}x${o.height}-${o.fps}fps-${key}.ts`);
  if (existsSync(out)) return { path: out, frames: n, shows };
  mkdirSync(fixtureCacheDir(), { recursive: true });
  const tmp = `${out}.${process.pid}.partial.ts`;
  const keyint = Math.round(o.fps);
  const { ff, done } = spawnGrayEncoder(tmp, o.width, o.height, o.fps, keyint);
  let index = 0;
  const write = async (base: Uint8Array, count: number) => {
    for (let i = 0; i < count; i++) {
      const f = Uint8Array.from(base);
      drawFrameClock(f, o.width, o.height, index++);
      if (!ff.stdin.write(f)) await new Promise<void>((r) => ff.stdin.once("drain", r));
    }
  };
  for (const p of photos) {
    const blank = await render(p, o.width, o.height, true);
    await write(blank, gap);
    await write(o.blankOnly ? blank : await render(p, o.width, o.height, false), show);
  }
  ff.stdin.end();
  await done;
  renameSync(tmp, out);
  writeFileSync(`${out}.key`, key);
  return { path: out, frames: n, shows };
}
