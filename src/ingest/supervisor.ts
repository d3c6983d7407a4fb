import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { systemClock, type Clock, type TimerHandle } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import { secretMasker } from "../core/mask.js";
import type { LumaFrame } from "../core/types.js";
import { BurstGuard } from "./burst-guard.js";
import { CameraCounters } from "./camera-counters.js";
import { displayUrl, inputUrl } from "./camera-url.js";
import { authRefused, exitRecord, planAfterExit, type ExitHow } from "./exit-policy.js";
import { ffmpegInvocation, frameLayout } from "./ffmpeg-args.js";
import { FfmpegRun } from "./ffmpeg-run.js";
import { defaultHostProbe, probeTarget, type HostProbe } from "./host-probe.js";
import { HostWait } from "./host-wait.js";
import { CpuSampler } from "./proc-cpu.js";
import { RestartBudget } from "./restart-budget.js";
import { nodeSpawner } from "./spawner.js";
import { chooseTransport, openTransport, type FrameTransport, type TransportKind } from "./transport.js";
import type { CameraConfig, CameraState, CameraStats, Spawner } from "./types.js";
import { watchdogVerdict } from "./watchdog.js";

export interface SupervisorDeps {
  clock?: Clock;
  spawner?: Spawner;
  logger: Logger;
  onFrame: (frame: LumaFrame) => void;
  /** 0 <= r < 1, for backoff jitter; injected for deterministic tests. */
  random?: () => number;
  /** Where frame buffers come from (a recycler in the daemon); fresh ones by default. */
  allocFrame?: (bytes: number) => Uint8Array;
  /** Does the camera's host answer? A TCP connect to the RTSP port by default. */
  probe?: HostProbe;
  /**
   * How frames travel from ffmpeg (transport.ts): "socket" (a Unix socket read straight into the
   * frame buffers) or "pipe" (stdout). Default: the socket on Linux with the real spawner, else the pipe.
   */
  transport?: TransportKind;
}

/** While the camera's host refuses or does not answer, it is probed this often; ffmpeg starts the moment it answers. */
export const PROBE_INTERVAL_MS = 200;
/** A broken frame consumer is logged at its first failure and then once per this many. */
const CONSUMER_LOG_EVERY = 1000;
/** A camera settling at more than this times its `fps` is misconfigured: watchdog, burst guard and sizing assume `fps`. */
const FPS_MISMATCH_RATIO = 1.3;

/**
 * Keeps one camera's ffmpeg alive: watchdog (start-up grace, then stall timeout), SIGTERM then
 * SIGKILL, every exit treated as a failure, capped exponential backoff with jitter reset by the
 * first good frame, a restart budget (then GW_CAMERA_FAILED and slow retries), and a generation
 * per process so late events of an old process change nothing. Emits 'state' (state, prev).
 *
 * An outage is not a crash: after an exit the camera's host is probed first; while it refuses or
 * does not answer, no ffmpeg runs and nothing spends the budget, and ffmpeg starts the moment it
 * answers, whatever the backoff or failed state (host-wait.ts). Of the exits while it answers,
 * only the crash-like ones spend the budget (exit-policy.ts). The decisions are pure modules
 * (watchdog.ts, exit-policy.ts, restart-budget.ts) and one process's mechanics are ffmpeg-run.ts:
 * this class holds the camera's state across processes and wires them together.
 */
export class CameraSupervisor extends EventEmitter {
  private readonly clock: Clock;
  private readonly spawner: Spawner;
  private readonly log: Logger;
  private readonly burst: BurstGuard;
  private readonly layout: { frameBytes: number; lumaBytes: number };
  private readonly budget: RestartBudget;
  private readonly counters = new CameraCounters();
  private readonly cpu = new CpuSampler();
  /** Undefined for sources without a host to probe (file). */
  private readonly host: HostWait | undefined;
  private readonly transportKind: TransportKind;
  private _state: CameraState = "stopped";
  private gen = 0;
  private cur: FfmpegRun | undefined;
  private stopping = false;
  private pendingStart = false;
  private restartTimer: TimerHandle | undefined;
  private stopWaiters: Array<() => void> = [];
  private socketFallbackLogged = false;
  private fpsMismatchLogged = false;
  /** The rate the current process settled at, when above FPS_MISMATCH_RATIO x `fps`. */
  private fpsMismatch: number | undefined;
  /** Why ingest cannot run this camera, until its next good frame. */
  private ingestError: CameraStats["ingestError"];

