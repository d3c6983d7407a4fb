import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { systemClock, type Clock, type TimerHandle } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import { secretMasker } from "../core/mask.js";
import type { LumaFrame } from "../core/types.js";
import { backoffDelay } from "./backoff.js";
import { BurstGuard } from "./burst-guard.js";
import { displayUrl, inputUrl } from "./camera-url.js";
import { EventWindow } from "./event-window.js";
import { ffmpegInvocation, frameLayout } from "./ffmpeg-args.js";
import { probeTarget, tcpProbe, type HostProbe, type ProbeTarget } from "./host-probe.js";
import { CpuSampler } from "./proc-cpu.js";
import { nodeSpawner } from "./spawner.js";
import { StderrLog } from "./stderr-log.js";
import { syntheticSpawner } from "./synthetic.js";
import { chooseTransport, openTransport, type FrameTransport, type TransportKind } from "./transport.js";
import type { CameraConfig, CameraState, CameraStats, SpawnedProcess, Spawner } from "./types.js";

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

/** One ffmpeg process and everything that belongs to it; handlers compare against `cur`. */
interface Run {
  gen: number;
  proc: SpawnedProcess | undefined;
  startedAt: number;
  lastFrameAt: number | undefined;
  delivered: number;
  gone: boolean;
  killing: boolean;
  /** stop() asked for this process to end: its exit is not a failure. */
  stopRequested: boolean;
  stderr: StderrLog;
  transport: FrameTransport | undefined;
  /** The transport failed (not the process): the exit that follows is a crash. */
  failure: Error | undefined;
  /** The no-frame watchdog; separate from the kill timers so re-arming never cancels a kill. */
  watchdog: TimerHandle | undefined;
  timers: TimerHandle[];
}

const HOUR = 3_600_000;
const FPS_WINDOW_MS = 5_000;
/** While the camera's host refuses or does not answer, it is probed this often; ffmpeg starts the moment it answers. */
export const PROBE_INTERVAL_MS = 200;
/** A broken frame consumer is logged at its first failure and then once per this many. */
const CONSUMER_LOG_EVERY = 1000;

/**
 * Keeps one camera's ffmpeg alive: watchdog (start-up grace, then stall timeout), SIGTERM then
 * SIGKILL, every exit treated as a failure, capped exponential backoff with jitter reset by the
 * first good frame, a restart budget (then GW_CAMERA_FAILED and slow retries), and a generation
 * per process so late events of an old process change nothing. Emits 'state' (state, prev).
 *
 * An outage is not a crash. After an exit the camera's host is probed (TCP connect to the RTSP
 * port): while it refuses or does not answer, no ffmpeg is started and nothing counts toward the
 * budget; the probe repeats every PROBE_INTERVAL_MS and ffmpeg starts the moment the host answers,
 * whatever the backoff or failed state. Only exits while the host answers are retried with
 * backoff, and of those only the ones that look like a crash loop count toward the budget: ffmpeg
 * killed by a signal we did not send, a spawn error, or a process that had frames flowing.
 */
export class CameraSupervisor extends EventEmitter {
  private readonly clock: Clock;
  private readonly spawner: Spawner;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly burst: BurstGuard;
  private readonly layout: { frameBytes: number; lumaBytes: number };
  private readonly restarts: EventWindow;
  private readonly reconnects = new EventWindow(HOUR);
  private readonly stalls = new EventWindow(HOUR);
  private readonly recentTimes: number[] = [];
  private readonly cpu = new CpuSampler();
  private _state: CameraState = "stopped";
  private gen = 0;
  private cur: Run | undefined;
  private attempt = 0;
  private failed = false;
  private stopping = false;
  private pendingStart = false;
  private restartTimer: TimerHandle | undefined;
  private stopWaiters: Array<() => void> = [];
  private seq = 0;
  private lastFrameAt: number | undefined;
  private framesIn = 0;
  private framesDropped = 0;
  private burstDropped = 0;
  private corruptWarnings = 0;
  private onFrameErrors = 0;
  private readonly probe: HostProbe;
  private readonly target: ProbeTarget | undefined;
  private readonly transportKind: TransportKind;
  private socketFallbackLogged = false;
  /** Set while an outage (host not answering) is being waited out; logged once per outage. */
  private outageSince: number | undefined;
  /** Why ingest cannot run this camera, until its next good frame. */
  private ingestError: "GW_CAMERA_SPAWN" | "GW_CAMERA_FAILED" | undefined;

