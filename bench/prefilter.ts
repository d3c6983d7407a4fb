/**
 * `npm run bench:prefilter`: what the idle path costs and what it risks.
 *  - cost: per 1080p frame WITHOUT a code, the finder-pattern prefilter (src/decode/prefilter.ts),
 *    the camera path's amortised cost (prefilter on every frame + one full cascade per
 *    `idleFullEveryMs` on the slow schedule), our full cascade, against the reference
 *    (zxing-wasm `readBarcodes` semantics: its default options restricted to QR, on the luminance
 *    buffer in the wasm heap) in the same run and thread. Target: amortised <= 0.3x reference.
 *  - risk: recall on the real photos (`boofcv-dev`, fit to 1080p): of the photos our full cascade
 *    reads a code in, the share the prefilter lets through. Target: 100% (a photo it rejects would
 *    only be read on the slow schedule or once the code is in view).
 * No-code frames: the real photos with every ground-truth code painted over (a real scene without
 * a code) and the generated no-code fixtures. Photos are read from ../shared/testdata/boofcv-dev
 * (or BENCH_PHOTOS); the photo rows are skipped when absent.
 * Flags: --reps N (default 5).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import sharp from "sharp";
import { defaultReaderOptions } from "zxing-wasm/reader";
import { decodeSection } from "../src/config/sections/decode.js";
import { HeapImage, type LumaView } from "../src/decode/luma-read.js";
import { encodeReaderOptions } from "../src/decode/reader-options.js";
import { loadReaderModule, readVerifiedWasm } from "../src/decode/wasm-loader.js";
import { PassCosts, runStrategy } from "../src/decode/strategy.js";
import { pairedFinders, Prefilter } from "../src/decode/prefilter.js";
import { DEFAULT_IDLE_FULL_EVERY_MS, WEAK_FULL_EVERY_MS } from "../src/decode/pool.js";
import { generateFrames } from "../scripts/gen-frames.js";
import { readGrayImage } from "../src/decode/image-file.js";
import { fmt, printTable, summarize, writeResults } from "./lib/stats.js";
import { paintOverBox } from "./lib/paint-over.js";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
};
const REPS = Number(arg("reps", "5"));
const PHOTOS = process.env.BENCH_PHOTOS ?? [join(process.cwd(), "../shared/testdata/boofcv-dev"), join(process.cwd(), "../../shared/testdata/boofcv-dev")].find((p) => existsSync(p)) ?? "../shared/testdata/boofcv-dev";
const FPS = 15;

interface Img extends LumaView {
  name: string;
}

/**
 * A photo as a camera would see it. With codes: fit inside 1080p (the decode bench's rule, so
 * recall matches what the cascade reads there). Scenes without a code: cover a full 1920x1080
 * frame (centre crop), every ground-truth code painted over with its mean.
 */
async function fit1080(path: string, paintOver?: Array<Array<[number, number]>>): Promise<Img> {
  const meta = await sharp(path).metadata();
  const W = meta.width ?? 1, H = meta.height ?? 1;
  const cover = paintOver !== undefined;
  const s = cover ? Math.max(1920 / W, 1080 / H) : Math.min(1920 / W, 1080 / H, 1);
  const rw = Math.round(W * s), rh = Math.round(H * s);
  const w = cover ? 1920 : rw & ~1, h = cover ? 1080 : rh & ~1;
  const ox = cover ? Math.floor((rw - w) / 2) : 0, oy = cover ? Math.floor((rh - h) / 2) : 0;
  let pipe = sharp(path).flatten({ background: "#ffffff" }).toColourspace("b-w").resize(cover ? rw : w, cover ? rh : h, { fit: "fill" });
  if (cover) pipe = pipe.extract({ left: ox, top: oy, width: w, height: h });
  const { data } = await pipe.raw().toBuffer({ resolveWithObject: true });
  const img = new Uint8Array(data.buffer, data.byteOffset, w * h).slice();
  for (const quad of paintOver ?? []) {
    // Fill the code's bounding box (plus a margin) with its mean: a real scene with no code in it.
    const xs = quad.map((p) => p[0] * s - ox), ys = quad.map((p) => p[1] * s - oy);
    paintOverBox(img, w, h, xs, ys);
  }
  return { name: path, width: w, height: h, stride: w, data: img };
}

