/**
 * `npm run bench:decode -- --cost [DIR]`: where the camera defaults' mean time per photo goes on
 * real photos (fit-1080), and the floor under it (#9: mean <= 0.5x the zxing QR-defaults reference).
 *
 *   camera: the live camera defaults (config `decode` passes and budget), each pass timed through
 *           the strategy's own cost hook (PassCosts.record); photos split by outcome: read by the
 *           first pass, read by a later pass, nothing read.
 *   candidates: single zxing calls (QR only) at 1080p and at 960x540 (2x2 box downscale), with and
 *           without tryHarder / the pyramid / the tone gamma, and the other binarizers: cost and
 *           what each reads.
 *   oracle: per photo, the cheapest single candidate that reads every code the camera defaults
 *           read there. Its mean, against the reference's in the same run, is the floor for any
 *           one-call-per-photo strategy that reads what the camera reads.
 *
 * Every contender runs on every photo with the same repetitions, interleaved per photo in one
 * thread (the order rotates each repetition); a photo's cost is the median of its repetitions,
 * in process CPU time (process.cpuUsage) by default, wall time with BENCH_COST_CLOCK=wall. Costs
 * are reported as ratios to the reference measured in the same loop, which is what the target
 * is; absolute ms move with load. The camera's budget and per-pass times use the same clock (with
 * CPU time, a loaded machine does not cut its passes: it runs what a quiet one would).
 * Env: BENCH_COST_REPS (default 3), BENCH_COST_CLOCK (cpu | wall).
 */
import { loadavg } from "node:os";
import type { DecodedCode, Point } from "../src/core/types.js";
import { decodeSection, type DecodePassName } from "../src/decode/options.js";
import { HeapImage, type LumaView, type Quad } from "../src/decode/luma-read.js";
import { baseQrOptions, encodeReaderOptions, type EncodedReaderOptions } from "../src/decode/reader-options.js";
import { downscale2Into } from "../src/decode/preprocess.js";
import { runStrategy } from "../src/decode/strategy.js";
import { PassCosts } from "../src/decode/pass-costs.js";
import { autoGamma, gammaLut, lutInto, sampledMedian } from "../src/decode/tone.js";
import { loadReaderModule, readVerifiedWasm } from "../src/decode/wasm-loader.js";
import { scorePhoto, type Returned } from "./lib/photo-score.js";
import { isPhotoSet, loadGray, loadPhotoSet, type LoadedGray } from "./lib/photo-set.js";
import { fmt, printTable } from "./lib/stats.js";
import { REFERENCE_OPTIONS } from "./photos.js";

const REPS = Math.max(1, Number(process.env.BENCH_COST_REPS ?? 3));
/**
 * What a photo's cost is: CPU time of the process (default; the bench is single-threaded, so it is
 * the decode's, and far less distorted than wall time when other jobs share the cores) or wall time.
 */
const COST: "cpu" | "wall" = process.env.BENCH_COST_CLOCK === "wall" ? "wall" : "cpu";
/** The camera's budget and per-pass times run on the same clock (CPU: what a quiet machine sees). */
const clock = COST === "cpu" ? () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
} : () => performance.now();
const FIT = { width: 1920, height: 1080 };

type Call = (heap: HeapImage, frame: LumaView) => DecodedCode[];

const qr = (o: Partial<typeof baseQrOptions>): EncodedReaderOptions => encodeReaderOptions({ ...baseQrOptions, ...o });

function full(opts: EncodedReaderOptions, gamma = false): Call {
  return (heap, frame) => {
    const g = gamma ? autoGamma(sampledMedian(frame)) : 1;
    if (g === 1) heap.load(frame);
    else lutInto(frame, gammaLut(g), heap.reserve(frame.width, frame.height));
    return heap.read(opts).codes;
  };
}

