/**
 * Which waiting frame a free decode worker takes next. Frames wait in per-camera slots of depth 1;
 * each carries a class:
 *  - "active": its lane has a presentation awaiting a verdict, the prefilter found a finder
 *    pattern in it, or its camera read a code moments ago: a traveller may be waiting on it;
 *  - "watch": only decided codes are in view (presence upkeep, so a held code never seems to leave);
 *  - "idle": no code in view and the prefilter found none; decoded only on the slow schedule, to
 *    catch what the prefilter misses.
 * Lower class first, then the oldest. An idle frame may never take the last free worker while more
 * than one worker exists: an active frame that arrives a moment later must find a worker at once,
 * not wait for an idle camera's full cascade (up to the budget, 60 ms by default).
 */
export type FrameClass = "active" | "watch" | "idle";

const RANK: Record<FrameClass, number> = { active: 0, watch: 1, idle: 2 };

export interface Waiting {
  cls: FrameClass;
  submittedAt: number;
}

/**
 * Index of the entry to dispatch now, or -1. `freeWorkers` counts ready workers without a job
 * (including the one asking); `totalWorkers` all of them.
 */
export function pickNext(waiting: readonly Waiting[], freeWorkers: number, totalWorkers: number): number {
  let best = -1;
  for (let i = 0; i < waiting.length; i++) {
    const w = waiting[i]!;
    const b = best < 0 ? undefined : waiting[best]!;
    if (!b || RANK[w.cls] < RANK[b.cls] || (RANK[w.cls] === RANK[b.cls] && w.submittedAt < b.submittedAt)) best = i;
  }
  if (best < 0) return -1;
  if (waiting[best]!.cls === "idle" && totalWorkers > 1 && freeWorkers <= 1) return -1;
  return best;
}