  constructor(
    readonly camera: CameraConfig,
    private readonly deps: SupervisorDeps,
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.spawner = deps.spawner ?? (camera.source === "synthetic" ? syntheticSpawner(this.clock, camera) : nodeSpawner);
    this.log = deps.logger.child({ module: "ingest", camera: camera.id, lane: camera.lane });
    this.random = deps.random ?? Math.random;
    this.burst = new BurstGuard(camera.fps);
    this.layout = frameLayout(camera.width, camera.height, camera.pixelFormat);
    this.restarts = new EventWindow(camera.restartWindowMs);
    this.probe = deps.probe ?? tcpProbe();
    this.target = probeTarget(camera);
    this.transportKind = deps.transport ?? chooseTransport(camera.frameTransport, process.platform, deps.spawner !== undefined, camera.source);
  }

  get state(): CameraState {
    return this._state;
  }

  start(): void {
    if (this._state !== "stopped") return;
    this.stopping = false;
    this.attempt = 0;
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
    this.clearRestart();
    this.outageSince = undefined;
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
    const s: CameraStats = {
      id: this.camera.id,
      lane: this.camera.lane,
      state: this._state,
      url: displayUrl(this.camera),
      fpsIn: this.fpsIn(now),
      framesIn: this.framesIn,
      framesDropped: this.framesDropped,
      burstDropped: this.burstDropped,
      reconnectsLastHour: this.reconnects.count(now),
      stallsLastHour: this.stalls.count(now),
      reconnectsTotal: this.reconnects.total,
      stallsTotal: this.stalls.total,
      corruptWarnings: this.corruptWarnings,
      consumerErrors: this.onFrameErrors,
      restartsInWindow: this.restarts.count(now),
      generation: this.gen,
    };
    if (this.ingestError) s.ingestError = this.ingestError;
    if (this.lastFrameAt !== undefined) s.lastFrameAgeMs = Math.max(0, now - this.lastFrameAt);
    const run = this.cur;
    const cpu = run && !run.gone ? this.cpu.sample(run.proc?.pid, now) : undefined;
    if (cpu !== undefined) s.ffmpegCpuPercent = cpu;
    return s;
  }

  private spawn(): void {
    const run: Run = {
      gen: ++this.gen,
      proc: undefined,
      startedAt: this.clock.monotonic(),
      lastFrameAt: undefined,
      delivered: 0,
      gone: false,
      killing: false,
      stopRequested: false,
      stderr: new StderrLog(40, () => {
        if (run === this.cur) this.corruptWarnings++;
      }),
      transport: undefined,
      failure: undefined,
      watchdog: undefined,
      timers: [],
    };
    this.cur = run;
    this.burst.reset();
    // The rate is that of the current process: a gap before it must not drag the next 5 s down.
    this.recentTimes.length = 0;
    this.setState(this.failed ? "failed" : "starting");
    const transport = (run.transport = this.openTransport(run));
    // The start-up watchdog also bounds a transport that never gets ready.
    this.armWatchdog(run, this.camera.startupGraceMs);
    const ready = transport.prepare?.();
    if (!ready) this.launch(run, transport);
    else
      ready.then(
        (stdout) => this.launch(run, transport, stdout),
        (e: unknown) => this.gone(run, { error: e as Error }),
      );
  }

  /**
   * Starts the run's ffmpeg once its transport is ready; a run stopped or replaced meanwhile starts
   * nothing. The prepared `stdout` stays the transport's: `gone()` closes the transport, and that
   * closes the socket too.
   */
  private launch(run: Run, transport: FrameTransport, stdout?: Socket): void {
    if (run.gone || run.killing || run !== this.cur) return;
    // Credentials never go on the command line (ffmpegInvocation): they reach ffmpeg on stdin.
    const inv = ffmpegInvocation(this.camera, inputUrl(this.camera), transport.output);
    try {
      run.proc = this.spawner(this.camera.ffmpegPath, inv.args, inv.stdin, stdout);
    } catch (e) {
      this.gone(run, { error: e as Error });
      return;
    }
    const proc = run.proc;
    transport.attach(proc);
    proc.stderr.on("data", (c) => run.stderr.push(c));
    proc.on("error", (error) => this.gone(run, { error }));
    proc.on("exit", (code, signal) => this.gone(run, { code, signal }));
  }

