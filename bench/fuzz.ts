/**
 * `npm run fuzz`: at least 10^6 mutated inputs per format (pass, DCC, SHC, trust list, deny list),
 * each checked on its own against the invariant in bench/lib/fuzz-targets.ts (no crash, never PASS
 * what we did not sign), outside the normal test run. Worker threads share the index range of each
 * format; a per-input time limit counts slow inputs as hangs, and a watchdog terminates a worker
 * that stops making progress (a real hang), counts that input and restarts after it.
 *
 *   npm run fuzz [-- --n 1000000 --workers 2 --seed 1 --formats pass,dcc,shc,list,deny-list --hang-ms 2000]
 *
 * Prints counts, crashes, hangs and unsigned PASS per format, writes bench/results/fuzz.json and
 * exits 1 on any of them (or when fewer than n inputs ran).
 */
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createTarget, FORMATS, inputSeed, rng, type FuzzFormat } from "./lib/fuzz-targets.js";
import { writeResults } from "./lib/stats.js";

interface Job {
  format: FuzzFormat;
  seed: number;
  /** Indices start, start + step, ... below end. */
  start: number;
  step: number;
  end: number;
  hangMs: number;
  /** progress[0] = index being run now (for the watchdog). */
  progress: SharedArrayBuffer;
}

interface Failure {
  format: FuzzFormat;
  index: number;
  kind: "crash" | "unsigned-pass" | "hang";
  detail: string;
}

type Msg =
  | { t: "batch"; inputs: number; passes: number; signed: number; maxMs: number; reasons: Record<string, number> }
  | { t: "failure"; failure: Failure }
  | { t: "done" };

const REPORT_EVERY = 5000;

async function workerMain(job: Job): Promise<void> {
  const target = await createTarget(job.format);
  const now = new Int32Array(job.progress);
  let batch = { inputs: 0, passes: 0, signed: 0, maxMs: 0, reasons: {} as Record<string, number> };
  const flush = () => {
    parentPort!.postMessage({ t: "batch", ...batch } satisfies Msg);
    batch = { inputs: 0, passes: 0, signed: 0, maxMs: 0, reasons: {} };
  };
  for (let i = job.start; i < job.end; i += job.step) {
    Atomics.store(now, 0, i);
    const input = target.input(rng(inputSeed(job.seed, job.format, i)));
    const t0 = performance.now();
    let out;
    try {
      out = await target.run(input);
    } catch (e) {
      out = { reason: "THREW", pass: false, violation: { kind: "crash" as const, detail: (e as Error).message } };
    }
    const ms = performance.now() - t0;
    batch.inputs++;
    batch.maxMs = Math.max(batch.maxMs, ms);
    if (out.pass) batch.passes++;
    if (input.signed) batch.signed++;
    batch.reasons[out.reason] = (batch.reasons[out.reason] ?? 0) + 1;
    if (out.violation) parentPort!.postMessage({ t: "failure", failure: { format: job.format, index: i, ...out.violation } } satisfies Msg);
    if (ms > job.hangMs) parentPort!.postMessage({ t: "failure", failure: { format: job.format, index: i, kind: "hang", detail: `took ${ms.toFixed(0)} ms (limit ${job.hangMs})` } } satisfies Msg);
    if (batch.inputs >= REPORT_EVERY) flush();
  }
  flush();
  parentPort!.postMessage({ t: "done" } satisfies Msg);
}

interface FormatResult {
  inputs: number;
  passes: number;
  signedInputs: number;
  crashes: number;
  hangs: number;
  unsignedPass: number;
  maxInputMs: number;
  seconds: number;
  reasons: Record<string, number>;
}