/** The frame box-downscaled 2x (960x540 at 1080p), optionally through the tone gamma first. */
function half(opts: EncodedReaderOptions, gamma = false): Call {
  let tmp = new Uint8Array(0);
  return (heap, frame) => {
    const g = gamma ? autoGamma(sampledMedian(frame)) : 1;
    let src = frame;
    if (g !== 1) {
      if (tmp.length < frame.width * frame.height) tmp = new Uint8Array(frame.width * frame.height);
      lutInto(frame, gammaLut(g), tmp);
      src = { width: frame.width, height: frame.height, stride: frame.width, data: tmp };
    }
    downscale2Into(src, heap.reserve(frame.width >> 1, frame.height >> 1));
    return heap.read(opts).codes.map((c) => ({ ...c, corners: c.corners.map((p: Point) => [p[0] * 2, p[1] * 2]) as Quad }));
  };
}

const CANDIDATES: Record<string, { what: string; call: Call }> = {
  reference: { what: "zxing-wasm QR-only defaults (tryHarder, tryRotate, tryInvert, pyramid), luma", call: full(REFERENCE_OPTIONS) },
  tone: { what: "our tone pass alone: median gamma + tryHarder + pyramid (factor 3)", call: (h, f) => runStrategy(h, { frame: f, passes: ["tone"], budgetMs: 1e9 }, new PassCosts()).codes },
  fast: { what: "1080p, no tryHarder, no pyramid", call: full(qr({})) },
  "fast+gamma": { what: "1080p, tone gamma, no tryHarder, no pyramid", call: full(qr({}), true) },
  harder: { what: "1080p, tryHarder, no pyramid", call: full(qr({ tryHarder: true })) },
  pyramid: { what: "1080p, pyramid (factor 3), no tryHarder", call: full(qr({ tryDownscale: true, downscaleFactor: 3 })) },
  "pyramid+gamma": { what: "1080p, tone gamma + pyramid, no tryHarder", call: full(qr({ tryDownscale: true, downscaleFactor: 3 }), true) },
  "harder+pyramid": { what: "1080p, tryHarder + pyramid, no gamma", call: full(qr({ tryHarder: true, tryDownscale: true, downscaleFactor: 3 })) },
  "half-fast": { what: "960x540 box, no tryHarder", call: half(qr({})) },
  "half-fast+gamma": { what: "960x540 box, tone gamma, no tryHarder", call: half(qr({}), true) },
  "half-harder": { what: "960x540 box, tryHarder", call: half(qr({ tryHarder: true })) },
  "half-harder+gamma": { what: "960x540 box, tone gamma + tryHarder", call: half(qr({ tryHarder: true }), true) },
  "fast-globalhist": { what: "1080p, GlobalHistogram binarizer, no tryHarder", call: full(qr({ binarizer: "GlobalHistogram" })) },
  "fast-fixed": { what: "1080p, FixedThreshold binarizer, no tryHarder", call: full(qr({ binarizer: "FixedThreshold" })) },
};

