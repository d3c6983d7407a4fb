/**
 * `npm run bench:decode -- --rotations [--photos DIR]`: does the gain hold when the photos are
 * turned? The decode strategy was tuned on the dev photos, and some of its passes scan rows (the
 * finder scan behind `regrid` and `quietzone`, the prefilter), so a gain could hang on how the dev
 * photos happen to be oriented. Held-back photos of the same categories could be shot the other
 * way up; this turns every dev photo (fit-1080, then 0/90/180/270 degrees clockwise) and scores
 * the camera defaults and the reference (zxing-wasm QR-only defaults on the luma buffer) on each,
 * with the scoring rule of the photo section (returned corners mapped back to the photo's grid).
 *
 * Targets, per turn (the #9 read targets, applied to the turned set): pooled read rate >= 78%,
 * 0 misreads, no category below the reference by more than one code. A missed target exits
 * non-zero. The camera's budget runs on process CPU time (as in `--cost`), so a loaded machine
 * does not cut its passes; one repetition per photo and turn, the same for both contenders.
 */
import { loadavg } from "node:os";
import { decodeSection } from "../src/decode/options.js";
import { HeapImage, type LumaView } from "../src/decode/luma-read.js";
import { runStrategy } from "../src/decode/strategy.js";
import { PassCosts } from "../src/decode/pass-costs.js";
import { loadReaderModule, readVerifiedWasm } from "../src/decode/wasm-loader.js";
import type { DecodedCode } from "../src/core/types.js";
import { addScore, emptyTally, ratePct, scorePhoto, type Returned, type Tally } from "./lib/photo-score.js";
import { isPhotoSet, loadGray, loadPhotoSet } from "./lib/photo-set.js";
import { QUARTER_TURNS, rotateGray, unrotatePoint, type QuarterTurn } from "./lib/rotate.js";
import { printTable } from "./lib/stats.js";
import { REFERENCE_OPTIONS } from "./photos.js";

const FIT = { width: 1920, height: 1080 };
const POOLED = "POOLED";
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export interface RotationBenchResult {
  failures: string[];
  results: Record<string, unknown>;
}

export async function photoRotationBench(dir: string): Promise<RotationBenchResult> {
  if (!isPhotoSet(dir)) {
    console.log(`\nrotations: ${dir} is absent or not in the boofcv-dev layout: section skipped.`);
    return { failures: [], results: { skipped: `folder absent: ${dir}` } };
  }
  const loadStart = loadavg();
  const photos = loadPhotoSet(dir);
  const categories = [...new Set(photos.map((p) => p.category))];
  const { passes, budgetMs } = decodeSection.parse({});
  console.log(`\nrotations: ${photos.length} photos at fit-1080, turned 0/90/180/270 degrees; camera defaults [${passes.join(", ")}], budget ${budgetMs} ms (CPU clock); load avg ${loadStart.map((l) => l.toFixed(1)).join(" ")}`);

  const mod = await loadReaderModule(readVerifiedWasm());
  const heap = new HeapImage(mod);
  const costs = new PassCosts();
  const ours = (v: LumaView): DecodedCode[] => runStrategy(heap, { frame: v, passes, budgetMs }, costs, cpuMs).codes;
  const reference = (v: LumaView): DecodedCode[] => {
    heap.load(v);
    return heap.read(REFERENCE_OPTIONS).codes;
  };

  const tallies = new Map<QuarterTurn, { ours: Map<string, Tally>; ref: Map<string, Tally> }>(
    QUARTER_TURNS.map((d) => [d, { ours: new Map([...categories, POOLED].map((c) => [c, emptyTally()])), ref: new Map([...categories, POOLED].map((c) => [c, emptyTally()])) }]),
  );
  const misread: string[] = [];
  for (const p of photos) {
    const g = await loadGray(p.path, FIT);
    for (const deg of QUARTER_TURNS) {
      const r = rotateGray(g, deg);
      const v: LumaView = { ...r, stride: r.width };
      // Alternate who goes first per turn, so cache warmth favours neither.
      let a: DecodedCode[], b: DecodedCode[];
      if (deg % 180 === 0) {
        a = ours(v);
        b = reference(v);
      } else {
        b = reference(v);
        a = ours(v);
      }
      const back = (codes: DecodedCode[]): Returned[] => codes.map((c) => ({ text: c.text, corners: c.corners.map((pt) => unrotatePoint(deg, g.width, g.height, pt)) }));
      const so = scorePhoto(p.truth, p.consensus, back(a), g.scale);
      const sr = scorePhoto(p.truth, p.consensus, back(b), g.scale);
      if (so.misreads > 0) misread.push(`${p.category}/${p.name} at ${deg}`);
      const t = tallies.get(deg)!;
      for (const k of [p.category, POOLED]) {
        addScore(t.ours.get(k)!, so);
        addScore(t.ref.get(k)!, sr);
      }
    }
  }
  heap.free();

  const failures: string[] = [];
  const rows: Array<Array<string | number>> = [];
  const out: Record<string, unknown> = {};
  for (const k of [...categories, POOLED]) {
    const row: Array<string | number> = [k, String(tallies.get(0)!.ours.get(k)!.codes)];
    const perTurn: Record<string, unknown> = {};
    for (const deg of QUARTER_TURNS) {
      const o = tallies.get(deg)!.ours.get(k)!, r = tallies.get(deg)!.ref.get(k)!;
      row.push(`${o.read} / ${r.read}`);
      perTurn[deg] = { ours: { read: o.read, misreads: o.misreads, ratePct: ratePct(o) }, reference: { read: r.read, misreads: r.misreads, ratePct: ratePct(r) } };
      if (k !== POOLED && o.read < r.read - 1) failures.push(`${deg} degrees, ${k}: ${o.read} codes read < reference ${r.read} - 1`);
    }
    rows.push(row);
    out[k] = { codes: tallies.get(0)!.ours.get(k)!.codes, perTurn };
  }
  for (const deg of QUARTER_TURNS) {
    const o = tallies.get(deg)!.ours.get(POOLED)!;
    if (ratePct(o) < 78) failures.push(`${deg} degrees: pooled read rate ${ratePct(o)}% < 78%`);
    if (o.misreads > 0) failures.push(`${deg} degrees: ${o.misreads} misread(s)`);
  }
  for (const m of misread) console.log(`  MISREAD in ${m}`);
  printTable(
    "Photos turned (fit-1080, camera defaults): codes read, ours / reference, per turn clockwise",
    ["category", "codes", "0 deg", "90 deg", "180 deg", "270 deg"],
    rows,
  );
  const pooled = QUARTER_TURNS.map((d) => `${d}: ${ratePct(tallies.get(d)!.ours.get(POOLED)!)}% vs ${ratePct(tallies.get(d)!.ref.get(POOLED)!)}%`).join(", ");
  const loadEnd = loadavg();
  console.log(`\nrotations verdict: ${failures.length === 0 ? "PASS" : `FAIL: ${failures.join("; ")}`}\n  pooled ours vs reference: ${pooled}; load avg at end ${loadEnd.map((l) => l.toFixed(1)).join(" ")}`);
  return {
    failures,
    results: { dir, clock: "cpu", loadavgStart: loadStart, loadavgEnd: loadEnd, camera: { passes, budgetMs }, reference: "zxing-wasm readBarcodesFromPixmap, defaultReaderOptions with formats [QRCode], on the luma buffer", turns: QUARTER_TURNS, categories: out, misreads: misread, failures },
  };
}
