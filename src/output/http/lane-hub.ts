import type { Clock, TimerHandle } from "../../core/clock.js";
import type { LaneStatus, VerdictEvent } from "../../core/types.js";
import type { SseClient } from "./sse.js";
import { HEADLINES, OOS_REASONS } from "./display-text.js";
import { displayVerdict, verdictView, viewKey, type LaneView, type SeenVerdict } from "./lane-view.js";

/** Texts the page needs for states it reaches on its own (TTL expiry, lost heartbeats). */
const UI_TEXTS = { ...HEADLINES, noHeartbeat: OOS_REASONS.NO_HEARTBEAT };

export interface LaneHubOptions {
  clock: Clock;
  heartbeatMs: () => number;
  /** Composes what a lane shows now, given the verdicts the hub saw on the bus that may still be held. */
  compose: (lane: string, seen: readonly SeenVerdict[], endedSeq: number | undefined) => LaneView;
  /** Hold time for a verdict at a lane (passHoldMs / flagHoldMs). */
  holdFor: (ev: VerdictEvent) => number;
}

/**
 * Fans lane state out to display connections. Every client gets the current view on connect;
 * verdicts go out at once with `id:` = lane sequence (a PASS that a held FLAG keeps off the screen
 * too: the page does not paint it); views are re-composed on each status and
 * at every heartbeat tick (so expiry, camera loss and stale trust reach screens even when
 * nothing is published), and sent only when they change.
 */
export class LaneHub {
  private readonly clients = new Map<string, Set<SseClient>>();
  /** Per lane: the last PASS and the last FLAG seen on the bus (a FLAG keeps the screen over a later PASS). */
  private readonly seen = new Map<string, { PASS?: SeenVerdict; FLAG?: SeenVerdict }>();
  private readonly lastKey = new Map<string, string>();
  /** Per lane: the highest verdict sequence number seen, and the one up to which verdicts ended by leaving service. */
  private readonly lastSeq = new Map<string, number>();
  private readonly endedSeq = new Map<string, number>();
  private timer: TimerHandle | undefined;
  /** The interval the pending tick was armed with: the longest a screen may wait for it. */
  private armedMs: number | undefined;
  private stopped = false;

