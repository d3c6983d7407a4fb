import { EventEmitter } from "node:events";
import { systemClock, type Clock, type TimerHandle } from "../core/clock.js";
import type { LumaFrame } from "../core/types.js";
import { CameraSupervisor, type SupervisorDeps } from "./supervisor.js";
import type { CameraConfig, CameraState, CameraStats } from "./types.js";

/**
 * The camera config of a camera's substream: its own URL, size and rate, everything else (credentials,
 * transport, input preset, watchdog and restart policy) the camera's own. Pure.
 */
export function subStreamCamera(cam: CameraConfig): CameraConfig {
  const sub = cam.subStream;
  if (!sub) throw new Error(`camera ${cam.id} has no subStream`);
  const { subStream: _s, mainStream: _m, ...rest } = cam;
  return { ...rest, url: sub.url, width: sub.width, height: sub.height, fps: sub.fps };
}

export interface PairedDeps extends SupervisorDeps {
  /** Main-stream frames (the ones to read codes from); as SupervisorDeps.onFrame. */
  onFrame: (frame: LumaFrame) => void;
  /**
   * Called with every substream frame: true when it shows activity (someone arriving). The
   * app passes a change detector; called synchronously, the frame is not kept.
   */
  isActivity: (frame: LumaFrame) => boolean;
}

/**
 * A camera with a substream and `mainStream: on-activity`: two CameraSupervisors, composed. The
 * substream (cheap: ~1/9 of the pixels) runs all the time and is only watched for activity; the
 * main stream, whose frames are read for codes, runs while there is activity and for
 * `warmHoldMs` after the last of it, then stops.
 *
 * Unknown counts as activity: while the substream is not online (start-up, outage, failed), the
 * main stream runs, so a camera whose substream is broken still reads (at the CPU it cost
 * without a substream) instead of going blind. At start the main stream runs too (warm, the
 * hold timer running), so a gateway that starts while someone waits reads at once.
 *
 * The main stream is stopped only once it has delivered frames, so standby means "the main stream
 * worked at its last warm-up"; one that cannot start keeps being retried by its supervisor.
 *
 * Composite state (what the lane, /readyz and /metrics see; the supervisors' own states are in stats()):
 * - `online`: the main stream delivers frames: codes are read.
 * - `standby`: main stream off by policy, substream online and watching. Counted as up: the main
 *   stream starts on the first sign of activity.
 * - `warming`: the main stream is starting after activity while the substream watches. Not up:
 *   a code shown now is read only once the main stream delivers (2-3 s after activity).
 * - otherwise the main stream's state (`starting`, `stalled`, `backoff`, `failed`), or `stopped`.
 */
export class PairedCamera extends EventEmitter {
  readonly main: CameraSupervisor;
  readonly sub: CameraSupervisor;
  private readonly clock: Clock;
  private _state: CameraState = "stopped";
  private running = false;
  private mainWanted = false;
  private lastActivity = 0;
  private holdTimer: TimerHandle | undefined;
  /** Times the main stream was started because of activity (not at start, not for a substream outage). */
  warmStarts = 0;

  constructor(
    readonly camera: CameraConfig,
    deps: PairedDeps,
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    const { isActivity, onFrame, allocFrame: _a, ...common } = deps;
    this.main = new CameraSupervisor(camera, { ...common, onFrame, ...(deps.allocFrame ? { allocFrame: deps.allocFrame } : {}), logger: deps.logger.child({ stream: "main" }) });
    // Substream frames are looked at and dropped: fresh small buffers, not the decode recycler's.
    this.sub = new CameraSupervisor(subStreamCamera(camera), { ...common, onFrame: (f) => this.onSubFrame(f, isActivity), logger: deps.logger.child({ stream: "sub" }) });
    this.main.on("state", (s: CameraState) => {
      // The hold counts only once the main stream has shown it works (see holdExpired).
      if (s === "online") this.armHold();
      this.update();
    });
    this.sub.on("state", (s: CameraState) => {
      // The substream cannot see: treat it as activity (the main stream keeps the lane reading).
      if (this.running && s !== "online") this.activity(false);
      else if (this.running) this.armHold();
      this.update();
    });
  }

