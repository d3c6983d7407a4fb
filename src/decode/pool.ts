/**
 * Decode worker pool. Fixed worker count; per camera a slot of depth 1 where the latest frame wins
 * (the replaced one resolves null and is counted dropped), so latency cannot grow with load.
 * A worker that throws, exits or passes the deadline is terminated and replaced; its frame resolves
 * with `error` set and the process keeps running.
 */
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import type { Logger } from "../core/logger.js";
import { silentLogger } from "../core/logger.js";
import { GatewayError } from "../core/errors.js";
import { compiledSibling } from "../core/worker-url.js";
import type { DecodeResult, LumaFrame } from "../core/types.js";
import type { DecodePassName } from "../config/sections/decode.js";
import { readVerifiedWasm } from "./wasm-loader.js";
import type { DecodeJob, WorkerInit, WorkerMessage } from "./protocol.js";
import { CameraStats, type CameraCounters } from "./camera-stats.js";
import { validateFrame } from "./frame-check.js";
import { EscalationGovernor } from "./escalation.js";
import { SymbolTracker } from "./track.js";

export interface DecodePoolOptions {
  workers?: number;
  deadlineMs: number;
  budgetMs: number;
  passes: readonly DecodePassName[];
  /** Under backlog, a camera's frames get the full budget at most once per this interval (0 = always). */
  escalateIntervalMs?: number;
  /** Cross-frame tracking of located-but-undecoded symbols (track.ts); default true. */
  track?: boolean;
  /** Receives frame buffers the pool is done with (returned by a worker, or superseded), for reuse. */
  recycle?: (data: Uint8Array) => void;
  logger?: Logger;
}

/** Not part of the public contract: lets tests make a worker hang or throw on a chosen frame. */
export interface DecodePoolTestOptions extends DecodePoolOptions {
  faultFor?: (frame: LumaFrame) => "hang" | "throw" | undefined;
}

interface Pending {
  frame: LumaFrame;
  submittedAt: number;
  resolve: (r: DecodeResult | null) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: { id: number; pending: Pending; dispatchedAt: number; timer: NodeJS.Timeout };
}

