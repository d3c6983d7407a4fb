import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeDemoCredentials } from "../../scripts/demo-kit.js";
import { makeQrClip, type ClipSegment } from "../../test/support/rtsp/index.js";
import { listPhotos, makePhotoClip, photoDir } from "./photo-clip.js";

/**
 * `bench:e2e`'s inputs: the trust material and a signed pass, and the clips the cameras loop (a
 * generated pass clip, a real-photo clip, and a code-free idle clip), each with the frame ranges in
 * which a code is shown.
 */

export interface Creds {
  trustList: string;
  rootKey: string;
  pass: string;
}

export interface Clip {
  kind: "generated" | "photos" | "idle";
  path: string;
  frames: number;
  /** [first, end) clip frame indexes of each showing of a code. */
  shows: Array<[number, number]>;
}

/** Credentials are made once and kept in `work` (public material and a pass only), so the clip stays cached. */
export async function credentials(work: string): Promise<Creds> {
  mkdirSync(work, { recursive: true });
  const file = join(work, "creds.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as Creds;
  const c = await makeDemoCredentials();
  const trustList = join(work, "trust-list.jws");
  const rootKey = join(work, "root.pub.jwk.json");
  writeFileSync(trustList, c.trustListJws);
  writeFileSync(rootKey, JSON.stringify(c.rootPublicJwk));
  const creds = { trustList, rootKey, pass: c.passes.valid };
  writeFileSync(file, JSON.stringify(creds));
  return creds;
}

/** The frame ranges of the segments that show a code, and the clip's length in frames (each segment rounded to whole frames). */
export function segmentShows(segments: readonly ClipSegment[], fps: number): { shows: Array<[number, number]>; frames: number } {
  const shows: Array<[number, number]> = [];
  let idx = 0;
  for (const s of segments) {
    const k = Math.round(s.seconds * fps);
    if (s.text) shows.push([idx, idx + k]);
    idx += k;
  }
  return { shows, frames: idx };
}

export interface ClipSet {
  gen: Clip;
  /** Only with the real photos present and photos not turned off. */
  photo: Clip | undefined;
  idle: Clip;
  /** Where the real photos are, if found. */
  dir: string | undefined;
}

/**
 * The generated clip (the pass shown `showS`, then `gapS` without it, twice), the real-photo clip
 * (16 photos, each shown `showS` then `gapS` painted over) and the idle clip (the painted-over
 * scenes only, or a code-free generated clip without the photos).
 */
export async function makeClips(o: { width: number; height: number; fps: number; showS: number; gapS: number; pass: string; usePhotos: boolean }): Promise<ClipSet> {
  const { width, height, fps, showS, gapS } = o;
  const period: ClipSegment[] = [{ seconds: gapS }, { text: o.pass, seconds: showS }];
  const segments = [...period, ...period];
  const gen: Clip = { kind: "generated", path: await makeQrClip({ width, height, fps, segments }), ...segmentShows(segments, fps) };
  const dir = photoDir();
  let photo: Clip | undefined;
  let idle: Clip | undefined;
  const allPhotos = dir ? listPhotos(dir) : [];
  if (allPhotos.length) {
    // 16 photos spread over the categories (every k-th in sorted order), the same every run.
    const k = Math.max(1, Math.floor(allPhotos.length / 16));
    const pick = allPhotos.filter((_, i) => i % k === 0).slice(0, 16);
    process.stderr.write(`bench:e2e photo clips from ${dir} (${pick.length} photos; first run encodes them, ~1 min)\n`);
    if (o.usePhotos) photo = { kind: "photos", ...(await makePhotoClip(pick, { width, height, fps, showS, gapS })) };
    idle = { kind: "idle", ...(await makePhotoClip(pick, { width, height, fps, showS, gapS, blankOnly: true })) };
  } else process.stderr.write("bench:e2e: real photos not found: generated clips only, idle row on a code-free generated clip\n");
  if (!idle) {
    const p = await makeQrClip({ width, height, fps, segments: [{ seconds: 8 }] });
    idle = { kind: "idle", path: p, frames: 8 * fps, shows: [] };
  }
  return { gen, photo, idle, dir };
}