  get state(): CameraState {
    return this._state;
  }

  /** True while the main stream is meant to run (activity within warmHoldMs, start-up, or substream down). */
  get mainActive(): boolean {
    return this.mainWanted;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.lastActivity = this.clock.monotonic();
    this.mainWanted = true;
    this.sub.start();
    this.main.start();
    this.armHold();
    this.update();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.mainWanted = false;
    this.clearHold();
    await Promise.all([this.main.stop(), this.sub.stop()]);
    this.update();
  }

  /**
   * The main stream's stats with the composite state; the substream's own under `subStream`.
   * Abandoned processes and host outages are the camera's whichever stream met them: both leak a
   * session on the same camera, and either stream's host gone means the camera cannot be read.
   */
  stats(): CameraStats {
    const m = this.main.stats();
    const s = this.sub.stats();
    const out: CameraStats = { ...m, ffmpegAbandoned: m.ffmpegAbandoned + s.ffmpegAbandoned, state: this._state, subStream: { state: s.state, url: s.url, fpsIn: s.fpsIn, framesIn: s.framesIn, ...(s.ffmpegCpuPercent !== undefined ? { ffmpegCpuPercent: s.ffmpegCpuPercent } : {}), ...(s.fpsAboveConfig !== undefined ? { fpsAboveConfig: s.fpsAboveConfig } : {}) }, mainActive: this.mainWanted, warmStarts: this.warmStarts };
    // A substream that cannot run is a cause too, but only while the main stream does not deliver.
    if (!m.ingestError && s.ingestError && this._state !== "online") out.ingestError = s.ingestError;
    if (m.hostReachable !== undefined || s.hostReachable !== undefined) out.hostReachable = m.hostReachable !== false && s.hostReachable !== false;
    return out;
  }

  private onSubFrame(f: LumaFrame, isActivity: (frame: LumaFrame) => boolean): void {
    if (isActivity(f)) this.activity(true);
  }

  /** Something happens (or the substream cannot tell): the main stream must run. */
  private activity(counted: boolean): void {
    if (!this.running) return;
    this.lastActivity = this.clock.monotonic();
    if (this.mainWanted) return;
    this.mainWanted = true;
    if (counted) this.warmStarts++;
    this.main.start();
    this.armHold();
    this.update();
  }

  private armHold(): void {
    this.clearHold();
    if (!this.running || !this.mainWanted) return;
    const left = this.lastActivity + this.camera.warmHoldMs - this.clock.monotonic();
    this.holdTimer = this.clock.setTimeout(() => this.holdExpired(), Math.max(0, left), "ingest.warmHold");
  }

  private holdExpired(): void {
    this.holdTimer = undefined;
    if (!this.running || !this.mainWanted) return;
    // Only a substream that sees can vouch that nothing happens (it re-arms when it is back), and
    // only a main stream that delivered may be stopped: standby counts as up, so it must mean
    // "the main stream worked at its last warm-up". A main stream that cannot start keeps trying
    // and shows its own state (backoff, failed); it re-arms when it comes online.
    if (this.sub.state !== "online" || this.main.state !== "online") return;
    if (this.clock.monotonic() - this.lastActivity < this.camera.warmHoldMs) return this.armHold();
    this.mainWanted = false;
    this.main.stop().catch(() => undefined);
    this.update();
  }

  private clearHold(): void {
    if (this.holdTimer) this.clock.clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }

  private update(): void {
    const next = this.composite();
    const prev = this._state;
    if (next === prev) return;
    this._state = next;
    this.emit("state", next, prev);
  }

  private composite(): CameraState {
    if (!this.running) return "stopped";
    const main = this.main.state;
    const subUp = this.sub.state === "online";
    if (main === "online") return "online";
    if (!this.mainWanted) return subUp ? "standby" : "starting";
    if (main === "starting" || main === "stopped") return subUp ? "warming" : "starting";
    return main;
  }
}
