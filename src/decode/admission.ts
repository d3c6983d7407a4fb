/**
 * What a submitted frame is worth to the decode pool (pool.ts; docs/lane.md "Scheduling"): its
 * class from what the camera's lane has in view (active, watch, idle, or not worth a worker at
 * all: the idle gate and the finder-pattern prefilter decide for a lane with nothing in view), and
 * the escalation budget it gets when a worker takes it (an idle camera's is fixed by the gate,
 * a watch frame's is rationed, an active frame's follows the backlog). Owns the per-camera windows
 * of those rules. Main thread; no workers, no timers.
 */
import type { LumaFrame } from "../core/types.js";
import type { CameraStats } from "./camera-stats.js";
import { EscalationGovernor } from "./escalation.js";
import { idleBudget, IdleGate } from "./idle-gate.js";
import { DEFAULT_PREFILTER, Prefilter, type PrefilterOptions } from "./prefilter.js";
import type { FrameClass } from "./priority.js";
import type { SymbolTracker } from "./track.js";
import type { ModuleEvidence } from "./votes.js";
import { onlyAtLastCode } from "./watch-read.js";

/** Slow schedule: an idle camera gets a decode at least this often, whatever the prefilter says (idle-gate.ts). */
export const DEFAULT_IDLE_FULL_EVERY_MS = 1000;
/**
 * A frame of a lane with only decided codes in view gets the first pass and crops (around located
 * symbols and the last code) on every frame, and the full cascade at most this often per camera.
 * A presentation awaiting its verdict gets the full cascade; idle cameras: idle-gate.ts.
 */
export const WEAK_FULL_EVERY_MS = 333;
/** With only decided codes in view, a frame without a finder pattern is decoded at most this often (well under leaveMs). */
export const WATCH_EMPTY_EVERY_MS = 500;

/** What the camera's lane has in view when the frame is submitted (see Lane.codesInView). */
export type LaneView = "none" | "decided" | "pending";

export interface SubmitContext {
  /** Absent: the frame is decoded like an active one and never prefiltered (one-off callers, tests). */
  view?: LaneView;
}

/** The pool options admission reads (DecodePoolOptions has their descriptions). */
export interface AdmissionOptions {
  budgetMs: number;
  escalateIntervalMs: number;
  track?: boolean;
  votes?: boolean;
  prefilter?: PrefilterOptions | false;
  idleFullEveryMs?: number;
}

/** A frame's class, and the fixed budget or the shortcuts it was admitted with. */
export interface Admitted {
  cls: FrameClass;
  /** Only a lone finder-like shape was found (idle-gate.ts "first"): its cascade gives way to an active frame. */
  weak?: boolean;
  /** Watch frame whose finder patterns are all at the last code: read that crop first (watch-read.ts). */
  cropFirst?: boolean;
  /** Escalation budget fixed at submit (idle cameras, idle-gate.ts); absent: chosen at dispatch. */
  budgetMs?: number;
}

export class FrameAdmission {
  private readonly prefilter: Prefilter | undefined;
  private readonly idle: IdleGate | undefined;
  private readonly governor: EscalationGovernor;
  private readonly lastWeakFull = new Map<string, number>();
  private readonly lastWatch = new Map<string, number>();

  constructor(
    private readonly opts: AdmissionOptions,
    private readonly stats_: CameraStats,
    private readonly tracker: SymbolTracker,
  ) {
    this.governor = new EscalationGovernor(opts.escalateIntervalMs);
    this.prefilter = opts.prefilter === false ? undefined : new Prefilter(opts.prefilter ?? DEFAULT_PREFILTER);
    this.idle = this.prefilter && new IdleGate(this.prefilter, opts.idleFullEveryMs ?? DEFAULT_IDLE_FULL_EVERY_MS);
  }

