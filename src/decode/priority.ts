/**
 * Which waiting frame a free decode worker takes next. Frames wait in per-camera slots of depth 1;
 * each carries a class:
 *  - "active": its lane has a presentation awaiting a verdict, the prefilter found a finder
 *    pattern in it, or its camera read a code moments ago: a traveller may be waiting on it;
 *  - "watch": only decided codes are in view (presence upkeep, so a held code never seems to leave);
 *  - "idle": no code in view and the prefilter found none; decoded only on the slow schedule, to
 *    catch what the prefilter misses.
 * Lower class first; within a class, a first look before a repeat (between first looks, the camera
 * served longer ago); then the oldest. A "first
 * look" (`fresh`) is an active frame whose camera has had no complete full cascade within the
 * escalation interval: a code that has just appeared, which the traveller waits on. A repeat is
 * the next frame of a camera whose cascade keeps failing on what it shows (an unreadable code held
 * up): it still gets its turn, but it no longer sends a new code on another camera to the back of
 * the queue (bench:e2e at 8 cameras, one diagnostic run with this rule alone: the generated
 * showings' p95 went from 187-195 to 146 ms; the rest of that tail was the idle gate's, see
 * idle-gate.ts).
 * An idle frame may not take the last free worker while more than one worker exists: an
 * active frame that arrives a moment later must find a worker at once, not wait for an idle
 * camera's full cascade (up to the budget, 60 ms by default). Once it has waited IDLE_MAX_WAIT_MS
 * it may: else one lane with a code held up, whose frames keep both workers busy, would starve
 * every idle camera's slow schedule (measured: 0-2 decodes in 10 s instead of 10).
 * A camera whose frame is decoding now gets a second worker only when no other camera's frame
 * that may take it waits: one busy lane cannot hold every worker while others wait, and it keeps
 * both when nobody else does.
 */
export type FrameClass = "active" | "watch" | "idle";

const RANK: Record<FrameClass, number> = { active: 0, watch: 1, idle: 2 };

/**
 * An idle frame that has waited this long may take the last free worker. Well under the slow
 * schedule's interval (1 s by default): a newer slow-schedule frame would replace it, and start waiting anew.
 */
export const IDLE_MAX_WAIT_MS = 250;

export interface Waiting {
  cls: FrameClass;
  submittedAt: number;
  /** A first look at what the camera shows (see above); absent = a repeat. */
  fresh?: boolean;
  /** When the camera's last frame went to a worker (absent: never). */
  servedAt?: number;
  /** The camera has a frame decoding now. */
  busy?: boolean;
}

/**
 * Whether `a` goes before `b`. Between two first looks, the camera served longer ago goes first:
 * a first look gives way to another camera's (early-stop.ts), and the camera whose cascade just
 * stopped for it must not take the worker straight back with its next frame.
 */
function before(a: Waiting, b: Waiting): boolean {
  if (RANK[a.cls] !== RANK[b.cls]) return RANK[a.cls] < RANK[b.cls];
  if ((a.fresh === true) !== (b.fresh === true)) return a.fresh === true;
  if (a.fresh === true && a.servedAt !== b.servedAt) return (a.servedAt ?? -Infinity) < (b.servedAt ?? -Infinity);
  return a.submittedAt < b.submittedAt;
}

/**
 * Index of the entry to dispatch now, or -1. `freeWorkers` counts ready workers without a job
 * (including the one asking); `totalWorkers` all of them; `now` (the submit clock) tells how long
 * an idle frame has waited (absent: never long enough to take the last worker).
 */
export function pickNext(waiting: readonly Waiting[], freeWorkers: number, totalWorkers: number, now?: number): number {
  const spare = totalWorkers === 1 || freeWorkers > 1;
  const mayTake = (w: Waiting) => w.cls !== "idle" || spare || (now !== undefined && now - w.submittedAt >= IDLE_MAX_WAIT_MS);
  let best = -1;
  let bestBusy = -1;
  for (let i = 0; i < waiting.length; i++) {
    const w = waiting[i]!;
    if (!mayTake(w)) continue;
    if (w.busy) {
      if (bestBusy < 0 || before(w, waiting[bestBusy]!)) bestBusy = i;
    } else if (best < 0 || before(w, waiting[best]!)) best = i;
  }
  return best >= 0 ? best : bestBusy;
}
