/**
 * Decode worker pool. Fixed worker count; per camera a slot of depth 1 where the latest frame wins
 * (the replaced one resolves null and is counted dropped), so latency cannot grow with load.
 * A worker that throws, exits or passes the deadline is terminated and replaced; its frame resolves
 * with `error` set and the process keeps running.
 *
 * Scheduling (docs/lane.md, "Scheduling"): the caller says what the camera's lane has in view.
 * With nothing in view, the idle gate (idle-gate.ts) runs a cheap finder-pattern prefilter
 * (prefilter.ts) on the main thread: new paired finder patterns, or a symbol located on the
 * camera's recent frames, buy the full cascade; a new lone finder-like shape the first pass only;
 * a frame with nothing new gets nothing, except a decode per camera every `idleFullEveryMs` (the
 * slow schedule, which catches what the prefilter misses). Free workers
 * take active frames (code in view awaiting a verdict, finder pattern found, code read moments
 * ago) before frames of lanes with only decided codes in view, and those before idle frames
 * (priority.ts); an idle frame takes the last free worker only after IDLE_MAX_WAIT_MS, and a camera
 * gets a second worker only while no other camera's frame could take it. A frame's budget is set at
 * dispatch, but the frames waiting for a worker are published to the workers (early-stop.ts), and
 * a running cascade that is not itself the more urgent one stops escalating at its next pass
 * boundary when an active frame (for an idle frame: an active or watch frame) waits.
 */
import { Worker } from "node:worker_threads";
import { availableParallelism } from "node:os";
import type { Logger } from "../core/logger.js";
import { silentLogger } from "../core/logger.js";
import { GatewayError } from "../core/errors.js";
import { compiledSibling } from "../core/worker-url.js";
import type { DecodeResult, LumaFrame } from "../core/types.js";
import type { DecodePassName } from "./options.js";
import { readVerifiedWasm } from "./wasm-loader.js";
import type { DecodeJob, WorkerInit, WorkerMessage } from "./protocol.js";
import { CameraStats, type CameraCounters } from "./camera-stats.js";
import { validateFrame } from "./frame-check.js";
import { SymbolTracker } from "./track.js";
import type { PrefilterOptions } from "./prefilter.js";
import { pickNext } from "./priority.js";
import { WaitingBoard, yieldPolicy } from "./early-stop.js";
import { FrameAdmission, type Admitted, type SubmitContext } from "./admission.js";


/** Two rounds: a fresh worker's first real frame at 0.14x its cold cost (bench:decode --cold, docs/decode.md). */
const DEFAULT_WARM_UP_ROUNDS = 2;

export interface DecodePoolOptions {
  workers?: number;
  deadlineMs: number;
  budgetMs: number;
  passes: readonly DecodePassName[];
  /** Under backlog, a camera's frames get the full budget at most once per this interval (0 = always). */
  escalateIntervalMs?: number;
  /** Cross-frame tracking of located-but-undecoded symbols (track.ts); default true. */
  track?: boolean;
  /**
   * regrid's module evidence carried across a camera's frames (votes.ts; needs `track`); default
   * true. Off, no evidence is sent with a frame, so no sum is read; the workers still sample the
   * grids of symbols they could not read (cheap: a few thousand pixel reads per such symbol).
   */
  votes?: boolean;
  /** Finder-pattern prefilter for frames of lanes with nothing in view; false decodes them all. */
  prefilter?: PrefilterOptions | false;
  /** Slow schedule: an idle camera gets a decode (the first pass; the cascade every few seconds) at least this often (ms), even without a finder pattern. */
  idleFullEveryMs?: number;
  /** Receives frame buffers the pool is done with (returned by a worker, or superseded), for reuse. */
  recycle?: (data: Uint8Array) => void;
  /** Scheduling clock (ms, monotonic): escalation, rationing and slow-schedule windows. Default performance.now. */
  clock?: () => number;
  /**
   * The worker script and extra data for its `workerData` (the spawner seam, like ingest's): the
   * decode worker by default. `testing/fault-worker.ts` wraps it to make workers hang or throw.
   */
  worker?: { url: URL; data?: Record<string, unknown> };
  /**
   * Rounds of the warm-up frames a new worker decodes with `passes` before it takes frames
   * (warm-up.ts: a cold worker's first decodes take 2-15x as long); default 2, 0 = none.
   */
  warmUpRounds?: number;
  logger?: Logger;
}

interface Pending extends Admitted {
  frame: LumaFrame;
  submittedAt: number;
  resolve: (r: DecodeResult | null) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  /** `full`: dispatched with the full budget (a complete run counts as the camera's full cascade). */
  job?: { id: number; pending: Pending; dispatchedAt: number; timer: NodeJS.Timeout; full: boolean };
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
  /** What each frame is worth: its class at submit, its budget at dispatch (admission.ts). */
  private readonly admission: FrameAdmission;
  /** Frames waiting for a worker, by class, shared with the workers: their cascades stop early for them. */
  private readonly board = new WaitingBoard();
  /** When each camera last ran a full-budget cascade to its end (not stopped early). */
  private readonly lastFullDone = new Map<string, number>();
  private readonly escalateIntervalMs: number;
  private readonly clock: () => number;
  /** Each camera's slot on the waiting board (its bit in the first-looks mask). */
  private readonly boardSlots = new Map<string, number>();
  /** When each camera's last frame went to a worker (priority.ts: between first looks). */
  private readonly servedAt = new Map<string, number>();