interface PerPhoto {
  photo: string;
  codes: number;
  cameraRead: number;
  outcome: "first" | "later" | "none";
  cameraMs: number;
  cameraPasses: Record<string, number>;
  ms: Record<string, number>;
  read: Record<string, number>;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / (v.length || 1);

/** PassCosts that also keeps each pass's time for the photo being measured. */
class TimedCosts extends PassCosts {
  current: Record<string, number> = {};
  override record(pass: DecodePassName, pixels: number, ms: number): void {
    this.current[pass] = (this.current[pass] ?? 0) + ms;
    super.record(pass, pixels, ms);
  }
}

export async function photoCostBench(dir: string): Promise<{ failures: string[]; results: Record<string, unknown> }> {
  if (!isPhotoSet(dir)) {
    console.log(`\ncost: ${dir} is absent or not in the boofcv-dev layout: section skipped.`);
    return { failures: [], results: { skipped: `folder absent: ${dir}` } };
  }
  const loadStart = loadavg();
  const photos = loadPhotoSet(dir);
  const defaults = decodeSection.parse({});
  const camera = { passes: defaults.passes, budgetMs: defaults.budgetMs };
  console.log(`\ncost: ${photos.length} photos at fit-1080, reps ${REPS}, camera [${camera.passes.join(", ")}] budget ${camera.budgetMs} ms; load avg ${loadStart.map((l) => l.toFixed(1)).join(" ")}`);
  const mod = await loadReaderModule(readVerifiedWasm());
  const heap = new HeapImage(mod);
  const fit: LoadedGray[] = [];
  for (const p of photos) fit.push(await loadGray(p.path, FIT));
  const costs = new TimedCosts();
  const names = ["camera", ...Object.keys(CANDIDATES)];
  const cpu: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const runOne = (name: string, frame: LumaView): { codes: DecodedCode[]; ms: number; cpuMs: number; passes?: Record<string, number>; foundFirst?: boolean } => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let codes: DecodedCode[];
    let passes: Record<string, number> | undefined;
    let foundFirst: boolean | undefined;
    if (name === "camera") {
      costs.current = {};
      const out = runStrategy(heap, { frame, passes: camera.passes, budgetMs: camera.budgetMs }, costs, clock);
      codes = out.codes;
      passes = costs.current;
      foundFirst = out.foundBy === camera.passes[0];
    } else codes = CANDIDATES[name]!.call(heap, frame);
    const ms = performance.now() - t0;
    const d = process.cpuUsage(c0);
    const cpuMs = (d.user + d.system) / 1000;
    cpu[name]! += cpuMs;
    return { codes, ms, cpuMs, ...(passes ? { passes } : {}), ...(foundFirst !== undefined ? { foundFirst } : {}) };
  };
  // Warm-up (JIT, wasm tier-up), not measured.
  for (const g of fit.slice(0, 6)) for (const n of names) runOne(n, { ...g, stride: g.width });
  for (const n of names) cpu[n] = 0;