  /**
   * Only decided codes in view: presence upkeep. A frame with a finder pattern is decoded (the
   * code is likely still there); one without is decoded only every WATCH_EMPTY_EVERY_MS, so the
   * frames after a code left (until leaveMs) cost little, while a held code the prefilter misses
   * is still sighted several times per leaveMs and never seems to leave and come back.
   */
  private watch(frame: LumaFrame, now: number): { cls: FrameClass; cropFirst?: boolean } | undefined {
    const last = this.lastWatch.get(frame.cameraId);
    let cropFirst = false;
    if (this.prefilter && last !== undefined && now - last < WATCH_EMPTY_EVERY_MS) {
      const cam = this.stats_.camera(frame.cameraId);
      const hint = this.stats_.hint(frame);
      const t = performance.now();
      // One finder pattern away from the last code is enough to know; patterns only at the last
      // code mean the held code is likely all there is, and its crop is read first.
      const hits = this.prefilter.find(frame, (hs) => !onlyAtLastCode(hs, hint));
      cam.prefilterMs += performance.now() - t;
      if (hits.length === 0) {
        // The code is gone from view: the idle gate's tried shapes are gone too.
        this.idle?.sawEmpty(frame.cameraId);
        return undefined;
      }
      cam.prefilterHits++;
      cropFirst = onlyAtLastCode(hits, hint);
    }
    this.lastWatch.set(frame.cameraId, now);
    return { cls: "watch", ...(cropFirst ? { cropFirst: true } : {}) };
  }

  /** The frame's class (and fixed budget), or undefined when it is not worth decoding at all. */
  classify(frame: LumaFrame, ctx: SubmitContext, now: number): Admitted | undefined {
    if (ctx.view === undefined || ctx.view === "pending") return { cls: "active" };
    if (ctx.view === "decided") return this.watch(frame, now);
    // Nothing in view. A code read on this camera moments ago: it may still be there.
    if (!this.idle || this.stats_.hint(frame)) return { cls: "active" };
    const cam = this.stats_.camera(frame.cameraId);
    // A symbol located but not read, or one regrid is summing module evidence for (votes.ts).
    const located = this.opts.track !== false && (this.tracker.hints(frame.cameraId, frame).length > 0 || this.evidenceFor(frame).length > 0);
    const t = performance.now();
    const v = this.idle.admit(frame, located);
    if (v.prefiltered) cam.prefilterMs += performance.now() - t;
    if (v.hits > 0) cam.prefilterHits++;
    if (v.decision === "skip") return undefined;
    const budgetMs = idleBudget(v.decision, this.opts.budgetMs);
    // Slow-schedule frames take a spare worker only (priority.ts); the rest may hold a code.
    const cls: FrameClass = v.decision === "slow" || v.decision === "slow-full" ? "idle" : "active";
    return { cls, ...(v.decision === "first" ? { weak: true } : {}), ...(budgetMs !== undefined ? { budgetMs } : {}) };
  }

  /** regrid's module evidence for the camera's next frame (votes.ts), when tracking and votes are on. */
  evidenceFor(f: LumaFrame): readonly ModuleEvidence[] {
    return this.opts.track === false || this.opts.votes === false ? [] : this.tracker.evidence(f.cameraId, f);
  }

  /** The escalation budget of a frame a worker takes now; `backlog`: frames that may hold a code wait for a worker. */
  budgetAtDispatch(f: LumaFrame, p: Admitted, now: number, backlog: boolean): number {
    let budgetMs: number;
    if (p.budgetMs !== undefined) {
      // An idle camera's frame: the gate fixed what it buys (idle-gate.ts).
      if (p.cls === "idle") this.stats_.camera(f.cameraId).slowScheduled++;
      budgetMs = p.budgetMs;
    } else if (p.cls === "watch") {
      // Only decided codes in view (presence upkeep: the first pass and the crop around the last
      // code find a code already read; a full cascade on the empty frames after it left, until
      // leaveMs, would be spent for nothing): rationed escalation.
      const last = this.lastWeakFull.get(f.cameraId);
      if (last === undefined || now - last >= WEAK_FULL_EVERY_MS) {
        this.lastWeakFull.set(f.cameraId, now);
        budgetMs = this.opts.budgetMs;
      } else budgetMs = 0;
    } else {
      // Escalation budget follows the load: frames that may hold a code wait for a worker.
      budgetMs = this.governor.budgetFor(f.cameraId, this.opts.budgetMs, now, backlog);
    }
    return budgetMs;
  }
}
