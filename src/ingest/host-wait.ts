import type { Clock, TimerHandle } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import { askHost, type HostProbe, type ProbeTarget } from "./host-probe.js";

export interface HostWaitDeps {
  probe: HostProbe;
  target: ProbeTarget;
  clock: Clock;
  log: Logger;
  /** Time between probes while the host does not answer. */
  intervalMs: number;
}

/**
 * Waits out an outage of a camera's host: no ffmpeg, nothing spent from the restart budget, a
 * cheap probe every `intervalMs`, and a start the moment the host answers. The outage is logged
 * once when it begins and once when it ends (with how long it lasted), however many probes it took.
 * `valid()` is the owner's generation check: once it fails (stop, a newer process), a probe
 * result changes nothing.
 */
export class HostWait {
  private timer: TimerHandle | undefined;
  /** When the outage being waited out began. */
  private since: number | undefined;

  constructor(private readonly d: HostWaitDeps) {}

  /** Probes once; `then` runs only if `valid()` still holds when the answer comes. */
  check(valid: () => boolean, then: (up: boolean) => void): void {
    askHost(this.d.probe, this.d.target, (up) => {
      if (valid()) then(up);
    });
  }

  /** Probes every `intervalMs` until the host answers, then calls `onUp`. */
  wait(valid: () => boolean, onUp: () => void): void {
    const { clock, log, target } = this.d;
    const now = clock.monotonic();
    if (this.since === undefined) {
      this.since = now;
      log.warn({ event: "camera_unreachable", host: target.host, port: target.port }, "camera host does not answer; probing until it does (not counted toward the restart budget)");
    }
    this.timer = clock.setTimeout(
      () => {
        this.timer = undefined;
        this.check(valid, (up) => {
          if (!up) return this.wait(valid, onUp);
          log.info({ event: "camera_reachable", downMs: Math.round(clock.monotonic() - (this.since ?? now)) }, "camera host answers again; starting ffmpeg now");
          this.since = undefined;
          onUp();
        });
      },
      this.d.intervalMs,
      "ingest.probe",
    );
  }

  /** True from the probe that finds the host gone until one finds it back (or forget/cancel). */
  get down(): boolean {
    return this.since !== undefined;
  }

  /** The owner restarts ffmpeg for another reason: a later outage is a new one. */
  forget(): void {
    this.since = undefined;
  }

  /** stop(): no more probes. */
  cancel(): void {
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.since = undefined;
  }
}