  constructor(
    readonly camera: CameraConfig,
    private readonly deps: SupervisorDeps,
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.spawner = deps.spawner ?? nodeSpawner;
    this.log = deps.logger.child({ module: "ingest", camera: camera.id, lane: camera.lane });
    this.burst = new BurstGuard(camera.fps);
    this.layout = frameLayout(camera.width, camera.height, camera.pixelFormat);
    this.budget = new RestartBudget(camera, deps.random ?? Math.random);
    const target = probeTarget(camera);
    if (target) this.host = new HostWait({ probe: deps.probe ?? defaultHostProbe, target, clock: this.clock, log: this.log, intervalMs: PROBE_INTERVAL_MS });
    this.transportKind = deps.transport ?? chooseTransport(camera.frameTransport, process.platform, deps.spawner !== undefined);
  }

  get state(): CameraState {
    return this._state;
  }

  start(): void {
    if (this._state !== "stopped") return;
    this.stopping = false;
    this.budget.resetBackoff();
    if (this.cur && !this.cur.gone) {
      // The previous process is still being killed: its reader must finish before a new one starts.
      this.pendingStart = true;
      this.setState("starting");
      return;
    }
    this.spawn();
  }

  /** Stops the process (SIGTERM, then SIGKILL) and resolves once it has exited. */
  stop(): Promise<void> {
    this.pendingStart = false;
    this.stopping = true;
    this.gen++;
    if (this.restartTimer) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.host?.cancel();
    this.setState("stopped");
    const run = this.cur;
    if (!run || run.gone) return Promise.resolve();
    run.stopRequested = true;
    return new Promise<void>((resolve) => {
      this.stopWaiters.push(resolve);
      this.terminate(run);
    });
  }

  stats(): CameraStats {
    const now = this.clock.monotonic();
    const { id, lane } = this.camera;
    const s: CameraStats = { id, lane, state: this._state, url: displayUrl(this.camera), ...this.counters.snapshot(now), ffmpegAbandoned: this.counters.abandonedTotal, restartsInWindow: this.budget.restartsInWindow(now), generation: this.gen };
    if (this.ingestError) s.ingestError = this.ingestError;
    if (this.fpsMismatch !== undefined) s.fpsAboveConfig = this.fpsMismatch;
    if (this.host) s.hostReachable = !this.host.down;
    const age = this.counters.lastFrameAgeMs(now);
    if (age !== undefined) s.lastFrameAgeMs = age;
    const run = this.cur;
    const cpu = run && !run.gone ? this.cpu.sample(run.proc?.pid, now) : undefined;
    if (cpu !== undefined) s.ffmpegCpuPercent = cpu;
    return s;
  }

  private spawn(): void {
    const run: FfmpegRun = new FfmpegRun(++this.gen, this.clock.monotonic(), this.clock, () => {
      if (run === this.cur) this.counters.corrupt();
    });
    this.cur = run;
    this.burst.reset();
    // The rate is that of the current process: a gap before it must not drag the next 5 s down.
    this.counters.resetRate();
    this.setState(this.budget.failed ? "failed" : "starting");
    const transport = this.openTransport(run);
    // The start-up watchdog also bounds a transport that never gets ready.
    this.armWatchdog(run, this.camera.startupGraceMs);
    const spawnFfmpeg = (stdout?: Socket) => {
      // Credentials never go on the command line (ffmpegInvocation): they reach ffmpeg on stdin.
      const inv = ffmpegInvocation(this.camera, inputUrl(this.camera), transport.output);
      return this.spawner(this.camera.ffmpegPath, inv.args, inv.stdin, stdout);
    };
    run.start(transport, () => run === this.cur, spawnFfmpeg, (how) => this.gone(run, how));
  }

