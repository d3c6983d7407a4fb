/**
 * What a frame of an idle camera (its lane has nothing in view, no code read on it moments ago)
 * is worth spending on. Pure: the prefilter and the frame's own time stamp (`receivedAt`, as the
 * tracker uses, so replays decide as live runs do); the pool maps the answer onto a worker job
 * and the prefilter bench replays scenes through the same gate (docs/lane.md "Scheduling").
 *
 *  - "full": a symbol was located on this camera's recent frames (tracker) and not decoded, or
 *    the prefilter found two paired finder patterns this camera has not already tried: the full
 *    cascade (with the load-governed budget) goes after it.
 *  - "first": the prefilter found a lone finder-like shape that this camera has not already tried: the
 *    first pass only (plus its budget-exempt crop when it locates a symbol without reading it,
 *    after which the tracker says "full"). The first pass reads nearly everything the cascade
 *    reads on frames where a finder pattern shows; the cascade costs 3-4x more and, on the frames
 *    that raise a false "maybe" (text, stripes, textures), finds nothing.
 *  - "slow": nothing new, but the camera had no decode for `everyMs`: the slow schedule, which
 *    catches what the prefilter misses. The first pass, and the full cascade when the camera's
 *    last one is `cascadeEveryMs` old (a code only the cascade reads, and that neither the
 *    prefilter nor the first pass notices, is still read within that time).
 *  - "skip": nothing worth a worker.
 *
 * A "tried" shape is one at the very place (TRIED_PX) of a finder-like shape this camera already
 * paid a decode for, without a symbol located since: text and tiles in a still scene raise the
 * same false "maybe" in every frame; a code held up raises it where nothing raised it before, and
 * moves. A tried shape that has left is forgotten: missing from FORGET_AFTER admitted frames in a
 * row, or missing from one and back after FORGET_MS or more (the change gate drops the frames of
 * a scene that stays still, so "gone a while" is told by time). The same code shown again at the
 * same place (a card in a holder, a phone in a cradle, bench:e2e's looped clips) is then a new
 * presentation, not part of the scene; it would otherwise wait for the slow schedule as an idle
 * frame (bench:e2e at 8 cameras: 110-275 ms in the queue).
 */
import { pairedFinders, type FinderHit, type Prefilter } from "./prefilter.js";

export type IdleDecision = "full" | "first" | "slow" | "slow-full" | "skip";

/** A full cascade on the slow schedule at most this often per idle camera; the first pass otherwise. */
export const DEFAULT_IDLE_CASCADE_EVERY_MS = 5000;
/** Finder-like shapes remembered per camera as already tried. */
const TRIED_MAX = 8;
/**
 * A hit within this many frame px of a tried shape is the same, still shape. Deliberately tight:
 * a shape that did not move at all is part of the scene (a still frame scans identically), while
 * a code held in a hand shifts between frames and keeps buying decodes, each frame a new chance
 * (on the clips, remembering shapes within two modules lost three held codes out of 117).
 */
const TRIED_PX = 1;
/**
 * Admitted frames in a row (frames the change gate let through, so the scene changed) without a
 * tried shape before it is forgotten. Two, not one: a still shape that the prefilter misses on a
 * single noisy frame stays tried.
 */
const FORGET_AFTER = 2;
/** A tried shape missed, then back this much later (ms), counts as new: it left and came back. */
const FORGET_MS = 1000;

interface TriedShape extends FinderHit {
  /** Admitted frames in a row that did not show it. */
  misses: number;
  /** receivedAt of the last admitted frame that showed it. */
  lastSeen: number;
}

interface CameraState {
  lastDecode?: number;
  lastCascade?: number;
  tried: TriedShape[];
}

export interface IdleFrame {
  cameraId: string;
  receivedAt: number;
  width: number;
  height: number;
  stride: number;
  data: Uint8Array;
}

export interface IdleVerdict {
  decision: IdleDecision;
  /** Finder-like shapes the prefilter found (0 when it did not run). */
  hits: number;
  /** Whether the prefilter ran (its cost is the caller's to count). */
  prefiltered: boolean;
}

