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

/** A verdict on (or waiting for) the screen, and when its hold ends on the monotonic clock. */
interface Held {
  ev: VerdictEvent;
  endsMono: number;
}

/**
 * idle -> pass|flag (held passHoldMs|flagHoldMs, then idle); any problem -> out-of-service;
 * pause -> paused. Out-of-service and paused take precedence and clear any verdict on screen:
 * a lane that cannot see or cannot trust must never keep showing green.
 *
 * A FLAG keeps the screen for its hold: the screen shows the newest FLAG still held, else the
 * newest PASS still held. A PASS decided meanwhile (the next traveller, or a second code in the
 * same frame) is published at once but shown only when the FLAG ends, for what is left of its own
 * hold: a flagged traveller must never stand in front of a green screen. Holds are counted on the
 * monotonic clock; `until` (wall time) is information only.
 */
export class LaneStateMachine {
  private problems = new Set<LaneProblem>();
  private paused = false;
  private held: { pass?: Held; flag?: Held } = {};
  private timer: TimerHandle | undefined;
  private last: LaneStatus | undefined;

  constructor(private readonly o: LaneStateOptions) {}

  get state(): LaneState {
    if (this.paused) return "paused";
    if (this.problems.size > 0) return "out-of-service";
    if (this.held.flag) return "flag";
    return this.held.pass ? "pass" : "idle";
  }

  /** Verdicts are accepted only in service; returns false when the lane is paused or out of service. */
  get accepting(): boolean {
    return !this.paused && this.problems.size === 0;
  }

  status(): LaneStatus {
    const s: LaneStatus = { lane: this.o.lane, state: this.state, problems: [...this.problems].sort() };
    const shown = this.shown();
    if (shown && (s.state === "pass" || s.state === "flag")) {
      s.verdict = shown.ev;
      s.untilMono = shown.endsMono;
      s.until = this.o.clock.now() + (shown.endsMono - this.o.clock.monotonic());
    }
    return s;
  }

  showVerdict(ev: VerdictEvent): void {
    if (!this.accepting) return;
    const pass = ev.verdict === "PASS";
    const held: Held = { ev, endsMono: this.o.clock.monotonic() + (pass ? this.o.passHoldMs : this.o.flagHoldMs) };
    if (pass) this.held.pass = held;
    else this.held.flag = held;
    this.arm();
    this.publish();
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

  private shown(): Held | undefined {
    return this.held.flag ?? this.held.pass;
  }

  /** One timer, for the end of what is on screen; a PASS waiting behind a FLAG is looked at then. */
  private arm(): void {
    this.clearTimer();
    const shown = this.shown();
    if (!shown) return;
    this.timer = this.o.clock.setTimeout(
      () => {
        this.timer = undefined;
        // The verdict this timer was armed for ends now, whatever the clock reads (a timer may fire a hair early).
        if (this.held.flag === shown) this.held.flag = undefined;
        else if (this.held.pass === shown) this.held.pass = undefined;
        const now = this.o.clock.monotonic();
        if (this.held.pass && this.held.pass.endsMono <= now) this.held.pass = undefined;
        if (this.held.flag && this.held.flag.endsMono <= now) this.held.flag = undefined;
        this.arm();
        this.publish();
      },
      shown.endsMono - this.o.clock.monotonic(),
      "lane.hold",
    );
  }

  private clearVerdict(): void {
    this.clearTimer();
    this.held = {};
  }

  private clearTimer(): void {
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Publishes only real changes (a second verdict in a row is a change: new seq; a PASS waiting behind a FLAG is not). */
  private publish(): void {
    const s = this.status();
    const l = this.last;
    if (l && l.state === s.state && l.problems.join() === s.problems.join() && l.verdict?.id === s.verdict?.id) return;
    this.last = s;
    this.o.onChange(s);
  }
}