const workerUrl = () => compiledSibling(import.meta.url, "./worker.js");

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly stats_ = new CameraStats();
  /** Symbols located but not decoded in a camera's recent frames: crop hints for its next ones. */
  private readonly tracker = new SymbolTracker();
  private nextId = 1;
  private restarts = 0;
  /** Workers replaced because a frame passed its deadline (a subset of restarts). */
  private timeouts = 0;
  private closed = false;
  /** Consecutive replacement start-up failures, for backoff (a broken binary must not spin). */
  private startFailures = 0;
  private readonly respawnTimers = new Set<NodeJS.Timeout>();
  private readonly log: Logger;
  private readonly governor: EscalationGovernor;

  private constructor(
    private readonly opts: DecodePoolTestOptions,
    private readonly wasmBinary: Uint8Array,
  ) {
    this.log = (opts.logger ?? silentLogger).child({ module: "decode" });
    this.governor = new EscalationGovernor(opts.escalateIntervalMs ?? 250);
  }

  static async create(opts: DecodePoolOptions): Promise<DecodePool> {
    const pool = new DecodePool(opts, readVerifiedWasm());
    const n = opts.workers ?? availableParallelism();
    const starts: Promise<void>[] = [];
    for (let i = 0; i < n; i++) starts.push(pool.spawn(i));
    try {
      await Promise.all(starts);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  submit(frame: LumaFrame): Promise<DecodeResult | null> {
    if (this.closed) return Promise.reject(new Error("decode pool is closed"));
    const cam = this.stats_.camera(frame.cameraId);
    cam.submitted++;
    const bad = validateFrame(frame);
    if (bad) {
      cam.failed++;
      return Promise.resolve(errorResult(frame, 0, "GW_DECODE_BAD_FRAME", bad));
    }
    return new Promise((resolve) => {
      const old = this.pending.get(frame.cameraId);
      if (old) {
        cam.dropped++;
        this.opts.recycle?.(old.frame.data);
        old.resolve(null);
      }
      // Map.set on an existing key keeps its place, so a busy camera cannot push others back.
      this.pending.set(frame.cameraId, { frame, submittedAt: performance.now(), resolve });
      this.pump();
    });
  }

  /** `ready` (= `live`): workers able to take a frame now (0 for long = the lanes are blind: DECODE_DOWN). */
  stats(): { workers: number; ready: number; live: number; busy: number; queued: number; restarts: number; timeouts: number; startFailures: number; cameras: Record<string, CameraCounters> } {
    const ready = this.slots.filter((s) => s?.ready).length;
    return { workers: this.slots.length, ready, live: ready, busy: this.slots.filter((s) => s.job).length, queued: this.pending.size, restarts: this.restarts, timeouts: this.timeouts, startFailures: this.startFailures, cameras: this.stats_.snapshot() };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.respawnTimers) clearTimeout(t);
    for (const p of this.pending.values()) p.resolve(null);
    this.pending.clear();
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.job) {
          clearTimeout(s.job.timer);
          s.job.pending.resolve(errorResult(s.job.pending.frame, 0, "GW_DECODE_CRASH", "decode pool closed"));
          s.job = undefined;
        }
        await s.worker.terminate();
      }),
    );
  }

  private spawn(index: number): Promise<void> {
    const init: WorkerInit = { wasmBinary: this.wasmBinary, allowFaults: this.opts.faultFor !== undefined };
    const worker = new Worker(workerUrl(), { workerData: init });
    const slot: Slot = { worker, ready: false };
    this.slots[index] = slot;
    return new Promise((resolveReady, rejectReady) => {
      worker.on("message", (msg: WorkerMessage) => {
        if (msg.type === "ready") {
          slot.ready = true;
          this.startFailures = 0;
          resolveReady();
          this.pump();
        } else if (msg.type === "init-failed") {
          rejectReady(new GatewayError(msg.code as "GW_DECODE_CRASH", msg.message));
          void worker.terminate();
        } else this.finish(slot, msg);
      });
      worker.on("error", (err) => {
        if (!slot.ready) rejectReady(err);
        this.fail(slot, "GW_DECODE_CRASH", `decode worker threw: ${err.message}`);
      });
      worker.on("exit", (code) => {
        if (!slot.ready) rejectReady(new GatewayError("GW_DECODE_CRASH", `decode worker exited during start-up (code ${code})`));
        this.fail(slot, "GW_DECODE_CRASH", `decode worker exited (code ${code})`);
      });
    });
  }

  /** Terminates a failed worker, reports its frame and starts a replacement in the same place. */
  private fail(slot: Slot, code: "GW_DECODE_CRASH" | "GW_DECODE_TIMEOUT", message: string): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.closed) return;
    const job = slot.job;
    const wasReady = slot.ready;
    slot.job = undefined;
    slot.ready = false;
    this.restarts++;
    if (code === "GW_DECODE_TIMEOUT") this.timeouts++;
    if (job) {
      clearTimeout(job.timer);
      const f = job.pending.frame;
      this.stats_.camera(f.cameraId).failed++;
      this.log.warn({ camera: f.cameraId, seq: f.seq, code }, "decode worker replaced");
      job.pending.resolve(errorResult(f, job.dispatchedAt - job.pending.submittedAt, code, message));
    } else this.log.warn({ code }, "decode worker replaced");
    slot.worker.removeAllListeners();
    void slot.worker.terminate();
    if (!wasReady) this.startFailures++;
    const delay = this.startFailures === 0 ? 0 : Math.min(30_000, 100 * 2 ** Math.min(this.startFailures, 9));
    const timer = setTimeout(() => {
      this.respawnTimers.delete(timer);
      if (this.closed) return;
      this.spawn(index).catch((e: unknown) => {
        // The failed start also fires "exit", which schedules the next (backed-off) attempt.
        this.log.error({ code: "GW_DECODE_CRASH", err: (e as Error).message }, "decode worker replacement failed to start");
      });
    }, delay);
    timer.unref();
    this.respawnTimers.add(timer);
  }

  private finish(slot: Slot, msg: Extract<WorkerMessage, { type: "result" }>): void {
    const job = slot.job;
    if (!job || job.id !== msg.id) return;
    clearTimeout(job.timer);
    slot.job = undefined;
    if (msg.data) this.opts.recycle?.(msg.data);
    const f = job.pending.frame;
    const cam = this.stats_.camera(f.cameraId);
    cam.lastDecodeMs = msg.decodeMs;
    if (msg.codes.length > 0) {
      cam.decoded++;
      this.stats_.setHint(f, msg.codes);
    }
    this.tracker.observe(f.cameraId, f, msg.codes, msg.candidates ?? []);
    job.pending.resolve({
      cameraId: f.cameraId,
      seq: f.seq,
      receivedAt: f.receivedAt,
      codes: msg.codes,
      timings: { queueMs: job.dispatchedAt - job.pending.submittedAt, decodeMs: msg.decodeMs, ...(msg.cpuMs !== undefined ? { cpuMs: msg.cpuMs } : {}), passes: msg.passes, ...(msg.foundBy ? { foundBy: msg.foundBy } : {}) },
    });
    this.pump();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (!slot || !slot.ready || slot.job) continue;
      const next = this.pending.entries().next();
      if (next.done) return;
      const [cameraId, p] = next.value;
      this.pending.delete(cameraId);
      this.dispatch(slot, p);
    }
  }

  private dispatch(slot: Slot, p: Pending): void {
    const f = p.frame;
    const id = this.nextId++;
    const hint = this.stats_.hint(f);
    const tracked = this.opts.track === false ? [] : this.tracker.hints(f.cameraId, f);
    const fault = this.opts.faultFor?.(f);
    // Transfer the frame's memory when the view owns all of it; a view into a larger (or shared)
    // buffer is copied instead, so the caller's other data is not detached.
    const owns = f.data.byteOffset === 0 && f.data.byteLength === f.data.buffer.byteLength && f.data.buffer instanceof ArrayBuffer;
    const data = owns ? f.data : f.data.slice();
    const job: DecodeJob = { type: "decode", id, width: f.width, height: f.height, stride: f.stride, data, passes: this.opts.passes, budgetMs: this.governor.budgetFor(f.cameraId, this.opts.budgetMs, performance.now(), this.pending.size > 0), ...(hint ? { hint } : {}), ...(tracked.length > 0 ? { tracked } : {}), ...(fault ? { fault } : {}) };
    const timer = setTimeout(() => this.fail(slot, "GW_DECODE_TIMEOUT", `decode passed its ${this.opts.deadlineMs} ms deadline`), this.opts.deadlineMs);
    slot.job = { id, pending: p, dispatchedAt: performance.now(), timer };
    slot.worker.postMessage(job, [data.buffer as ArrayBuffer]);
  }
}

function errorResult(f: LumaFrame, queueMs: number, code: string, message: string): DecodeResult {
  return { cameraId: f.cameraId, seq: f.seq, receivedAt: f.receivedAt, codes: [], timings: { queueMs, decodeMs: 0, passes: [] }, error: { code, message } };
}
