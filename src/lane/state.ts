import type { Clock, TimerHandle } from "../core/clock.js";
import type { LaneState, LaneStatus, VerdictEvent } from "../core/types.js";

/** Stable codes for why a lane is out of service (shown on the display and in /readyz). */
export const LaneProblems = {
  CAMERAS_DOWN: "Every camera of the lane is down (or the lane has none).",
  TRUST_STALE: "Trust data is older than trust.maxAgeS and trust.staleAction is out-of-service.",
  CLOCK_UNTRUSTED: "The gateway's clock is off by more than trust.maxClockDriftS (a trust server's Date header, or a signed trust list's issuedAt) and trust.clockAction is out-of-service: no validity can be judged.",
  SHUTTING_DOWN: "The gateway is stopping.",
  STARTING: "The lane was just built and its cameras are still getting their first frame (no camera up yet, within the start-up grace); CAMERAS_DOWN follows if none is up when the grace ends.",
  EVENTS_SEQ_ERROR: "Event ids of the lane cannot be persisted (state dir unwritable or unreadable): a reused id could lose an event.",
  DECODE_DOWN: "Frames arrive but nothing reads them: the decode pool has no live worker (workers cannot start), or every camera's frame path fails (consumer throws, every decode errors).",
  INGEST_ERROR: "No camera of the lane delivers and at least one cannot run ffmpeg (spawn error, restart budget exceeded).",
  CAMERAS_BLIND: "Frames arrive, but every delivering camera of the lane shows a frozen or blank picture (a hung encoder, a covered lens) for cameras[].pictureCheckS.",
} as const;
/**
 * A stage that finds a lane cannot work raises a problem here: add its code to LaneProblems (with
 * docs/lane.md) and call `Lane.setProblem`, or emit `lane-problem` on the bus (the gateway routes
 * it to the lane, or to every lane when `lane` is absent). Problems are independent flags: the
 * lane is out of service while any is on.
 */
export type LaneProblem = keyof typeof LaneProblems;

export interface LaneStateOptions {
  lane: string;
  passHoldMs: number;
  flagHoldMs: number;
  clock: Clock;
  onChange: (status: LaneStatus) => void;
}

/**
 * idle -> pass|flag (held passHoldMs|flagHoldMs, then idle); any problem -> out-of-service;
 * pause -> paused. Out-of-service and paused take precedence and clear any verdict on screen:
 * a lane that cannot see or cannot trust must never keep showing green.
 */
export class LaneStateMachine {
  private problems = new Set<LaneProblem>();
  private paused = false;
  private verdict: VerdictEvent | undefined;
  private until: number | undefined;
  private timer: TimerHandle | undefined;
  private last: LaneStatus | undefined;

  constructor(private readonly o: LaneStateOptions) {}

  get state(): LaneState {
    if (this.paused) return "paused";
    if (this.problems.size > 0) return "out-of-service";
    if (this.verdict) return this.verdict.verdict === "PASS" ? "pass" : "flag";
    return "idle";
  }

  /** Verdicts are accepted only in service; returns false when the lane is paused or out of service. */
  get accepting(): boolean {
    return !this.paused && this.problems.size === 0;
  }

  status(): LaneStatus {
    const s: LaneStatus = { lane: this.o.lane, state: this.state, problems: [...this.problems].sort() };
    if (this.verdict && (s.state === "pass" || s.state === "flag")) {
      s.verdict = this.verdict;
      if (this.until !== undefined) s.until = this.until;
    }
    return s;
  }

  showVerdict(ev: VerdictEvent): void {
    if (!this.accepting) return;
    this.clearTimer();
    this.verdict = ev;
    const hold = ev.verdict === "PASS" ? this.o.passHoldMs : this.o.flagHoldMs;
    this.until = this.o.clock.now() + hold;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.verdict = undefined;
      this.until = undefined;
      this.publish(true);
    }, hold);
    this.publish(true);
  }

  setProblem(problem: LaneProblem, on: boolean): void {
    this.setProblems({ [problem]: on });
  }

  /** Several problems at once, published once: a hand-over (STARTING -> CAMERAS_DOWN) never shows the lane in service in between. */
  setProblems(changes: Partial<Record<LaneProblem, boolean>>): void {
    let raised = false;
    for (const [problem, on] of Object.entries(changes) as Array<[LaneProblem, boolean]>) {
      if (on) {
        raised ||= !this.problems.has(problem);
        this.problems.add(problem);
      } else this.problems.delete(problem);
    }
    if (raised) this.clearVerdict();
    this.publish();
  }

  hasProblem(problem: LaneProblem): boolean {
    return this.problems.has(problem);
  }

  setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (paused) this.clearVerdict();
    this.publish();
  }

  close(): void {
    this.clearTimer();
  }

  private clearVerdict(): void {
    this.clearTimer();
    this.verdict = undefined;
    this.until = undefined;
  }

  private clearTimer(): void {
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Publishes only real changes (a second verdict in a row is a change: new seq). */
  private publish(force = false): void {
    const s = this.status();
    const l = this.last;
    if (!force && l && l.state === s.state && l.problems.join() === s.problems.join() && l.verdict?.id === s.verdict?.id) return;
    this.last = s;
    this.o.onChange(s);
  }
}