export class IdleGate {
  private readonly cams = new Map<string, CameraState>();

  constructor(
    private readonly prefilter: Prefilter,
    private readonly everyMs: number,
    private readonly cascadeEveryMs: number = DEFAULT_IDLE_CASCADE_EVERY_MS,
  ) {}

  /**
   * A frame of this camera in which the prefilter found nothing at all, seen outside the gate (the
   * lane's presence check while a decided code was in view): every tried shape missed it.
   */
  sawEmpty(cameraId: string): void {
    const cam = this.cams.get(cameraId);
    // No hits: every tried shape counts a miss; the time is only read for a shape seen again.
    if (cam) forgetGone(cam, [], Number.NaN);
  }

  /** `located`: the tracker holds a located-but-undecoded symbol of this camera. */
  admit(frame: IdleFrame, located: boolean): IdleVerdict {
    const now = frame.receivedAt;
    let cam = this.cams.get(frame.cameraId);
    if (!cam) this.cams.set(frame.cameraId, (cam = { tried: [] }));
    if (located) {
      // Evidence already: no need to look for finder patterns, and shapes tried so far may be it.
      cam.tried = [];
      cam.lastDecode = now;
      cam.lastCascade = now;
      return { decision: "full", hits: 0, prefiltered: false };
    }
    const st = cam;
    // No early exit: every shape of the frame is remembered as tried, or a still code's second
    // and third finder patterns would each buy the first pass again on the next frames.
    const hits = this.prefilter.find(frame);
    forgetGone(st, hits, now);
    const newHits = hits.filter((h) => !st.tried.some((o) => near(o, h)));
    if (newHits.length > 0) {
      for (const h of newHits) st.tried.push({ x: h.x, y: h.y, module: h.module, misses: 0, lastSeen: now });
      if (st.tried.length > TRIED_MAX) st.tried.splice(0, st.tried.length - TRIED_MAX);
      st.lastDecode = now;
      // Two finder patterns of one symbol, new here: a code has likely just come into view, and it
      // gets every pass once (as held codes are hard ones, on the clips the first pass alone read
      // fewer of them in time). Still ones are tried once, so this costs little on idle scenes.
      if (pairedFinders(hits)) {
        st.lastCascade = now;
        return { decision: "full", hits: hits.length, prefiltered: true };
      }
      return { decision: "first", hits: hits.length, prefiltered: true };
    }
    // A clock that stepped back (negative age) counts as due: never stall the slow schedule.
    const due = (at: number | undefined, every: number) => at === undefined || now - at >= every || now < at;
    if (!due(st.lastDecode, this.everyMs)) return { decision: "skip", hits: hits.length, prefiltered: true };
    st.lastDecode = now;
    if (due(st.lastCascade, this.cascadeEveryMs)) {
      st.lastCascade = now;
      return { decision: "slow-full", hits: hits.length, prefiltered: true };
    }
    return { decision: "slow", hits: hits.length, prefiltered: true };
  }
}

/** Updates each tried shape with this admitted frame and drops the ones that left (see the class comment). */
function forgetGone(st: CameraState, hits: readonly FinderHit[], now: number): void {
  st.tried = st.tried.filter((t) => {
    if (!hits.some((h) => near(t, h))) return ++t.misses < FORGET_AFTER;
    // Back after an absence of FORGET_MS or more: a new presentation at the same place.
    if (t.misses > 0 && now - t.lastSeen >= FORGET_MS) return false;
    t.misses = 0;
    t.lastSeen = now;
    return true;
  });
}

function near(a: FinderHit, b: FinderHit): boolean {
  return Math.abs(a.x - b.x) <= TRIED_PX && Math.abs(a.y - b.y) <= TRIED_PX;
}

/** The escalation budget (ms) a decision buys; undefined: the load-governed budget of an active frame. */
export function idleBudget(decision: Exclude<IdleDecision, "skip">, fullBudgetMs: number): number | undefined {
  if (decision === "full") return undefined;
  return decision === "slow-full" ? fullBudgetMs : 0;
}