  const per: PerPhoto[] = [];
  const masks: Record<string, boolean[][]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < photos.length; i++) {
    const p = photos[i]!, g = fit[i]!;
    const frame: LumaView = { ...g, stride: g.width };
    const ms: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const mask: Record<string, boolean[]> = {};
    let cam: { ms: number; passes: Record<string, number>; first: boolean; returned: number }[] = [];
    for (let k = 0; k < REPS; k++) {
      for (let j = 0; j < names.length; j++) {
        const n = names[(j + k) % names.length]!;
        const r = runOne(n, frame);
        ms[n]!.push(COST === "cpu" ? r.cpuMs : r.ms);
        if (n === "camera") cam.push({ ms: COST === "cpu" ? r.cpuMs : r.ms, passes: r.passes!, first: r.foundFirst!, returned: r.codes.length });
        const s = scorePhoto(p.truth, p.consensus, r.codes as Returned[], g.scale);
        // The worst repetition's reads count (as in bench/photos.ts).
        mask[n] = mask[n] ? mask[n].map((b, x) => b && s.readMask[x]!) : s.readMask;
      }
    }
    cam = cam.sort((a, b) => a.ms - b.ms);
    const mid = cam[cam.length >> 1]!;
    const cameraRead = mask.camera!.filter(Boolean).length;
    for (const n of names) masks[n]!.push(mask[n]!);
    per.push({
      photo: `${p.category}/${p.name}`,
      codes: p.truth.length,
      cameraRead,
      outcome: mid.first ? "first" : mid.returned > 0 ? "later" : "none",
      cameraMs: median(ms.camera!),
      cameraPasses: mid.passes,
      ms: Object.fromEntries(names.map((n) => [n, median(ms[n]!)])),
      read: Object.fromEntries(names.map((n) => [n, mask[n]!.filter(Boolean).length])),
    });
  }

  const refMean = mean(per.map((x) => x.ms.reference!));
  const camMean = mean(per.map((x) => x.cameraMs));
  const totalCodes = per.reduce((a, x) => a + x.codes, 0);

  // Outcome classes: count, mean ms, share of the camera's summed time, time by pass.
  const classes: Record<string, unknown> = {};
  const rowsO: Array<Array<string | number>> = [];
  const passNames = [...new Set(per.flatMap((x) => Object.keys(x.cameraPasses)))];
  for (const o of ["first", "later", "none"] as const) {
    const xs = per.filter((x) => x.outcome === o);
    const sum = xs.reduce((a, x) => a + x.cameraMs, 0);
    const byPass = Object.fromEntries(passNames.map((n) => [n, xs.reduce((a, x) => a + (x.cameraPasses[n] ?? 0), 0) / (xs.length || 1)]));
    classes[o] = { photos: xs.length, codesRead: xs.reduce((a, x) => a + x.cameraRead, 0), meanMs: sum / (xs.length || 1), shareOfMean: sum / (camMean * per.length), meanMsByPass: byPass };
    rowsO.push([o, xs.length, xs.reduce((a, x) => a + x.cameraRead, 0), sum / (xs.length || 1), `${fmt((100 * sum) / (camMean * per.length))}%`, ...passNames.map((n) => byPass[n]!)]);
  }
  printTable(`Camera defaults by outcome (first = a code returned by the first pass; later = by a later pass; none = nothing returned): mean ms per photo and by pass; camera mean ${fmt(camMean)} ms, reference ${fmt(refMean)} ms (${fmt(camMean / refMean)}x)`, ["outcome", "photos", "codes read", "mean ms", "share", ...passNames], rowsO);

  // Candidates: cost (mean, as a ratio to the reference) and reads.
  const cand: Record<string, unknown> = {};
  const rowsC: Array<Array<string | number>> = [];
  for (const n of names) {
    const m = n === "camera" ? camMean : mean(per.map((x) => x.ms[n]!));
    const read = per.reduce((a, x) => a + x.read[n]!, 0);
    // Codes the camera reads that this call misses.
    const missed = masks[n]!.reduce((a, mk, i) => a + mk.filter((b, j) => !b && masks.camera![i]![j]).length, 0);
    cand[n] = { what: n === "camera" ? `camera defaults [${camera.passes.join(", ")}], budget ${camera.budgetMs} ms` : CANDIDATES[n]!.what, meanMs: m, ratio: m / refMean, cpuMsPerPhoto: cpu[n]! / (per.length * REPS), read, ratePct: Math.round((1000 * read) / totalCodes) / 10, missesOfCamera: missed };
    rowsC.push([n, m, fmt(m / refMean), cpu[n]! / (per.length * REPS), read, `${fmt((100 * read) / totalCodes)}%`, missed]);
  }
  printTable(`Single calls at fit-1080: mean ms per photo (${COST}, median of reps), ratio to the reference, summed CPU ms per call, codes read (worst rep), camera's codes missed`, ["call", "mean ms", "x ref", "cpu ms", "read", "rate", "misses cam"], rowsC);

  // Oracle: per photo the cheapest single candidate whose reads include the camera's.
  const singles = Object.keys(CANDIDATES).filter((n) => n !== "reference");
  const oracle = (unread: "cheapest" | "zero") => {
    let sum = 0;
    let uncovered = 0;
    const used: Record<string, number> = {};
    per.forEach((x, i) => {
      const cheapest = Math.min(...singles.map((n) => x.ms[n]!));
      if (x.cameraRead === 0) {
        sum += unread === "zero" ? 0 : cheapest;
        return;
      }
      const ok = singles.filter((n) => masks.camera![i]!.every((b, j) => !b || masks[n]![i]![j]));
      if (ok.length === 0) {
        // No single call reads it all (the camera needed crops or an exposure pass): at least
        // the cheapest call is spent, so counting only that keeps this a lower bound.
        uncovered++;
        sum += cheapest;
        used["(none covers: cheapest call counted)"] = (used["(none covers: cheapest call counted)"] ?? 0) + 1;
        return;
      }
      const best = ok.reduce((a, b) => (x.ms[a]! <= x.ms[b]! ? a : b));
      used[best] = (used[best] ?? 0) + 1;
      sum += x.ms[best]!;
    });
    return { meanMs: sum / per.length, ratio: sum / per.length / refMean, photosNoSingleCallCovers: uncovered, cheapestCovering: used };
  };
  const floor = { unreadCostCheapestCall: oracle("cheapest"), unreadCostZero: oracle("zero") };
  const unread = per.filter((x) => x.cameraRead === 0);
  const cheapestMean = mean(per.map((x) => Math.min(...singles.map((n) => x.ms[n]!))));
  console.log(`\nfloor (oracle: per photo the cheapest single call reading the camera's codes; unread photos cost the cheapest call): ${fmt(floor.unreadCostCheapestCall.meanMs)} ms = ${fmt(floor.unreadCostCheapestCall.ratio)}x the reference (${fmt(refMean)} ms); with unread photos free: ${fmt(floor.unreadCostZero.ratio)}x. ${floor.unreadCostCheapestCall.photosNoSingleCallCovers} photos need more than one call. Cheapest call on every photo: ${fmt(cheapestMean / refMean)}x.`);
  console.log(`  cheapest covering call: ${JSON.stringify(floor.unreadCostCheapestCall.cheapestCovering)}; ${unread.length} photos with no code read cost the camera ${fmt(mean(unread.map((x) => x.cameraMs)))} ms each`);
  // Bounds for cascades, from the same per-photo rows. A cheap call first, the camera defaults only
  // when it returns nothing (a cascade stops at its first read): cost, reads, categories below the
  // reference by more than one code. And tone on every photo (any cascade that starts with it pays
  // that), and the camera if the photos nothing reads cost only tone.
  const category = (x: PerPhoto) => x.photo.split("/")[0]!;
  const refByCat = new Map<string, number>();
  for (const x of per) refByCat.set(category(x), (refByCat.get(category(x)) ?? 0) + x.read.reference!);
  const cascades: Record<string, unknown> = {};
  const rowsK: Array<Array<string | number>> = [];
  for (const first of ["half-fast", "half-harder", "fast", "harder", "fast-globalhist"]) {
    let sum = 0, read = 0;
    const byCat = new Map<string, number>();
    for (const x of per) {
      const hit = x.read[first]! > 0;
      sum += x.ms[first]! + (hit ? 0 : x.cameraMs);
      const r = hit ? x.read[first]! : x.cameraRead;
      read += r;
      byCat.set(category(x), (byCat.get(category(x)) ?? 0) + r);
    }
    const below = [...refByCat].filter(([c, n]) => (byCat.get(c) ?? 0) < n - 1).map(([c, n]) => `${c} ${byCat.get(c) ?? 0}/${n}`);
    cascades[`${first}, then camera`] = { ratio: sum / per.length / refMean, read, belowReference: below };
    rowsK.push([`${first}, then camera`, fmt(sum / per.length / refMean), read, below.join(", ") || "-"]);
  }
  const toneAll = mean(per.map((x) => x.ms.tone!)) / refMean;
  const noneAsTone = mean(per.map((x) => (x.outcome === "none" ? x.ms.tone! : x.cameraMs))) / refMean;
  cascades["tone on every photo"] = { ratio: toneAll };
  cascades["camera, photos with nothing returned costing only tone"] = { ratio: noneAsTone };
  rowsK.push(["tone on every photo", fmt(toneAll), "", ""], ["camera, nothing-returned photos at tone cost", fmt(noneAsTone), "", ""]);
  printTable("Cascade bounds from the same rows: mean as a ratio to the reference, codes read, categories below the reference by more than one code", ["cascade", "x ref", "read", "below reference"], rowsK);
  const loadEnd = loadavg();
  console.log(`  load avg at end ${loadEnd.map((l) => l.toFixed(1)).join(" ")}`);
  heap.free();
  return {
    failures: [],
    results: {
      dir,
      reps: REPS,
      clock: COST,
      machine: "2 cores shared with other jobs during the run (see loadavg): absolute ms are inflated; the ratios to the reference measured in the same loop are the figures to use (CPU clock: the camera's budget counts CPU time too)",
      loadavgStart: loadStart,
      loadavgEnd: loadEnd,
      camera,
      referenceMeanMs: refMean,
      cameraMeanMs: camMean,
      byOutcome: classes,
      calls: cand,
      floor,
      cascades,
      cheapestCallEveryPhotoRatio: cheapestMean / refMean,
      perPhoto: per,
    },
  };
}
