/**
 * Decode worker: one zxing-wasm instance per thread (the glue is single-threaded). Receives
 * transferred luma frames, runs the strategy, posts codes back. Any exception escapes on purpose:
 * the pool treats it as a crash and replaces this worker, since the wasm state may be corrupt.
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadReaderModule } from "./wasm-loader.js";
import { HeapImage } from "./luma-read.js";
import { runStrategy } from "./strategy.js";
import { PassCosts } from "./pass-costs.js";
import type { DecodeJob, WorkerInit, WorkerMessage } from "./protocol.js";
import { WaitingBoard } from "./early-stop.js";
import { runCropFirst } from "./watch-read.js";
import { warmUp } from "./warm-up.js";

const init = workerData as WorkerInit;
/**
 * Per-thread CPU time (Node >= 23.9, getrusage RUSAGE_THREAD): what a frame costs regardless of how
 * loaded the machine is. Tick-granular per frame (a few ms), unbiased over many frames.
 */
const threadCpu = (process as { threadCpuUsage?: (prev?: NodeJS.CpuUsage) => NodeJS.CpuUsage }).threadCpuUsage?.bind(process);
const cpuMsSince = (prev: NodeJS.CpuUsage) => {
  const d = threadCpu!(prev);
  return (d.user + d.system) / 1000;
};
const port = parentPort;
if (!port) throw new Error("decode worker must run in a worker thread");

function post(msg: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

try {
  let mod = await loadReaderModule(init.wasmBinary);
  let img = new HeapImage(mod);
  const costs = new PassCosts();
  const board = new WaitingBoard(init.waiting);
  if (init.warmUp) {
    try {
      warmUp(img, init.warmUp.passes, init.warmUp.rounds);
    } catch {
      // A failed warm-up costs the first frames their speed, not the worker. The instance it ran
      // in may be left in a bad state: real frames get a fresh one, cold.
      mod = await loadReaderModule(init.wasmBinary, { fresh: true });
      img = new HeapImage(mod);
    }
  }
  port.on("message", (job: DecodeJob) => {
    const cpu0 = threadCpu?.();
    const shouldStop = board.stopCheck(job.yieldTo, job.cameraSlot);
    const out = (job.cropFirst ? runCropFirst : runStrategy)(img, { frame: job, passes: job.passes, budgetMs: job.budgetMs, ...(job.hint ? { hint: job.hint } : {}), ...(job.tracked ? { tracked: job.tracked } : {}), ...(job.evidence ? { evidence: job.evidence } : {}), ...(shouldStop ? { shouldStop } : {}) }, costs);
    // The frame buffer goes back to the main thread for reuse: all passes are done with it.
    post({ type: "result", id: job.id, codes: out.codes, passes: out.passes, decodeMs: out.decodeMs, data: job.data, ...(out.foundBy ? { foundBy: out.foundBy } : {}), ...(out.candidates ? { candidates: out.candidates } : {}), ...(out.stoppedEarly ? { stoppedEarly: true } : {}), ...(out.evidence ? { evidence: out.evidence } : {}), ...(cpu0 ? { cpuMs: cpuMsSince(cpu0) } : {}) }, [job.data.buffer as ArrayBuffer]);
  });
  post({ type: "ready" });
} catch (e) {
  const code = (e as { code?: string }).code ?? "GW_DECODE_CRASH";
  post({ type: "init-failed", code, message: (e as Error).message });
}
