/**
 * `npm run bench:decode -- --cold [--photos DIR]`: what a traveller pays on a fresh decode worker
 * (after a start, a deploy, or a worker the pool replaced), with and without the worker warm-up
 * (src/decode/warm-up.ts). Each trial starts a one-worker pool and decodes the same six dev photos
 * (fit-1080, camera defaults, prefilter off so every frame is decoded) one after another, as one
 * camera's frames; a trial with `warmUpRounds: 0` and one with the default alternate, TRIALS times
 * each. Reported per frame index: the median worker CPU ms (wall ms where the runtime cannot tell),
 * and the pool's start time (what the warm-up costs).
 *
 * Targets: with the warm-up, the first frame costs at most 0.5x what it costs without it, and the
 * six together at most 0.85x (sums of the per-index medians; the first real frame warms the rest
 * of a cold worker, so the gain is mostly there). A miss exits non-zero. Skipped when the photo
 * folder is absent.
 */
import { loadavg } from "node:os";
import { decodeSection } from "../src/decode/options.js";
import { DecodePool } from "../src/decode/pool.js";
import { isPhotoSet, loadGray, loadPhotoSet, type LoadedGray } from "./lib/photo-set.js";
import { fmt, printTable, quantile } from "./lib/stats.js";

const TRIALS = Math.max(1, Number(process.env.BENCH_COLD_TRIALS ?? 9));
const PICK = ["nominal/image003", "glare/image005", "rotations/image010", "damaged/image005", "blurred/image002", "perspective/image004"];
const FIRST_TARGET = 0.5;
const ALL_TARGET = 0.85;

export interface ColdStartResult {
  failures: string[];
  results: Record<string, unknown>;
}

async function trial(frames: readonly LoadedGray[], warmUpRounds: number | undefined): Promise<{ startMs: number; ms: number[] }> {
  const d = decodeSection.parse({});
  const t0 = performance.now();
  const pool = await DecodePool.create({ workers: 1, deadlineMs: d.deadlineMs, budgetMs: d.budgetMs, passes: d.passes, escalateIntervalMs: d.escalateIntervalMs, prefilter: false, ...(warmUpRounds !== undefined ? { warmUpRounds } : {}) });
  const startMs = performance.now() - t0;
  const ms: number[] = [];
  try {
    let seq = 0;
    for (const g of frames) {
      const r = await pool.submit({ cameraId: "cold", seq: ++seq, width: g.width, height: g.height, stride: g.width, data: g.data.slice(), receivedAt: performance.now() });
      if (!r || r.error) throw new Error(`frame ${seq} not decoded: ${r?.error?.message ?? "dropped"}`);
      ms.push(r.timings.cpuMs ?? r.timings.decodeMs);
    }
  } finally {
    await pool.close();
  }
  return { startMs, ms };
}

export async function coldStartBench(dir: string): Promise<ColdStartResult> {
  if (!isPhotoSet(dir)) {
    console.log(`\ncold start: ${dir} is absent or not in the boofcv-dev layout: section skipped.`);
    return { failures: [], results: { skipped: `folder absent: ${dir}` } };
  }
  const loadStart = loadavg();
  const photos = loadPhotoSet(dir);
  const frames: LoadedGray[] = [];
  for (const id of PICK) {
    const p = photos.find((x) => `${x.category}/${x.name}`.startsWith(id));
    if (!p) throw new Error(`cold start: ${id} is not in ${dir}`);
    frames.push(await loadGray(p.path, { width: 1920, height: 1080 }));
  }
  console.log(`\ncold start: ${TRIALS} trials each, one-worker pools, ${frames.length} dev photos at fit-1080 as one camera's first frames; load avg ${loadStart.map((l) => l.toFixed(1)).join(" ")}`);
  const runs: Record<"cold" | "warm", Array<{ startMs: number; ms: number[] }>> = { cold: [], warm: [] };
  for (let t = 0; t < TRIALS; t++) {
    // Alternate which goes first, so neither always meets a machine warmed by the other.
    const order: Array<"cold" | "warm"> = t % 2 === 0 ? ["cold", "warm"] : ["warm", "cold"];
    for (const k of order) runs[k].push(await trial(frames, k === "cold" ? 0 : undefined));
  }
  const med = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
  const perIndex = (k: "cold" | "warm") => frames.map((_, i) => med(runs[k].map((r) => r.ms[i]!)));
  const cold = perIndex("cold"), warm = perIndex("warm");
  const startCold = med(runs.cold.map((r) => r.startMs)), startWarm = med(runs.warm.map((r) => r.startMs));
  printTable(
    "Cold start: a fresh worker's first frames, median worker ms per frame (CPU where the runtime can tell), without and with the warm-up",
    ["frame", "photo", "no warm-up", "warm-up", "ratio"],
    frames.map((_, i) => [String(i + 1), PICK[i]!, cold[i]!, warm[i]!, warm[i]! / cold[i]!]),
  );
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const first = warm[0]! / cold[0]!, all = sum(warm) / sum(cold);
  const failures = [
    ...(first <= FIRST_TARGET ? [] : [`first frame with the warm-up ${fmt(warm[0]!)} ms > ${FIRST_TARGET}x without (${fmt(cold[0]!)} ms)`]),
    ...(all <= ALL_TARGET ? [] : [`six frames with the warm-up ${fmt(sum(warm))} ms > ${ALL_TARGET}x without (${fmt(sum(cold))} ms)`]),
  ];
  console.log(`pool start (median): ${fmt(startCold)} ms without the warm-up, ${fmt(startWarm)} ms with it`);
  console.log(`cold start verdict: ${failures.length === 0 ? "PASS" : `FAIL: ${failures.join("; ")}`} (first frame ${fmt(first)}x, six frames ${fmt(all)}x)`);
  return {
    failures,
    results: { dir, trials: TRIALS, photos: PICK, loadavgStart: loadStart, loadavgEnd: loadavg(), clock: "worker CPU (threadCpuUsage) where available, else worker wall", perFrameMs: { noWarmUp: cold, warmUp: warm }, poolStartMs: { noWarmUp: startCold, warmUp: startWarm }, ratio: { firstFrame: first, sixFrames: all }, targets: { firstFrame: FIRST_TARGET, sixFrames: ALL_TARGET }, failures },
  };
}