  constructor(private readonly o: LaneHubOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  subscribe(lane: string, client: SseClient): void {
    // Bring existing screens up to date first, so the key recorded below is what everyone has.
    this.refresh(lane);
    let set = this.clients.get(lane);
    if (!set) this.clients.set(lane, (set = new Set()));
    set.add(client);
    client.onClose(() => {
      set.delete(client);
      if (set.size === 0 && this.clients.get(lane) === set) this.clients.delete(lane);
    });
    const view = this.view(lane);
    this.lastKey.set(lane, viewKey(view));
    client.send("state", { ...view, heartbeatMs: this.promisedMs(), serverTime: this.o.clock.now(), ui: UI_TEXTS });
  }

  view(lane: string): LaneView {
    const view = this.o.compose(lane, this.held(lane), this.endedSeq.get(lane));
    // A lane that left service (paused, a camera, trust or clock problem, whether the lane or this
    // server saw it) has ended its verdict, as the lane's state machine does: a PASS from before
    // must not come back when the lane does, for what was left of its hold.
    if (view.state === "out-of-service") {
      this.seen.delete(lane);
      const seq = this.lastSeq.get(lane);
      if (seq !== undefined) this.endedSeq.set(lane, seq);
    }
    return view;
  }

  onVerdict(ev: VerdictEvent): void {
    // Counted on the monotonic clock from when the gateway publishes it (at once after deciding):
    // `at` is wall time, which NTP can step either way.
    const held = { ev, endsMono: this.o.clock.monotonic() + this.o.holdFor(ev) };
    const seen = this.seen.get(ev.lane) ?? {};
    seen[displayVerdict(ev.verdict)] = held;
    this.seen.set(ev.lane, seen);
    this.lastSeq.set(ev.lane, Math.max(ev.seq, this.lastSeq.get(ev.lane) ?? ev.seq));
    // Every verdict goes out, so the stream's ids stay the lane's sequence with no gap (a reader
    // that sees a gap knows it missed one). A PASS behind a held FLAG does not turn the screen
    // green: the page does not paint it over the FLAG, and the view sent next still shows the FLAG
    // (the PASS follows as a lane-status when the FLAG ends, if its own hold is not over by then).
    this.broadcast(ev.lane, "verdict", { lane: ev.lane, ...verdictView(ev, held.endsMono - this.o.clock.monotonic()) }, ev.seq);
    this.refresh(ev.lane);
  }

  /** The lane's seen verdicts whose hold is not over; ended ones are forgotten. */
  private held(lane: string): SeenVerdict[] {
    const seen = this.seen.get(lane);
    if (!seen) return [];
    const now = this.o.clock.monotonic();
    if (seen.PASS && seen.PASS.endsMono <= now) delete seen.PASS;
    if (seen.FLAG && seen.FLAG.endsMono <= now) delete seen.FLAG;
    if (!seen.PASS && !seen.FLAG) this.seen.delete(lane);
    return [seen.PASS, seen.FLAG].filter((s) => s !== undefined);
  }

  onStatus(status: LaneStatus): void {
    this.refresh(status.lane);
  }

  /** Sends the lane's view if it differs from the last one sent. */
  refresh(lane: string): void {
    const view = this.view(lane);
    const key = viewKey(view);
    if (this.lastKey.get(lane) === key) return;
    this.lastKey.set(lane, key);
    this.broadcast(lane, "lane-status", { ...view, heartbeatMs: this.promisedMs() });
  }

  /**
   * The heartbeat interval a screen is told with each event: its watchdog (3.5 of these) counts
   * from that event, and the page adopts whatever the last event said, so a reloaded
   * `display.heartbeatMs` reaches open screens (it used to go out only in `state`, once per
   * connection). Never shorter than the interval the pending tick was armed with: after the
   * interval is lowered, that tick still comes at the old time, and a screen told the new value
   * early would give up on a healthy gateway. The tick itself re-arms first, so it carries the
   * new value.
   */
  private promisedMs(): number {
    return Math.max(this.o.heartbeatMs(), this.armedMs ?? 0);
  }

  clientCount(lane?: string): number {
    if (lane !== undefined) return this.clients.get(lane)?.size ?? 0;
    let n = 0;
    for (const s of this.clients.values()) n += s.size;
    return n;
  }

  /** Lanes the hub holds any state for (streams, last verdict, last view sent). */
  trackedLanes(): string[] {
    return [...new Set([...this.clients.keys(), ...this.seen.keys(), ...this.lastKey.keys(), ...this.lastSeq.keys()])];
  }

  tick(): void {
    const t = this.o.clock.now();
    for (const lane of [...this.clients.keys()]) {
      this.refresh(lane);
      this.broadcast(lane, "heartbeat", { t, heartbeatMs: this.promisedMs() });
    }
  }

  /** Ends every stream, telling displays first that the gateway is going away. */
  close(finalView?: (lane: string) => LaneView): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedMs = undefined;
    for (const [lane, set] of this.clients) {
      for (const c of [...set]) {
        if (finalView) c.send("lane-status", finalView(lane));
        c.end();
      }
    }
    this.clients.clear();
  }

  private broadcast(lane: string, event: string, data: unknown, id?: number): void {
    for (const c of [...(this.clients.get(lane) ?? [])]) c.send(event, data, id);
  }

  /**
   * After a reload: a lowered interval takes effect now instead of after the tick armed at the old
   * one (a frozen gateway was noticed on the old timing meanwhile). Screens were promised the old,
   * longer interval, so an earlier tick is safe. A raised one waits for the armed tick: screens must
   * hear within the interval they were last promised.
   */
  heartbeatChanged(): void {
    if (this.stopped || this.timer === undefined || this.armedMs === undefined) return;
    if (this.o.heartbeatMs() >= this.armedMs) return;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const ms = this.o.heartbeatMs();
    this.armedMs = ms;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      // Rescheduled first: a throwing tick is recorded by the guarded clock and the heartbeat goes on
      // (and the tick tells screens the interval it has just been armed with).
      this.schedule();
      this.tick();
    }, ms, "http.lane-hub.tick");
  }
}