  private constructor(
    private readonly opts: DecodePoolOptions,
    private readonly wasmBinary: Uint8Array,
  ) {
    this.log = (opts.logger ?? silentLogger).child({ module: "decode" });
    this.escalateIntervalMs = opts.escalateIntervalMs ?? 250;
    this.clock = opts.clock ?? (() => performance.now());
    this.admission = new FrameAdmission({ ...opts, escalateIntervalMs: this.escalateIntervalMs }, this.stats_, this.tracker);
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

  /**
   * Queues a frame (latest per camera wins). Resolves null when the frame was superseded or
   * filtered out (no finder pattern while nothing is in view; counted as `prefiltered`).
   */
  submit(frame: LumaFrame, ctx: SubmitContext = {}): Promise<DecodeResult | null> {
    if (this.closed) return Promise.reject(new Error("decode pool is closed"));
    const cam = this.stats_.camera(frame.cameraId);
    cam.submitted++;
    const bad = validateFrame(frame);
    if (bad) {
      cam.failed++;
      return Promise.resolve(errorResult(frame, 0, "GW_DECODE_BAD_FRAME", bad));
    }
    const now = this.clock();
    const c = this.admission.classify(frame, ctx, now);
    if (!c) {
      cam.prefiltered++;
      this.opts.recycle?.(frame.data);
      return Promise.resolve(null);
    }
    if (c.cls !== "idle") cam.queuedInView++;
    return new Promise((resolve) => {
      const old = this.pending.get(frame.cameraId);
      if (old) {
        cam.dropped++;
        if (old.cls !== "idle") cam.droppedInView++;
        this.opts.recycle?.(old.frame.data);
        old.resolve(null);
      }
      this.pending.set(frame.cameraId, { frame, cls: c.cls, ...(c.weak ? { weak: true } : {}), ...(c.cropFirst ? { cropFirst: true } : {}), ...(c.budgetMs !== undefined ? { budgetMs: c.budgetMs } : {}), submittedAt: now, resolve });
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
    const rounds = this.opts.warmUpRounds ?? DEFAULT_WARM_UP_ROUNDS;
    const init: WorkerInit = { wasmBinary: this.wasmBinary, waiting: this.board.buffer, ...(rounds > 0 ? { warmUp: { passes: this.opts.passes, rounds } } : {}) };
    const worker = new Worker(this.opts.worker?.url ?? workerUrl(), { workerData: { ...this.opts.worker?.data, ...init } });
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
    // A worker given up on can still deliver an error it threw just before (its message was queued
    // behind the deadline timer): without a listener Node raises it in the main thread, and an
    // uncaught exception stops the gateway.
    slot.worker.on("error", () => undefined);
    void slot.worker.terminate();
    if (!wasReady) this.startFailures++;
    this.respawnLater(index);
  }

  private respawnLater(index: number): void {
    const delay = this.startFailures === 0 ? 0 : Math.min(30_000, 100 * 2 ** Math.min(this.startFailures, 9));
    const timer = setTimeout(() => {
      this.respawnTimers.delete(timer);
      if (this.closed) return;
      let started: Promise<void>;
      try {
        started = this.spawn(index);
      } catch (e) {
        // `new Worker` throws at once when no thread can be made (EAGAIN under a thread limit, out
        // of memory): in a timer that would stop the gateway. Counted as a failed start and tried again, backed off.
        this.startFailures++;
        this.log.error({ code: "GW_DECODE_CRASH", err: (e as Error).message }, "decode worker replacement could not be created");
        this.respawnLater(index);
        return;
      }
      started.catch((e: unknown) => {
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
    // A stopped cascade is not a full look: the camera's next active frame is protected again.
    if (msg.stoppedEarly) {
      cam.stoppedEarly++;
      this.lastFullDone.delete(f.cameraId);
    } else if (job.full) this.lastFullDone.set(f.cameraId, job.dispatchedAt);
    if (msg.codes.length > 0) {
      cam.decoded++;
      this.stats_.setHint(f, msg.codes);
    }
    this.tracker.observe(f.cameraId, f, msg.codes, msg.candidates ?? [], msg.evidence);
    job.pending.resolve({
      cameraId: f.cameraId,
      seq: f.seq,
      receivedAt: f.receivedAt,
      codes: msg.codes,
      timings: { queueMs: job.dispatchedAt - job.pending.submittedAt, decodeMs: msg.decodeMs, ...(msg.cpuMs !== undefined ? { cpuMs: msg.cpuMs } : {}), passes: msg.passes, ...(msg.foundBy ? { foundBy: msg.foundBy } : {}), ...(msg.stoppedEarly ? { stoppedEarly: true } : {}) },
    });
    this.pump();
  }

  private pump(): void {
    for (;;) {
      const free = this.slots.filter((s) => s && s.ready && !s.job);
      if (free.length === 0 || this.pending.size === 0) break;
      const waiting = [...this.pending.values()];
      const now = this.clock();
      const decoding = new Set(this.slots.flatMap((s) => (s?.job ? [s.job.pending.frame.cameraId] : [])));
      const i = pickNext(
        waiting.map((p) => {
          const served = this.servedAt.get(p.frame.cameraId);
          return { cls: p.cls, submittedAt: p.submittedAt, ...(this.firstLook(p, now) ? { fresh: true } : {}), ...(served !== undefined ? { servedAt: served } : {}), ...(decoding.has(p.frame.cameraId) ? { busy: true } : {}) };
        }),
        free.length,
        this.slots.length,
        now,
      );
      if (i < 0) break;
      const p = waiting[i]!;
      this.pending.delete(p.frame.cameraId);
      // Before the job is posted, so the worker's first pass boundary already sees what waits.
      this.publishWaiting();
      this.dispatch(free[0]!, p);
    }
    // What still waits has no worker (pickNext holds back only idle frames): running cascades
    // that give way to it stop at their next pass boundary.
    this.publishWaiting();
  }

  private publishWaiting(): void {
    const now = this.clock();
    this.board.publish([...this.pending.values()].map((p) => ({ cls: p.cls, firstLook: this.firstLook(p, now), slot: this.boardSlot(p.frame.cameraId) })));
  }

  private boardSlot(cameraId: string): number {
    let s = this.boardSlots.get(cameraId);
    if (s === undefined) this.boardSlots.set(cameraId, (s = this.boardSlots.size));
    return s;
  }

  /** A first full look at what the frame's camera shows (early-stop.ts yieldPolicy "first-look"). */
  private firstLook(p: Pending, now: number): boolean {
    const lastDone = this.lastFullDone.get(p.frame.cameraId);
    return yieldPolicy({ cls: p.cls, ...(p.weak ? { weak: true } : {}), ...(lastDone !== undefined ? { sinceFullDoneMs: now - lastDone } : {}), recentMs: this.escalateIntervalMs }) === "first-look";
  }

  private dispatch(slot: Slot, p: Pending): void {
    const f = p.frame;
    const id = this.nextId++;
    const hint = this.stats_.hint(f);
    const tracked = this.opts.track === false ? [] : this.tracker.hints(f.cameraId, f);
    const evidence = this.admission.evidenceFor(f);
    // Transfer the frame's memory when the view owns all of it; a view into a larger (or shared)
    // buffer is copied instead, so the caller's other data is not detached.
    const owns = f.data.byteOffset === 0 && f.data.byteLength === f.data.buffer.byteLength && f.data.buffer instanceof ArrayBuffer;
    const data = owns ? f.data : f.data.slice();
    const now = this.clock();
    const backlog = [...this.pending.values()].some((q) => q.cls !== "idle");
    const budgetMs = this.admission.budgetAtDispatch(f, p, now, backlog);
    const lastDone = this.lastFullDone.get(f.cameraId);
    const yieldTo = yieldPolicy({ cls: p.cls, ...(p.weak ? { weak: true } : {}), ...(lastDone !== undefined ? { sinceFullDoneMs: now - lastDone } : {}), recentMs: this.escalateIntervalMs });
    const job: DecodeJob = { type: "decode", id, width: f.width, height: f.height, stride: f.stride, data, passes: this.opts.passes, budgetMs, ...(hint ? { hint } : {}), ...(tracked.length > 0 ? { tracked } : {}), ...(evidence.length > 0 ? { evidence: [...evidence] } : {}), ...(yieldTo !== "never" ? { yieldTo, cameraSlot: this.boardSlot(f.cameraId) } : {}), ...(p.cropFirst && hint && budgetMs === 0 ? { cropFirst: true } : {}) };
    this.servedAt.set(f.cameraId, now);
    const timer = setTimeout(() => this.fail(slot, "GW_DECODE_TIMEOUT", `decode passed its ${this.opts.deadlineMs} ms deadline`), this.opts.deadlineMs);
    slot.job = { id, pending: p, dispatchedAt: now, timer, full: budgetMs >= this.opts.budgetMs };
    slot.worker.postMessage(job, [data.buffer as ArrayBuffer]);
  }
}

function errorResult(f: LumaFrame, queueMs: number, code: string, message: string): DecodeResult {
  return { cameraId: f.cameraId, seq: f.seq, receivedAt: f.receivedAt, codes: [], timings: { queueMs, decodeMs: 0, passes: [] }, error: { code, message } };
}
