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
/** Bit (camera slot mod 32) set for each camera whose waiting frame is a first look. */
export const WAITING_FIRST_LOOKS = 2;
export const WAITING_SLOTS = 3;

/**
 * What a running frame gives way to:
 *  - "never": it runs its cascade to the end of its budget;
 *  - "first-look": it stops only when another camera's first look waits (a first full look at a
 *    possible code: see yieldPolicy);
 *  - "active": it stops when an active frame waits (watch frames, weak or repeated active ones);
 *  - "in-view": it stops when an active or a watch frame waits (idle slow-schedule frames).
 */
export type YieldTo = "never" | "first-look" | "active" | "in-view";

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
 * Decided at dispatch. An active frame is a first look when its camera has not had a complete
 * full cascade within `recentMs`: the first full look at a code that appeared is what a traveller
 * waits on. It gives way only to another camera's first look: when several lanes present at once
 * (two workers, four new codes), each code gets its first pass before any one of them gets the
 * rest of the cascade, instead of the third and fourth waiting for two full cascades (bench:e2e at
 * 8 cameras: showings read by the first pass waited 100-150 ms behind other cameras' cascades).
 * The camera's repeats (a code that the full cascade just failed to read, frame after frame) give
 * way to any waiting active frame. A stopped cascade does not count as done, so the camera's next
 * frame is a first look again: no camera can be starved of full cascades, and once no other first
 * look waits the cascade runs to the end of its budget.
 */
export function yieldPolicy(f: YieldInput): YieldTo {
  if (f.cls === "idle") return "in-view";
  if (f.cls === "watch" || f.weak) return "active";
  return f.sinceFullDoneMs !== undefined && f.sinceFullDoneMs < f.recentMs ? "active" : "first-look";
}

/**
 * Whether a running frame with policy `y` should stop escalating, given the waiting counts and
 * whether another camera's first look waits.
 */
export function shouldYield(y: YieldTo, waitingActive: number, waitingWatch: number, otherFirstLook = false): boolean {
  if (y === "never") return false;
  if (y === "first-look") return otherFirstLook;
  if (waitingActive > 0) return true;
  return y === "in-view" && waitingWatch > 0;
}

/** A camera's bit in the first-looks mask (slots beyond 32 share bits: a missed yield, never a wrong one). */
const bit = (slot: number): number => 1 << (slot & 31);

/** The waiting counts as the pool writes them and the workers read them (Atomics: another thread writes). */
export class WaitingBoard {
  readonly view: Int32Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(WAITING_SLOTS * Int32Array.BYTES_PER_ELEMENT)) {
    this.view = new Int32Array(buffer);
  }

  get buffer(): SharedArrayBuffer {
    return this.view.buffer as SharedArrayBuffer;
  }

  /**
   * Pool side: the frames now waiting (after a dispatch round, any waiting active/watch frame has
   * no free worker); `firstLook` with the camera's `slot` marks a waiting first look.
   */
  publish(waiting: Iterable<{ cls: FrameClass; firstLook?: boolean; slot?: number }>): void {
    let active = 0;
    let watch = 0;
    let firstLooks = 0;
    for (const w of waiting) {
      if (w.cls === "active") active++;
      else if (w.cls === "watch") watch++;
      if (w.firstLook && w.slot !== undefined) firstLooks |= bit(w.slot);
    }
    Atomics.store(this.view, WAITING_ACTIVE, active);
    Atomics.store(this.view, WAITING_WATCH, watch);
    Atomics.store(this.view, WAITING_FIRST_LOOKS, firstLooks);
  }

  /**
   * Worker side: the stop check for a frame with policy `y` of the camera in `slot`, or undefined
   * when it never stops (a first look without a slot never stops).
   */
  stopCheck(y: YieldTo | undefined, slot?: number): (() => boolean) | undefined {
    if (y === undefined || y === "never") return undefined;
    if (y === "first-look" && slot === undefined) return undefined;
    const others = slot === undefined ? 0 : ~bit(slot);
    return () => shouldYield(y, Atomics.load(this.view, WAITING_ACTIVE), Atomics.load(this.view, WAITING_WATCH), (Atomics.load(this.view, WAITING_FIRST_LOOKS) & others) !== 0);
  }
}
