import { EventWindow } from "./event-window.js";
import { FpsMeter } from "./fps-meter.js";
import type { CameraStats } from "./types.js";

const HOUR = 3_600_000;

/** The counter part of `CameraStats`, in the order `stats()` has always listed it. */
export type CounterStats = Pick<
  CameraStats,
  "fpsIn" | "framesIn" | "framesDropped" | "burstDropped" | "reconnectsLastHour" | "stallsLastHour" | "reconnectsTotal" | "stallsTotal" | "corruptWarnings" | "consumerErrors"
>;

/**
 * A camera's frame and health counters across all its ffmpeg processes: what `stats()` and
 * /metrics report. Pure: times are passed in.
 */
export class CameraCounters {
  private readonly fps = new FpsMeter();
  private readonly reconnects = new EventWindow(HOUR);
  private readonly stalls = new EventWindow(HOUR);
  private seq = 0;
  private lastFrameAt: number | undefined;
  private framesIn = 0;
  private framesDropped = 0;
  private burstDropped = 0;
  private corruptWarnings = 0;
  private consumerErrors = 0;
  private abandoned = 0;

  /** A frame was read from ffmpeg; returns its `seq` (one more per frame read, across processes). */
  frameRead(now: number): number {
    this.framesIn++;
    this.lastFrameAt = now;
    this.fps.record(now);
    return ++this.seq;
  }

  /** A frame read but not handed on; `burst`: held back by the burst guard. */
  dropped(burst: boolean): void {
    this.framesDropped++;
    if (burst) this.burstDropped++;
  }

  /** A process started or ended: the rate is that of the current process only. */
  resetRate(): void {
    this.fps.reset();
  }

  corrupt(): void {
    this.corruptWarnings++;
  }

  /** The frame consumer threw; returns the total so far. */
  consumerFailed(): number {
    return ++this.consumerErrors;
  }

  /** An ffmpeg process did not exit after SIGKILL and was given up (it may still hold CPU and a camera session). */
  abandonedProcess(): void {
    this.abandoned++;
  }

  /** Processes given up since start; kept out of `snapshot()` so its long-standing order stays as it is. */
  get abandonedTotal(): number {
    return this.abandoned;
  }

  reconnected(now: number): void {
    this.reconnects.add(now);
  }

  stalled(now: number): void {
    this.stalls.add(now);
  }

  /** Milliseconds since the last frame was read; undefined before the first. */
  lastFrameAgeMs(now: number): number | undefined {
    return this.lastFrameAt === undefined ? undefined : Math.max(0, now - this.lastFrameAt);
  }

  snapshot(now: number): CounterStats {
    return {
      fpsIn: this.fps.rate(now),
      framesIn: this.framesIn,
      framesDropped: this.framesDropped,
      burstDropped: this.burstDropped,
      reconnectsLastHour: this.reconnects.count(now),
      stallsLastHour: this.stalls.count(now),
      reconnectsTotal: this.reconnects.total,
      stallsTotal: this.stalls.total,
      corruptWarnings: this.corruptWarnings,
      consumerErrors: this.consumerErrors,
    };
  }
}