function photoList(): Array<{ file: string; quads: Array<Array<[number, number]>> }> {
  if (!existsSync(PHOTOS)) return [];
  const out: Array<{ file: string; quads: Array<Array<[number, number]>> }> = [];
  for (const cat of readdirSync(PHOTOS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const f of readdirSync(join(PHOTOS, cat)).filter((f) => /\.(jpg|png)$/i.test(f)).sort()) {
      const truth = join(PHOTOS, cat, f.replace(/\.(jpg|png)$/i, ".truth.json"));
      const quads: Array<Array<[number, number]>> = [];
      if (existsSync(truth)) {
        const t = JSON.parse(readFileSync(truth, "utf8")) as unknown;
        const arr = (Array.isArray(t) ? t : ((t as { objects?: unknown[] }).objects ?? [])) as Array<Record<string, string>>;
        for (const o of arr) quads.push([1, 2, 3, 4].map((i) => [Number(o[`x${i}`]), Number(o[`y${i}`])] as [number, number]));
      }
      out.push({ file: join(PHOTOS, cat, f), quads });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const mod = await loadReaderModule(readVerifiedWasm());
  const img = new HeapImage(mod);
  const costs = new PassCosts();
  const pre = new Prefilter();
  const cfg = decodeSection.parse({});
  const REF = encodeReaderOptions({ ...defaultReaderOptions, formats: ["QRCode"] });
  const time = (f: () => unknown) => {
    const t = performance.now();
    f();
    return performance.now() - t;
  };
  const cascade = (f: LumaView) => runStrategy(img, { frame: f, passes: cfg.passes, budgetMs: cfg.budgetMs }, costs);
  const reference = (f: LumaView) => {
    img.load(f);
    return img.read(REF);
  };

  // No-code frames.
  const noCode: Img[] = [];
  const m = await generateFrames();
  for (const e of m.frames.filter((e) => e.group === "no-code" && e.width === 1920)) noCode.push({ ...(await readGrayImage(join(m.dir, e.file))), stride: 0, name: `gen:${e.file}` } as Img);
  for (const f of noCode) f.stride = f.width;
  const photos = photoList();
  const scenes: Img[] = [];
  for (const p of photos.filter((_, i) => i % 3 === 0)) scenes.push(await fit1080(p.file, p.quads));
  const noCodeAll = [...noCode, ...scenes];
  for (const f of noCodeAll.slice(0, 4)) {
    // warm-up
    cascade(f);
    reference(f);
    pre.find(f);
  }
  const per = { pre: [] as number[], cascade: [] as number[], fast: [] as number[], ref: [] as number[] };
  let weak = 0, strong = 0;
  for (const f of noCodeAll) {
    for (let r = 0; r < REPS; r++) {
      per.ref.push(time(() => reference(f)));
      per.cascade.push(time(() => cascade(f)));
      per.fast.push(time(() => runStrategy(img, { frame: f, passes: cfg.passes, budgetMs: 0 }, costs)));
      let hits: ReturnType<Prefilter["find"]> = [];
      per.pre.push(time(() => (hits = pre.find(f))));
      if (r === 0 && hits.length > 0) {
        if (pairedFinders(hits)) strong++;
        else weak++;
        if (process.env.BENCH_DEBUG) console.log("false maybe", f.name, JSON.stringify(hits));
      }
    }
  }
  const falseMaybe = weak + strong;
  const sPre = summarize(per.pre), sCas = summarize(per.cascade), sFast = summarize(per.fast), sRef = summarize(per.ref);
  // The camera path on an idle camera, as the pool decides (pool.ts): the prefilter on every
  // frame; two paired finder patterns: full cascade; a lone one: first pass (+ crops), full
  // cascade at most every WEAK_FULL_EVERY_MS; none: nothing, except a full cascade per
  // idleFullEveryMs (slow schedule).
  const n = noCodeAll.length;
  const strongShare = strong / n, weakShare = weak / n;
  const weakFull = Math.min(1, 1000 / WEAK_FULL_EVERY_MS / FPS);
  const slowShare = Math.min(1, 1000 / DEFAULT_IDLE_FULL_EVERY_MS / FPS) * (1 - strongShare - weakShare);
  const fullShare = strongShare + weakShare * weakFull + slowShare;
  const amortised = sPre.mean + fullShare * sCas.mean + weakShare * (1 - weakFull) * sFast.mean;

  // Recall on real photos with codes.
  let withRead = 0, passed = 0, refRead = 0;
  const missed: string[] = [];
  for (const p of photos) {
    const f = await fit1080(p.file);
    const ours = cascade(f).codes.length > 0;
    const ref = reference(f).codes.length > 0;
    if (ref) refRead++;
    if (!ours && !ref) continue;
    withRead++;
    if (pre.find(f).length > 0) passed++;
    else missed.push(p.file.slice(PHOTOS.length + 1));
  }

  printTable(
    `prefilter: 1080p frames WITHOUT a code (${noCode.length} generated + ${scenes.length} real scenes with the code painted over), ms per frame, ${REPS} reps, load ${loadavg()[0]!.toFixed(1)}`,
    ["what", "median ms", "p95 ms", "mean ms", "x reference (mean)"],
    [
      ["reference: zxing QR-only defaults on luma", sRef.median, sRef.p95, sRef.mean, 1],
      ["our full cascade (decode defaults)", sCas.median, sCas.p95, sCas.mean, sCas.mean / sRef.mean],
      ["our first pass only (budget 0)", sFast.median, sFast.p95, sFast.mean, sFast.mean / sRef.mean],
      ["prefilter alone (frame rejected)", sPre.median, sPre.p95, sPre.mean, sPre.mean / sRef.mean],
      [`camera path, amortised (prefilter + ${fmt(fullShare * 100, 1)}% full + ${fmt(weakShare * (1 - weakFull) * 100, 1)}% first pass)`, "-", "-", amortised, amortised / sRef.mean],
    ],
  );
  console.log(`no-code frames the prefilter let through: ${falseMaybe} of ${n} (${strong} with paired finder patterns, ${weak} with a lone one)`);
  if (photos.length) console.log(`recall on real photos: ${passed} of ${withRead} photos with a code read (by our cascade or the reference) pass the prefilter; missed: ${missed.join(", ") || "none"}`);
  else console.log(`real photos not found at ${PHOTOS}: recall rows skipped`);
  const ratio = amortised / sRef.mean;
  const failures: string[] = [];
  if (ratio > 0.3) failures.push(`no-code frame ${fmt(ratio)}x reference > 0.3x`);
  const results = { loadavg: loadavg(), node: process.version, reps: REPS, noCodeFrames: noCodeAll.length, ms: { prefilter: sPre, cascade: sCas, firstPass: sFast, reference: sRef }, falseMaybe, strong, weak, fullShare, amortisedMs: amortised, ratio, recall: { photos: photos.length, withRead, passed, refRead, missed }, targetsMissed: failures };
  console.log(`results: ${writeResults("prefilter", results)}`);
  if (failures.length) {
    console.log(`TARGET MISSED: ${failures.join("; ")}`);
    process.exitCode = 1;
  } else console.log("targets met: no-code frame <= 0.3x reference");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