/** Runs one worker over its share; restarts after the stuck input when the watchdog fires. */
function runShare(format: FuzzFormat, seed: number, start: number, step: number, end: number, hangMs: number, res: FormatResult, failures: Failure[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const progress = new SharedArrayBuffer(4);
    const job: Job = { format, seed, start, step, end, hangMs, progress };
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: job });
    let lastBeat = Date.now();
    let finished = false;
    const record = (f: Failure) => {
      if (f.kind === "crash") res.crashes++;
      else if (f.kind === "hang") res.hangs++;
      else res.unsignedPass++;
      if (failures.length < 50) failures.push(f);
      console.error(`  ${f.kind.toUpperCase()} ${f.format} #${f.index} (seed ${seed}): ${f.detail}`);
    };
    const watchdog = setInterval(() => {
      if (Date.now() - lastBeat < Math.max(30_000, hangMs * 5)) return;
      // No batch for a long time: the input being run is stuck. Count it and go on after it.
      const stuck = Atomics.load(new Int32Array(progress), 0);
      clearInterval(watchdog);
      finished = true;
      record({ format, index: stuck, kind: "hang", detail: "no progress: worker terminated" });
      res.inputs++;
      void w.terminate().then(() => runShare(format, seed, stuck + step, step, end, hangMs, res, failures).then(resolve, reject));
    }, 1000);
    w.on("message", (m: Msg) => {
      lastBeat = Date.now();
      if (m.t === "batch") {
        res.inputs += m.inputs;
        res.passes += m.passes;
        res.signedInputs += m.signed;
        res.maxInputMs = Math.max(res.maxInputMs, m.maxMs);
        for (const [k, n] of Object.entries(m.reasons)) res.reasons[k] = (res.reasons[k] ?? 0) + n;
      } else if (m.t === "failure") record(m.failure);
      else {
        finished = true;
        clearInterval(watchdog);
        resolve();
      }
    });
    w.on("error", (e) => {
      if (finished) return;
      // A crash of the worker itself (out of memory, native fault): count it and go on after that input.
      const at = Atomics.load(new Int32Array(progress), 0);
      finished = true;
      clearInterval(watchdog);
      record({ format, index: at, kind: "crash", detail: `worker died: ${e.message}` });
      res.inputs++;
      runShare(format, seed, at + step, step, end, hangMs, res, failures).then(resolve, reject);
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: "string", default: "1000000" },
      workers: { type: "string", default: "2" },
      seed: { type: "string", default: "1" },
      formats: { type: "string", default: FORMATS.join(",") },
      "hang-ms": { type: "string", default: "2000" },
    },
  });
  const n = Number(values.n);
  const workers = Math.max(1, Number(values.workers));
  const seed = Number(values.seed);
  const hangMs = Number(values["hang-ms"]);
  const formats = values.formats.split(",").map((f) => f.trim()) as FuzzFormat[];
  for (const f of formats) if (!FORMATS.includes(f)) throw new Error(`unknown format ${f} (one of ${FORMATS.join(", ")})`);
  const loadBefore = loadavg();
  const t0 = Date.now();
  const results: Partial<Record<FuzzFormat, FormatResult>> = {};
  const failures: Failure[] = [];
  console.log(`fuzz: ${n} inputs per format, ${workers} worker threads, seed ${seed}, per-input limit ${hangMs} ms`);
  for (const format of formats) {
    const res: FormatResult = { inputs: 0, passes: 0, signedInputs: 0, crashes: 0, hangs: 0, unsignedPass: 0, maxInputMs: 0, seconds: 0, reasons: {} };
    const f0 = Date.now();
    await Promise.all(Array.from({ length: workers }, (_, w) => runShare(format, seed, w, workers, n, hangMs, res, failures)));
    res.seconds = (Date.now() - f0) / 1000;
    results[format] = res;
    console.log(
      `${format.padEnd(10)} inputs ${String(res.inputs).padStart(8)}  crashes ${res.crashes}  hangs ${res.hangs}  unsigned PASS ${res.unsignedPass}  ` +
        `(signed ${res.signedInputs}, PASS/accepted ${res.passes}, slowest ${res.maxInputMs.toFixed(1)} ms, ${res.seconds.toFixed(0)} s)`,
    );
  }
  const seconds = (Date.now() - t0) / 1000;
  const all = Object.values(results);
  const bad = all.some((r) => r.crashes + r.hangs + r.unsignedPass > 0 || r.inputs < n);
  const file = writeResults("fuzz", {
    perFormat: n,
    workers,
    seed,
    hangMs,
    seconds,
    loadavgBefore: loadBefore,
    loadavgAfter: loadavg(),
    totals: { inputs: all.reduce((a, r) => a + r.inputs, 0), crashes: all.reduce((a, r) => a + r.crashes, 0), hangs: all.reduce((a, r) => a + r.hangs, 0), unsignedPass: all.reduce((a, r) => a + r.unsignedPass, 0) },
    results,
    failures,
    ok: !bad,
  });
  console.log(`total ${seconds.toFixed(0)} s; results in ${file}`);
  if (bad) {
    console.error("fuzz: FAILED (crashes, hangs, unsigned PASS, or fewer inputs than asked)");
    process.exitCode = 1;
  }
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
} else {
  void workerMain(workerData as Job).catch((e: unknown) => {
    throw e;
  });
}
