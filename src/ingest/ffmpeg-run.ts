import type { Socket } from "node:net";
import type { Clock, TimerHandle } from "../core/clock.js";
import type { ExitHow } from "./exit-policy.js";
import { killInSteps, type KillHooks, type KillSteps } from "./kill-steps.js";
import { StderrLog } from "./stderr-log.js";
import type { FrameTransport } from "./transport.js";
import type { SpawnedProcess } from "./types.js";

/** ffmpeg stderr lines kept for the exit log. */
const STDERR_LINES = 40;

/**
 * One ffmpeg process and everything that belongs to it: its frame transport, stderr tail, the
 * no-frame watchdog timer and the kill steps. The supervisor makes one per process and compares
 * its handlers against the current run, so late events of an old process change nothing.
 * `finish()` marks the run gone once and releases all it holds.
 */
export class FfmpegRun {
  proc: SpawnedProcess | undefined;
  transport: FrameTransport | undefined;
  lastFrameAt: number | undefined;
  delivered = 0;
  gone = false;
  killing = false;
  /** stop() asked for this process to end: its exit is not a failure. */
  stopRequested = false;
  /** The transport failed (not the process): the exit that follows is a crash. */
  failure: Error | undefined;
  readonly stderr: StderrLog;
  /** Separate from the kill steps so re-arming never cancels a kill. */
  private watchdog: TimerHandle | undefined;
  private kill: KillSteps | undefined;

  constructor(
    readonly gen: number,
    readonly startedAt: number,
    private readonly clock: Clock,
    onCorruptWarning: () => void,
  ) {
    this.stderr = new StderrLog(STDERR_LINES, onCorruptWarning);
  }

  /** (Re)arms the no-frame watchdog; `fire` runs once after `delayMs` unless re-armed or finished. */
  armWatchdog(delayMs: number, fire: () => void): void {
    if (this.watchdog) this.clock.clearTimeout(this.watchdog);
    this.watchdog = this.clock.setTimeout(() => {
      this.watchdog = undefined;
      fire();
    }, delayMs);
  }

  /**
   * Readies the transport, then starts the process through `spawn` (given the socket the transport
   * prepared as its stdout, if any) unless the run ended, is being killed or `current()` says it
   * was replaced meanwhile. The prepared socket stays the transport's: `finish()` closes the
   * transport, and that closes the socket too. A transport that cannot be readied and a spawner
   * that throws both end the run through `onGone`.
   */
  start(transport: FrameTransport, current: () => boolean, spawn: (stdout?: Socket) => SpawnedProcess, onGone: (how: ExitHow) => void): void {
    this.transport = transport;
    const launch = (stdout?: Socket) => {
      if (this.gone || this.killing || !current()) return;
      this.launch(transport, () => spawn(stdout), onGone);
    };
    const ready = transport.prepare?.();
    if (!ready) launch();
    else ready.then(launch, (e: unknown) => onGone({ error: e as Error }));
  }

  private launch(transport: FrameTransport, spawn: () => SpawnedProcess, onGone: (how: ExitHow) => void): void {
    try {
      this.proc = spawn();
    } catch (e) {
      onGone({ error: e as Error });
      return;
    }
    const proc = this.proc;
    // First, so an 'error' the process already has pending is never without a listener.
    proc.on("error", (error) => onGone({ error }));
    proc.on("exit", (code, signal) => onGone({ code, signal }));
    transport.attach(proc);
    proc.stderr.on("data", (c) => this.stderr.push(c));
  }

  /** SIGTERM, then SIGKILL (kill-steps.ts); false when no process was started yet, so there is none to wait for. */
  terminate(graceMs: number, hooks: Omit<KillHooks, "exited">): boolean {
    if (this.proc === undefined) return false;
    this.kill = killInSteps(this.proc, this.clock, graceMs, { ...hooks, exited: () => this.gone });
    return true;
  }

  /** Marks the run gone and releases its transport and timers; false if it was gone already. */
  finish(): boolean {
    if (this.gone) return false;
    this.gone = true;
    this.transport?.close();
    this.kill?.cancel();
    if (this.watchdog) this.clock.clearTimeout(this.watchdog);
    this.watchdog = undefined;
    return true;
  }
}
