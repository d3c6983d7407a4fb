/**
 * Cooperative early stop. A frame's budget is decided when it is dispatched; without this, a frame
 * that started with the full budget (60 ms by default) keeps its worker for all of it even when a
 * frame that may hold a code arrives 2 ms later, and with two workers both can be in long cascades.
 * So the pool publishes how many frames wait for a worker, per class, in a small SharedArrayBuffer
 * shared with every worker (`WaitingBoard`); between passes (never mid-pass: a zxing read cannot be
 * interrupted, and a half-run pass is wasted) the worker's cascade asks `shouldStop()` and stops
 * escalating when a more urgent frame waits. Pure code: no clock, no logger.
 */
import type { FrameClass } from "./priority.js";

/** Indexes into the shared Int32Array: frames waiting for a worker, by class. */
export const WAITING_ACTIVE = 0;
export const WAITING_WATCH = 1;
export const WAITING_SLOTS = 2;

/**
 * What a running frame gives way to:
 *  - "never": it runs its cascade to the end of its budget (a first full look at a possible code);
 *  - "active": it stops when an active frame waits (watch frames, weak or repeated active ones);
 *  - "in-view": it stops when an active or a watch frame waits (idle slow-schedule frames).
 */
export type YieldTo = "never" | "active" | "in-view";

export interface YieldInput {
  cls: FrameClass;
  /** Only a lone finder-like shape was found (weak evidence). */
  weak?: boolean;
  /** ms since this camera last ran a full cascade to its end (not stopped); undefined = never. */
  sinceFullDoneMs?: number;
  /** A camera's full cascade this recent makes its next active frame give way (the escalation interval). */
  recentMs: number;
}

/**
 * Decided at dispatch. An active frame is protected only when its camera has not had a complete
 * full cascade within `recentMs`: the first full look at a code that appeared is what a traveller
 * waits on. The camera's repeats (a code that the full cascade just failed to read, frame after
 * frame) give way to another camera's waiting active frame. A stopped cascade does not count as
 * done, so the camera's next frame is protected again: no camera can be starved of full cascades.
 */
export function yieldPolicy(f: YieldInput): YieldTo {
  if (f.cls === "idle") return "in-view";
  if (f.cls === "watch" || f.weak) return "active";
  return f.sinceFullDoneMs !== undefined && f.sinceFullDoneMs < f.recentMs ? "active" : "never";
}

/** Whether a running frame with policy `y` should stop escalating, given the waiting counts. */
export function shouldYield(y: YieldTo, waitingActive: number, waitingWatch: number): boolean {
  if (y === "never") return false;
  if (waitingActive > 0) return true;
  return y === "in-view" && waitingWatch > 0;
}

/** The waiting counts as the pool writes them and the workers read them (Atomics: another thread writes). */
export class WaitingBoard {
  readonly view: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(WAITING_SLOTS * Int32Array.BYTES_PER_ELEMENT)) {
    this.view = new Int32Array(buffer);
  }

  get buffer(): SharedArrayBuffer {
    return this.view.buffer as SharedArrayBuffer;
  }

  /** Pool side: the frames now waiting (after a dispatch round, any waiting active/watch frame has no free worker). */
  publish(waiting: Iterable<{ cls: FrameClass }>): void {
    let active = 0;
    let watch = 0;
    for (const w of waiting) {
      if (w.cls === "active") active++;
      else if (w.cls === "watch") watch++;
    }
    Atomics.store(this.view, WAITING_ACTIVE, active);
    Atomics.store(this.view, WAITING_WATCH, watch);
  }

  /** Worker side: the stop check for a frame with policy `y`, or undefined when it never stops. */
  stopCheck(y: YieldTo | undefined): (() => boolean) | undefined {
    if (y === undefined || y === "never") return undefined;
    return () => shouldYield(y, Atomics.load(this.view, WAITING_ACTIVE), Atomics.load(this.view, WAITING_WATCH));
  }
}