  /** The run's frame channel; a transport failure kills the process, and the exit that follows counts as a crash. */
  private openTransport(run: Run): FrameTransport {
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

  private onLuma(run: Run, data: Uint8Array): void {
    if (run !== this.cur || run.gone || this.stopping) return;
    const now = this.clock.monotonic();
    this.framesIn++;
    const seq = ++this.seq;
    this.lastFrameAt = now;
    this.recordFps(now);
    if (run.killing) {
      this.framesDropped++;
      return;
    }
    // From the first frame on, the shorter steady-state limit applies.
    if (run.lastFrameAt === undefined) this.armWatchdog(run, this.camera.stallTimeoutMs);
    run.lastFrameAt = now;
    if (!this.burst.accept(now)) {
      this.framesDropped++;
      this.burstDropped++;
      return;
    }
    if (run.delivered++ === 0) {
      this.attempt = 0;
      if (this.failed) this.log.info({ event: "camera_recovered" }, "camera delivers frames again after being marked failed");
      this.failed = false;
      this.ingestError = undefined;
      this.setState("online");
    }
    const { width, height } = this.camera;
    try {
      this.deps.onFrame({ cameraId: this.camera.id, seq, width, height, stride: width, data, receivedAt: now });
    } catch (e) {
      if (this.onFrameErrors++ % CONSUMER_LOG_EVERY === 0) this.log.error({ err: e, event: "on_frame_threw", consumerErrors: this.onFrameErrors }, "frame consumer threw; frames keep flowing");
    }
  }

  private armWatchdog(run: Run, delayMs: number): void {
    if (run.watchdog) this.clock.clearTimeout(run.watchdog);
    run.watchdog = this.clock.setTimeout(() => {
      run.watchdog = undefined;
      this.checkWatchdog(run);
    }, delayMs);
  }

  /** One timer per check instead of one per frame: it re-arms for the remaining time. */
  private checkWatchdog(run: Run): void {
    if (run !== this.cur || run.gone || run.killing) return;
    const now = this.clock.monotonic();
    const since = run.lastFrameAt ?? run.startedAt;
    const limit = run.lastFrameAt === undefined ? this.camera.startupGraceMs : this.camera.stallTimeoutMs;
    const left = since + limit - now;
    if (left > 0) {
      this.armWatchdog(run, left);
      return;
    }
    this.stalls.add(now);
    this.setState("stalled");
    this.log.warn({ event: "camera_stalled", phase: run.lastFrameAt === undefined ? "startup" : "steady", noFrameMs: Math.round(now - since) }, "no frame within the watchdog limit; restarting ffmpeg");
    this.terminate(run);
  }

  /** SIGTERM, then SIGKILL after the grace; if even that is never reported, give the process up. */
  private terminate(run: Run): void {
    if (run.gone || run.killing) return;
    run.killing = true;
    if (run.proc === undefined) {
      // Stopped (or its watchdog fired) while the transport was being readied: there is no process to wait for.
      this.gone(run, {});
      return;
    }
    const grace = this.camera.killGraceMs;
    run.proc?.kill("SIGTERM");
    run.timers.push(
      this.clock.setTimeout(() => {
        if (run.gone) return;
        this.log.warn({ event: "ffmpeg_sigkill", pid: run.proc?.pid }, "ffmpeg ignored SIGTERM; sending SIGKILL");
        run.proc?.kill("SIGKILL");
        run.timers.push(
          this.clock.setTimeout(() => {
            if (run.gone) return;
            this.log.error({ event: "ffmpeg_unkillable", pid: run.proc?.pid }, "ffmpeg did not exit after SIGKILL; abandoning it");
            this.gone(run, { abandoned: true });
          }, grace),
        );
      }, grace),
    );
  }

  private gone(run: Run, how: { code?: number | null; signal?: NodeJS.Signals | null; error?: Error; abandoned?: boolean }): void {
    if (run.gone) return;
    run.gone = true;
    run.transport?.close();
    for (const t of run.timers) this.clock.clearTimeout(t);
    run.timers = [];
    if (run.watchdog) this.clock.clearTimeout(run.watchdog);
    run.watchdog = undefined;
    // No process, no frames: the rate of the one that ended is not the camera's rate any more.
    if (run === this.cur) this.recentTimes.length = 0;
    if (run.stopRequested) {
      this.resolveStop();
      return;
    }
    if (run !== this.cur || this.stopping) return;
    const wasStall = this._state === "stalled";
    const detail = {
      event: "ffmpeg_exit",
      code: how.code ?? null,
      signal: how.signal ?? null,
      error: how.error ? secretMasker.mask(how.error.message) : run.failure?.message,
      uptimeMs: Math.round(this.clock.monotonic() - run.startedAt),
      framesDelivered: run.delivered,
      stderr: run.stderr.tail().map((l) => secretMasker.mask(l)),
    };
    // Every exit is a failure: ffmpeg exits with code 0 when the server goes away.
    if (wasStall) this.log.warn(detail, "ffmpeg stopped after a stall");
    else this.log.error(detail, "ffmpeg exited unexpectedly");
    if (how.error) this.ingestError = "GW_CAMERA_SPAWN";
    // A crash: ffmpeg could not start, or died of a signal we did not send (segfault, abort).
    const crash = how.error !== undefined || run.failure !== undefined || how.abandoned === true || (how.signal != null && !run.killing);
    const flowed = run.lastFrameAt !== undefined;
    if (crash || !this.target) {
      this.scheduleRestart(crash || flowed);
      return;
    }
    this.setState(this.failed ? "failed" : "backoff");
    this.checkHost(this.gen, (up) => {
      if (up) this.scheduleRestart(flowed);
      else this.waitForHost();
    });
  }

  /** Probes the camera's host; `then` runs only if nothing (stop, a newer process) intervened. */
  private checkHost(gen: number, then: (up: boolean) => void): void {
    const target = this.target!;
    const settle = (up: boolean) => {
      if (this.stopping || gen !== this.gen) return;
      then(up);
    };
    let r: boolean | Promise<boolean>;
    try {
      r = this.probe(target);
    } catch {
      r = false;
    }
    if (typeof r === "boolean") settle(r);
    else r.then(settle, () => settle(false));
  }

  /** An outage: no ffmpeg, no budget, a cheap probe every PROBE_INTERVAL_MS, and a start the moment the host answers. */
  private waitForHost(): void {
    const now = this.clock.monotonic();
    if (this.outageSince === undefined) {
      this.outageSince = now;
      this.log.warn({ event: "camera_unreachable", host: this.target!.host, port: this.target!.port }, "camera host does not answer; probing until it does (not counted toward the restart budget)");
    }
    const gen = this.gen;
    this.restartTimer = this.clock.setTimeout(
      () => {
        this.restartTimer = undefined;
        this.checkHost(gen, (up) => {
          if (!up) return this.waitForHost();
          this.log.info({ event: "camera_reachable", downMs: Math.round(this.clock.monotonic() - (this.outageSince ?? now)) }, "camera host answers again; starting ffmpeg now");
          this.outageSince = undefined;
          this.reconnects.add(this.clock.monotonic());
          this.spawn();
        });
      },
      PROBE_INTERVAL_MS,
      "ingest.probe",
    );
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

  /** `counted`: this exit looks like part of a crash loop and spends the restart budget. */
  private scheduleRestart(counted: boolean): void {
    const now = this.clock.monotonic();
    this.outageSince = undefined;
    if (counted) this.restarts.add(now);
    let delay: number;
    if (counted && this.restarts.count(now) > this.camera.restartBudget) {
      if (!this.failed) {
        this.failed = true;
        this.ingestError = "GW_CAMERA_FAILED";
        this.log.error(
          { code: "GW_CAMERA_FAILED", event: "camera_failed", restarts: this.restarts.count(now), windowMs: this.camera.restartWindowMs, retryMs: this.camera.failedRetryMs },
          "camera exceeded its restart budget; marked failed, retrying slowly",
        );
      }
      delay = this.camera.failedRetryMs;
      this.setState("failed");
    } else if (this.failed) {
      delay = this.camera.failedRetryMs;
      this.setState("failed");
    } else {
      delay = backoffDelay(this.attempt++, { initialMs: this.camera.backoffInitialMs, maxMs: this.camera.backoffMaxMs, jitter: this.camera.backoffJitter }, this.random);
      this.setState("backoff");
    }
    this.log.info({ event: "camera_backoff", delayMs: delay, attempt: this.attempt, failed: this.failed, counted }, "restarting ffmpeg after a delay");
    const gen = this.gen;
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping || gen !== this.gen) return;
      this.reconnects.add(this.clock.monotonic());
      this.spawn();
    }, delay, "ingest.restart");
  }

  private clearRestart(): void {
    if (this.restartTimer) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  private recordFps(now: number): void {
    this.recentTimes.push(now);
    while (this.recentTimes.length > 0 && this.recentTimes[0]! <= now - FPS_WINDOW_MS) this.recentTimes.shift();
  }

  /**
   * Frames per second of the current process over the last window: frame intervals over the time
   * they span, so the rate is right from the second frame of a new process on (a fixed 5 s divisor
   * under-reported for 5 s after every recovery). When frames stop, the silence since the last one
   * counts too, so a stalled camera decays towards 0 instead of keeping its last rate.
   */
  private fpsIn(now: number): number {
    const t = this.recentTimes.filter((x) => x > now - FPS_WINDOW_MS);
    if (t.length < 2) return 0;
    const first = t[0]!;
    const last = t[t.length - 1]!;
    const interval = (last - first) / (t.length - 1);
    const span = Math.max(last - first, now - first - interval);
    return span > 0 ? ((t.length - 1) * 1000) / span : 0;
  }

  private setState(next: CameraState): void {
    const prev = this._state;
    if (prev === next) return;
    this._state = next;
    this.emit("state", next, prev);
  }
}