  /** The run's frame channel; a transport failure kills the process, and the exit that follows counts as a crash. */
  private openTransport(run: FfmpegRun): FrameTransport {
    const sink = {
      ...this.layout,
      ...(this.deps.allocFrame ? { alloc: this.deps.allocFrame } : {}),
      onFrame: (luma: Uint8Array) => this.onLuma(run, luma),
      onError: (err: Error) => {
        if (run !== this.cur || run.gone || run.killing) return;
        run.failure = err;
        this.log.error({ event: "transport_error", error: err.message }, "cannot read frames from ffmpeg; restarting it");
        this.terminate(run);
      },
    };
    return openTransport(this.transportKind, sink, (err) => {
      if (this.socketFallbackLogged) return;
      this.socketFallbackLogged = true;
      this.log.warn({ event: "socket_unavailable", error: err.message }, "cannot set up the frame socket; reading frames from ffmpeg's stdout instead");
    });
  }

  private onLuma(run: FfmpegRun, data: Uint8Array): void {
    if (run !== this.cur || run.gone || this.stopping) return;
    const now = this.clock.monotonic();
    const seq = this.counters.frameRead(now);
    if (run.killing) return this.counters.dropped(false);
    // From the first frame on, the shorter steady-state limit applies.
    if (run.lastFrameAt === undefined) this.armWatchdog(run, this.camera.stallTimeoutMs);
    run.lastFrameAt = now;
    if (!this.burst.accept(now)) return this.counters.dropped(true);
    if (run.delivered++ === 0) {
      if (this.budget.recovered()) this.log.info({ event: "camera_recovered" }, "camera delivers frames again after being marked failed");
      this.ingestError = undefined;
      this.checkFps();
      this.setState("online");
    }
    const { width, height } = this.camera;
    try {
      this.deps.onFrame({ cameraId: this.camera.id, seq, width, height, stride: width, data, receivedAt: now });
    } catch (e) {
      const n = this.counters.consumerFailed();
      if ((n - 1) % CONSUMER_LOG_EVERY === 0) this.log.error({ err: e, event: "on_frame_threw", consumerErrors: n }, "frame consumer threw; frames keep flowing");
    }
  }

  /** At the first frame handed on, the burst guard has just measured the rate: is it the configured one? */
  private checkFps(): void {
    const fps = this.burst.settledFps;
    this.fpsMismatch = fps !== undefined && fps > FPS_MISMATCH_RATIO * this.camera.fps ? Math.round(fps * 10) / 10 : undefined;
    if (this.fpsMismatch === undefined || this.fpsMismatchLogged) return;
    this.fpsMismatchLogged = true;
    this.log.warn(
      { event: "camera_fps_above_config", fps: this.camera.fps, observedFps: this.fpsMismatch },
      "camera sends more frames per second than its configured fps; set fps (or the camera's stream) to match",
    );
  }

  private armWatchdog(run: FfmpegRun, delayMs: number): void {
    run.armWatchdog(delayMs, () => this.checkWatchdog(run));
  }

  private checkWatchdog(run: FfmpegRun): void {
    if (run !== this.cur || run.gone || run.killing) return;
    const now = this.clock.monotonic();
    const v = watchdogVerdict(run.startedAt, run.lastFrameAt, this.camera, now);
    if (!v.stalled) return this.armWatchdog(run, v.rearmMs);
    this.counters.stalled(now);
    this.setState("stalled");
    this.log.warn({ event: "camera_stalled", phase: v.phase, noFrameMs: v.noFrameMs }, "no frame within the watchdog limit; restarting ffmpeg");
    this.terminate(run);
  }

  /** SIGTERM, then SIGKILL after the grace; if even that is never reported, give the process up. */
  private terminate(run: FfmpegRun): void {
    if (run.gone || run.killing) return;
    run.killing = true;
    const started = run.terminate(this.camera.killGraceMs, {
      sigkill: () => this.log.warn({ event: "ffmpeg_sigkill", pid: run.proc?.pid }, "ffmpeg ignored SIGTERM; sending SIGKILL"),
      abandon: () => {
        this.counters.abandonedProcess();
        this.log.error({ event: "ffmpeg_unkillable", pid: run.proc?.pid }, "ffmpeg did not exit after SIGKILL; abandoning it");
        this.gone(run, { abandoned: true });
      },
    });
    // Stopped (or its watchdog fired) while the transport was being readied: there is no process to wait for.
    if (!started) this.gone(run, {});
  }

