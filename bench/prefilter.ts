/**
 * `npm run bench:prefilter`: what the idle path costs and what it risks.
 *  - cost, per frame of a camera that looks at a scene WITHOUT a code (1080p, 15 fps, every frame
 *    admitted: no change gate): the camera path exactly as the pool decides it, replayed for
 *    SECONDS per scene through the pool's own idle gate (src/decode/idle-gate.ts: prefilter,
 *    tried shapes, slow schedule) and symbol tracker, each decode run with the budget the pool
 *    gives it; against the reference (zxing-wasm `readBarcodes` semantics: its default options
 *    restricted to QR, on the luminance buffer in the wasm heap) on every one of the same frames,
 *    interleaved, in CPU time of this thread. Target: camera path <= 0.3x reference. Also printed:
 *    the prefilter alone, our first pass and our full cascade per frame.
 *  - risk, on the real photos (`boofcv-dev`, fit to 1080p) with a code that our cascade or the
 *    reference reads: shown to an idle camera (its slow schedule just ran), is the code read on the
 *    first frame, within 1 s, within SECONDS (the slow schedule's cascade), or not at all?
 * No-code frames: the real photos with every ground-truth code painted over (a real scene without
 * a code) and the generated no-code fixtures. Photos are read from ../shared/testdata/boofcv-dev
 * (or BENCH_PHOTOS); the photo rows are skipped when absent.
 * Flags: --reps N (default 3, the per-frame rows), --seconds S (default 5), --out NAME (results
 * file name, default "prefilter").
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import sharp from "sharp";
import { defaultReaderOptions } from "zxing-wasm/reader";
import { decodeSection } from "../src/decode/options.js";
import { HeapImage, type LumaView } from "../src/decode/luma-read.js";
import { encodeReaderOptions } from "../src/decode/reader-options.js";
import { loadReaderModule, readVerifiedWasm } from "../src/decode/wasm-loader.js";
import { runStrategy } from "../src/decode/strategy.js";
import { PassCosts } from "../src/decode/pass-costs.js";
import { pairedFinders, Prefilter } from "../src/decode/prefilter.js";
import { DEFAULT_IDLE_FULL_EVERY_MS } from "../src/decode/admission.js";
import { idleBudget, IdleGate, type IdleDecision } from "../src/decode/idle-gate.js";
import { SymbolTracker } from "../src/decode/track.js";
import { generateFrames } from "../scripts/gen-frames.js";
import { readGrayImage } from "../src/decode/image-file.js";
import { fmt, printTable, summarize, writeResults } from "./lib/stats.js";
import { paintOverBox } from "./lib/paint-over.js";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
};
const REPS = Number(arg("reps", "3"));
const SECONDS = Number(arg("seconds", "5"));
const OUT = arg("out", "prefilter");
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

/** CPU time of this thread (ms): the neighbours on a shared machine do not count. */
function cpuMs(): number {
  const u = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.() ?? process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  const mod = await loadReaderModule(readVerifiedWasm());
  const img = new HeapImage(mod);
  const costs = new PassCosts();
  const cfg = decodeSection.parse({});
  const REF = encodeReaderOptions({ ...defaultReaderOptions, formats: ["QRCode"] });
  const time = (f: () => unknown) => {
    const t = cpuMs();
    f();
    return cpuMs() - t;
  };
  const strategy = (f: LumaView, budgetMs: number, tracked: ReturnType<SymbolTracker["hints"]> = []) => runStrategy(img, { frame: f, passes: cfg.passes, budgetMs, ...(tracked.length ? { tracked } : {}) }, costs);
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
  const probe = new Prefilter();
  for (const f of noCodeAll.slice(0, 4)) {
    // warm-up
    strategy(f, cfg.budgetMs);
    reference(f);
    probe.find(f);
  }

  // Per frame, each contender on the same frames, interleaved.
  const per = { pre: [] as number[], cascade: [] as number[], fast: [] as number[], ref: [] as number[] };
  let weak = 0, strong = 0;
  for (const f of noCodeAll) {
    for (let r = 0; r < REPS; r++) {
      per.ref.push(time(() => reference(f)));
      per.cascade.push(time(() => strategy(f, cfg.budgetMs)));
      per.fast.push(time(() => strategy(f, 0)));
      let hits: ReturnType<Prefilter["find"]> = [];
      per.pre.push(time(() => (hits = probe.find(f))));
      if (r === 0 && hits.length > 0) {
        if (pairedFinders(hits)) strong++;
        else weak++;
        if (process.env.BENCH_DEBUG) console.log("false maybe", f.name, JSON.stringify(hits));
      }
    }
  }
  const falseMaybe = weak + strong;
  const sPre = summarize(per.pre), sCas = summarize(per.cascade), sFast = summarize(per.fast), sRef = summarize(per.ref);

  // The camera path: each scene as an idle camera's stream, decided by the pool's gate.
  const frameMs = 1000 / FPS;
  const nFrames = Math.round(SECONDS * FPS);
  const decisions: Record<IdleDecision, number> = { full: 0, first: 0, slow: 0, "slow-full": 0, skip: 0 };
  let camMs = 0, refMs = 0, phantom = 0;
  const gate = new IdleGate(new Prefilter(), DEFAULT_IDLE_FULL_EVERY_MS);
  const tracker = new SymbolTracker();
  for (const f of noCodeAll) {
    for (let i = 0; i < nFrames; i++) {
      const frame = { ...f, cameraId: f.name, receivedAt: i * frameMs };
      refMs += time(() => reference(f));
      const t0 = cpuMs();
      const tracked = tracker.hints(frame.cameraId, frame);
      const v = gate.admit(frame, tracked.length > 0);
      decisions[v.decision]++;
      if (v.decision !== "skip") {
        // No backlog in this replay: the governor grants an active frame the full budget.
        const out = strategy(f, idleBudget(v.decision, cfg.budgetMs) ?? cfg.budgetMs, tracked);
        tracker.observe(frame.cameraId, frame, out.codes, out.candidates ?? []);
        if (out.codes.length > 0) phantom++;
      }
      camMs += cpuMs() - t0;
    }
  }
  const n = noCodeAll.length * nFrames;
  const amortised = camMs / n, refMean = refMs / n;
  const ratio = camMs / refMs;

  // Recall: a photo with a code shown to an idle camera whose slow schedule just ran.
  const recall = { photos: photos.length, withRead: 0, refRead: 0, prefilterPassed: 0, firstFrame: 0, within1s: 0, withinRun: 0, missedByPrefilter: [] as string[], notFirstFrame: [] as string[], unread: [] as string[] };
  const blank: LumaView = { width: 1920, height: 1080, stride: 1920, data: new Uint8Array(1920 * 1080).fill(128) };
  for (const [k, p] of photos.entries()) {
    const f = await fit1080(p.file);
    const ours = strategy(f, cfg.budgetMs).codes.length > 0;
    const ref = reference(f).codes.length > 0;
    if (ref) recall.refRead++;
    if (!ours && !ref) continue;
    recall.withRead++;
    const name = p.file.slice(PHOTOS.length + 1);
    if (probe.find(f).length > 0) recall.prefilterPassed++;
    else recall.missedByPrefilter.push(name);
    const cam = `photo${k}`;
    const g = new IdleGate(new Prefilter(), DEFAULT_IDLE_FULL_EVERY_MS);
    const tr = new SymbolTracker();
    g.admit({ ...blank, cameraId: cam, receivedAt: -frameMs }, false); // the slow schedule's last run
    let readAt: number | undefined;
    for (let i = 0; i < nFrames && readAt === undefined; i++) {
      const frame = { ...f, cameraId: cam, receivedAt: i * frameMs };
      const tracked = tr.hints(cam, frame);
      const v = g.admit(frame, tracked.length > 0);
      if (v.decision === "skip") continue;
      const out = strategy(f, idleBudget(v.decision, cfg.budgetMs) ?? cfg.budgetMs, tracked);
      tr.observe(cam, frame, out.codes, out.candidates ?? []);
      if (out.codes.length > 0) readAt = frame.receivedAt;
    }
    if (readAt === 0) recall.firstFrame++;
    else recall.notFirstFrame.push(`${name}${readAt === undefined ? "" : ` (${Math.round(readAt)} ms)`}`);
    if (readAt !== undefined && readAt <= 1000) recall.within1s++;
    if (readAt !== undefined) recall.withinRun++;
    else recall.unread.push(name);
  }

  printTable(
    `idle cost: 1080p frames WITHOUT a code (${noCode.length} generated + ${scenes.length} real scenes with the code painted over), CPU ms per frame, load ${loadavg()[0]!.toFixed(1)}`,
    ["what", "median ms", "p95 ms", "mean ms", "x reference (mean)"],
    [
      [`reference: zxing QR-only defaults on luma (${REPS} reps)`, sRef.median, sRef.p95, sRef.mean, 1],
      ["our full cascade (decode defaults)", sCas.median, sCas.p95, sCas.mean, sCas.mean / sRef.mean],
      ["our first pass only (budget 0)", sFast.median, sFast.p95, sFast.mean, sFast.mean / sRef.mean],
      ["prefilter alone", sPre.median, sPre.p95, sPre.mean, sPre.mean / sRef.mean],
      [`camera path as the pool decides (${SECONDS} s at ${FPS} fps per scene; reference on the same ${n} frames: ${fmt(refMean)} ms)`, "-", "-", amortised, ratio],
    ],
  );
  const share = (k: IdleDecision) => `${fmt((100 * decisions[k]) / n, 1)}%`;
  console.log(`camera path decisions: skipped ${share("skip")}, first pass ${share("first")} (new finder-like shape), slow schedule ${share("slow")} first pass + ${share("slow-full")} cascade, full cascade on a located symbol ${share("full")}; codes read (phantoms): ${phantom}`);
  console.log(`no-code frames the prefilter says "maybe" to: ${falseMaybe} of ${noCodeAll.length} (${strong} with paired finder patterns, ${weak} with a lone one)`);
  if (photos.length) {
    console.log(`recall: of ${recall.withRead} photos with a code read (by our cascade or the reference), shown to an idle camera: ${recall.firstFrame} read on the first frame, ${recall.within1s} within 1 s, ${recall.withinRun} within ${SECONDS} s; the prefilter passes ${recall.prefilterPassed}`);
    console.log(`  not on the first frame: ${recall.notFirstFrame.join(", ") || "none"}`);
  } else console.log(`real photos not found at ${PHOTOS}: recall rows skipped`);
  const failures: string[] = [];
  if (ratio > 0.3) failures.push(`no-code frame on the camera path ${fmt(ratio)}x reference > 0.3x`);
  const results = {
    loadavg: loadavg(), node: process.version, reps: REPS, seconds: SECONDS, fps: FPS, clock: "thread CPU time", noCodeFrames: noCodeAll.length,
    ms: { prefilter: sPre, cascade: sCas, firstPass: sFast, reference: sRef },
    falseMaybe, strong, weak,
    cameraPath: { frames: n, decisions, amortisedMs: amortised, referenceMs: refMean, ratio, phantomReads: phantom },
    recall, targetsMissed: failures,
  };
  console.log(`results: ${writeResults(OUT, results)}`);
  if (failures.length) {
    console.log(`TARGET MISSED: ${failures.join("; ")}`);
    process.exitCode = 1;
  } else console.log("targets met: no-code frame on the camera path <= 0.3x reference");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
