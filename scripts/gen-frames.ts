/**
 * Seeded, deterministic generator of synthetic camera frames for decode tests and benchmarks.
 * Writes PNG (JPEG for the compression category) into test-fixtures/generated/frames/ (git-ignored)
 * and returns the manifest; frames already on disk are reused. The committed
 * test-fixtures/frames/manifest.json is the same manifest, kept to catch silent generator drift.
 *
 *   node dist/scripts/gen-frames.js [--force] [--out DIR]
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { categories, rng, seedFor, type Category } from "./frames-spec.js";

/** Bump when rendering changes, so cached frames are regenerated. */
export const GENERATOR_VERSION = 2;
export const DEFAULT_SEED = 20261129;
export const SIZES: ReadonlyArray<readonly [number, number]> = [
  [1280, 720],
  [1920, 1080],
];
export const VARIANTS = 3;

export interface ManifestEntry {
  file: string;
  width: number;
  height: number;
  category: string;
  group: Category["group"];
  variant: number;
  codes: { text: string; corners: [number, number][] }[];
}

export interface Manifest {
  generator: number;
  seed: number;
  frames: ManifestEntry[];
}

const repoRoot = resolve(fileURLToPath(new URL(".", import.meta.url)), import.meta.url.includes("/dist/") ? "../.." : "..");
export const generatedDir = join(repoRoot, "test-fixtures/generated/frames");
export const committedManifest = join(repoRoot, "test-fixtures/frames/manifest.json");

export interface FrameSelection {
  sizes?: ReadonlyArray<readonly [number, number]>;
  variants?: number;
  categories?: readonly string[];
}

/**
 * Returns the manifest of the selected frames, rendering only those not already on disk
 * (per-file cache, so a test needing the 720p subset does not pay for the whole set).
 * Safe against concurrent callers: files are written to a temp name and renamed.
 */
export async function generateFrames(opts: FrameSelection & { out?: string; seed?: number; force?: boolean } = {}): Promise<Manifest & { dir: string }> {
  const dir = opts.out ?? generatedDir;
  const seed = opts.seed ?? DEFAULT_SEED;
  const indexFile = join(dir, "manifest.json");
  const known = new Map<string, ManifestEntry>();
  if (!opts.force && existsSync(indexFile)) {
    try {
      const m = JSON.parse(readFileSync(indexFile, "utf8")) as Manifest;
      if (m.generator === GENERATOR_VERSION && m.seed === seed) for (const f of m.frames) known.set(f.file, f);
    } catch {
      // A torn index from an interrupted run: regenerate what is asked for.
    }
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, ".gitignore"), "*\n");
  const frames: ManifestEntry[] = [];
  const wanted = categories.filter((c) => !opts.categories || opts.categories.includes(c.name));
  for (const [w, h] of opts.sizes ?? SIZES) {
    mkdirSync(join(dir, `${w}x${h}`), { recursive: true });
    for (const cat of wanted)
      for (let v = 0; v < (opts.variants ?? VARIANTS); v++) {
        const cached = [...["png", "jpg"]].map((ext) => known.get(`${w}x${h}/${cat.name}-${v}.${ext}`)).find((e) => e && existsSync(join(dir, e.file)));
        if (cached) {
          frames.push(cached);
          continue;
        }
        const out = await cat.render(w, h, rng(seedFor(seed, cat.name, w, v)), v);
        const ext = out.jpegQuality ? "jpg" : "png";
        const file = `${w}x${h}/${cat.name}-${v}.${ext}`;
        const img = sharp(out.gray.data, { raw: { width: w, height: h, channels: 1 } }).toColourspace("b-w");
        const tmp = join(dir, `${file}.${process.pid}.tmp`);
        await (out.jpegQuality ? img.jpeg({ quality: out.jpegQuality, chromaSubsampling: "4:4:4" }) : img.png({ compressionLevel: 1 })).toFile(tmp);
        renameSync(tmp, join(dir, file));
        const entry: ManifestEntry = {
          file,
          width: w,
          height: h,
          category: cat.name,
          group: cat.group,
          variant: v,
          codes: out.codes.map((c) => ({ text: c.text, corners: c.corners.map(([x, y]) => [round1(x), round1(y)] as [number, number]) })),
        };
        known.set(file, entry);
        frames.push(entry);
      }
  }
  const index: Manifest = { generator: GENERATOR_VERSION, seed, frames: [...known.values()].sort((a, b) => a.file.localeCompare(b.file)) };
  const tmpIndex = `${indexFile}.${process.pid}.tmp`;
  writeFileSync(tmpIndex, JSON.stringify(index, null, 1) + "\n");
  renameSync(tmpIndex, indexFile);
  return { generator: GENERATOR_VERSION, seed, frames, dir };
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf("--out");
  const t0 = performance.now();
  const m = await generateFrames({ force: args.includes("--force"), ...(outIdx >= 0 && args[outIdx + 1] ? { out: args[outIdx + 1] } : {}) });
  if (args.includes("--write-manifest")) writeFileSync(committedManifest, JSON.stringify({ generator: m.generator, seed: m.seed, frames: m.frames }, null, 1) + "\n");
  console.log(`${m.frames.length} frames in ${m.dir} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