  private gone(run: FfmpegRun, how: ExitHow): void {
    if (!run.finish()) return;
    // No process, no frames: the rate of the one that ended is not the camera's rate any more.
    if (run === this.cur) this.counters.resetRate();
    if (run.stopRequested) return this.resolveStop();
    if (run !== this.cur || this.stopping) return;
    const detail = exitRecord(how, run, this.clock.monotonic(), (s) => secretMasker.mask(s));
    // Every exit is a failure: ffmpeg exits with code 0 when the server goes away.
    if (this._state === "stalled") this.log.warn(detail, "ffmpeg stopped after a stall");
    else this.log.error(detail, "ffmpeg exited unexpectedly");
    const plan = planAfterExit({ how, transportFailed: run.failure !== undefined, killedByUs: run.killing, framesFlowed: run.lastFrameAt !== undefined, hostKnown: this.host !== undefined, authRefused: authRefused(run.stderr.tail()) });
    if (how.error) this.ingestError = "GW_CAMERA_SPAWN";
    // The camera no longer refuses us (it is down, or says something else): that reason is gone.
    else if (this.ingestError === "GW_CAMERA_AUTH" && !(plan.next === "restart" && plan.auth)) this.ingestError = undefined;
    if (plan.next === "restart" && plan.auth) return this.retryAfterAuthRefusal();
    if (plan.next === "restart") return this.scheduleRestart(plan.counted);
    this.setState(this.budget.failed ? "failed" : "backoff");
    // planAfterExit probes only a camera that has a host.
    const host = this.host!;
    const valid = this.validFor(this.gen);
    host.check(valid, (up) => {
      if (up) this.scheduleRestart(plan.countedIfUp);
      else
        host.wait(valid, () => {
          this.counters.reconnected(this.clock.monotonic());
          this.spawn();
        });
    });
  }

  /** A probe or timer started in generation `gen` acts only if nothing (stop, a newer process) intervened. */
  private validFor(gen: number): () => boolean {
    return () => !this.stopping && gen === this.gen;
  }

  private resolveStop(): void {
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    for (const w of waiters) w();
    if (this.pendingStart && !this.stopping) {
      this.pendingStart = false;
      this.spawn();
    }
  }

  /** The camera refused our credentials: GW_CAMERA_AUTH (logged once per episode), retried every `failedRetryMs` at the least. */
  private retryAfterAuthRefusal(): void {
    if (this.ingestError !== "GW_CAMERA_AUTH") {
      this.ingestError = "GW_CAMERA_AUTH";
      this.log.error({ code: "GW_CAMERA_AUTH", event: "camera_auth_refused", retryMs: this.camera.failedRetryMs }, "camera refused the credentials (RTSP 401/403); check username and password; retrying slowly");
    }
    this.scheduleRestart(false, this.camera.failedRetryMs);
  }

  /** `counted`: this exit looks like part of a crash loop and spends the restart budget. `minDelayMs`: wait at least this long. */
  private scheduleRestart(counted: boolean, minDelayMs = 0): void {
    const now = this.clock.monotonic();
    this.host?.forget();
    const next = this.budget.next(counted, now);
    const plan = { ...next, delayMs: Math.max(next.delayMs, minDelayMs) };
    if (plan.newlyFailed) {
      this.ingestError = "GW_CAMERA_FAILED";
      this.log.error(
        { code: "GW_CAMERA_FAILED", event: "camera_failed", restarts: plan.restartsInWindow, windowMs: this.camera.restartWindowMs, retryMs: this.camera.failedRetryMs },
        "camera exceeded its restart budget; marked failed, retrying slowly",
      );
    }
    this.setState(plan.state);
    this.log.info({ event: "camera_backoff", delayMs: plan.delayMs, attempt: plan.attempt, failed: this.budget.failed, counted }, "restarting ffmpeg after a delay");
    const valid = this.validFor(this.gen);
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (!valid()) return;
      this.counters.reconnected(this.clock.monotonic());
      this.spawn();
    }, plan.delayMs, "ingest.restart");
  }

  private setState(next: CameraState): void {
    const prev = this._state;
    if (prev === next) return;
    this._state = next;
    this.emit("state", next, prev);
  }
}
