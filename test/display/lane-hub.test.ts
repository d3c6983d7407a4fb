import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import type { LaneStatus, VerdictEvent } from "../../src/core/types.js";
import { LaneStateMachine } from "../../src/lane/state.js";
import { LaneHub } from "../../src/output/http/lane-hub.js";
import { holdMs, laneView } from "../../src/output/http/lane-view.js";

const lane = { id: "A", passHoldMs: 4000, flagHoldMs: 8000 };

/** A lane's state machine and the display hub wired as the gateway wires them, with one display connected. */
function rig() {
  const clock = new FakeClock();
  let status: LaneStatus | undefined;
  let overlay: string[] = [];
  const hub = new LaneHub({
    clock,
    heartbeatMs: () => 2000,
    holdFor: (ev) => holdMs(lane, ev.verdict),
    compose: (_id, seen, endedSeq) => laneView({ lane, defaultLang: "en", status, seen, overlay, nowMono: clock.monotonic(), ...(endedSeq !== undefined ? { endedSeq } : {}) }),
  });
  const sm = new LaneStateMachine({
    ...lane,
    lane: "A",
    clock,
    onChange: (s) => {
      status = s;
      hub.onStatus(s);
    },
  });
  // The state of each full view the display was sent, in order; and every event, with the verdict it carried.
  const shown: string[] = [];
  const events: string[] = [];
  /** Connects a display; returns the state its `state` event said. */
  const connect = (): { state: string } => {
    let first = "";
    hub.subscribe("A", {
      send: (e: string, d: unknown) => {
        const v = d as { state?: string; verdict?: unknown; reason?: string };
        if (e === "state" || e === "lane-status") {
          shown.push(v.state!);
          first ||= v.state!;
        }
        if (e === "verdict") events.push(`verdict ${String(v.verdict)} ${v.reason}`);
        else if (e !== "heartbeat") events.push(`${e} ${v.state}`);
        return true;
      },
      onClose() {},
      end() {},
    } as never);
    return { state: first };
  };
  connect();
  sm.setProblem("STARTING", false);
  let seq = 0;
  /** A verdict as the lane publishes it: on the bus (the hub) first, then its state machine. */
  const verdict = (kind: "PASS" | "FLAG", reason = kind === "PASS" ? "OK" : "EXPIRED"): void => {
    seq++;
    const ev: VerdictEvent = { id: `g:A:${seq}`, gatewayId: "g", lane: "A", cameraId: "c", seq, at: clock.now(), frameToVerdictMs: 1, firstSeenToVerdictMs: 1, payloadHash: "h", verdict: kind, reason, format: "pass" };
    hub.onVerdict(ev);
    sm.showVerdict(ev);
  };
  const pass = (): void => verdict("PASS");
  return { clock, hub, sm, pass, verdict, shown, events, connect, setOverlay: (o: string[]) => (overlay = o) };
}

/** The hub alone, with a lane status that never changes (a status that lags, or a lane that never said): what it saw on the bus is all it has. */
function hubOnly() {
  const clock = new FakeClock();
  const status: LaneStatus = { lane: "A", state: "idle", problems: [] };
  const hub = new LaneHub({
    clock,
    heartbeatMs: () => 2000,
    holdFor: (ev) => holdMs(lane, ev.verdict),
    compose: (_id, seen, endedSeq) => laneView({ lane, defaultLang: "en", status, seen, overlay: [], nowMono: clock.monotonic(), ...(endedSeq !== undefined ? { endedSeq } : {}) }),
  });
  let seq = 0;
  const verdict = (kind: "PASS" | "FLAG"): void => {
    seq++;
    hub.onVerdict({ id: `g:A:${seq}`, gatewayId: "g", lane: "A", cameraId: "c", seq, at: clock.now(), frameToVerdictMs: 1, firstSeenToVerdictMs: 1, payloadHash: "h", verdict: kind, reason: kind === "PASS" ? "OK" : "EXPIRED", format: "pass" });
  };
  /** What a display connecting now is told first. */
  const connect = (): { state: string; ttl?: number } => {
    let first: { state: string; verdict?: { ttl: number } } | undefined;
    hub.subscribe("A", { send: (e: string, d: unknown) => ((first ??= e === "state" ? (d as typeof first) : undefined), true), onClose() {}, end() {} } as never);
    return { state: first!.state, ...(first!.verdict ? { ttl: first!.verdict.ttl } : {}) };
  };
  return { clock, hub, verdict, connect };
}

describe("LaneHub: holds are counted on the monotonic clock (NTP may step the wall clock)", () => {
  for (const [name, mk] of [["the hub alone", hubOnly], ["the hub with the lane's status", rig]] as const) {
    it(`${name}: a wall clock stepped back an hour does not keep an old PASS; a new screen then connects idle`, () => {
      const r = mk();
      r.verdict("PASS");
      r.clock.setWall(r.clock.now() - 3_600_000);
      r.clock.advance(3999);
      expect(r.hub.view("A").state).toBe("pass");
      r.clock.advance(1);
      expect(r.hub.view("A").state).toBe("idle");
      r.clock.advance(30 * 60_000);
      expect(r.hub.view("A").state).toBe("idle");
      expect(r.connect()).toMatchObject({ state: "idle" });
    });

    it(`${name}: a wall clock stepped forward an hour keeps a FLAG for its whole hold`, () => {
      const r = mk();
      r.verdict("FLAG");
      r.clock.setWall(r.clock.now() + 3_600_000);
      r.clock.advance(1000);
      expect(r.hub.view("A")).toMatchObject({ state: "flag", verdict: { ttl: 7000 } });
      expect(r.connect()).toMatchObject({ state: "flag" });
      r.clock.advance(6999);
      expect(r.hub.view("A").state).toBe("flag");
      r.clock.advance(1);
      expect(r.hub.view("A").state).toBe("idle");
    });
  }
});

describe("LaneHub: a FLAG keeps the screen for its hold", () => {
  for (const [name, mk] of [["the hub alone", hubOnly], ["the hub with the lane's status", rig]] as const) {
    it(`${name}: FLAG then a PASS 300 ms later: the screen stays FLAG, then idle (the PASS's hold is over first)`, () => {
      const r = mk();
      r.verdict("FLAG");
      r.clock.advance(300);
      r.verdict("PASS");
      expect(r.hub.view("A")).toMatchObject({ state: "flag", verdict: { reason: "EXPIRED" } });
      expect(r.connect()).toMatchObject({ state: "flag" });
      r.clock.advance(7699);
      expect(r.hub.view("A").state).toBe("flag");
      r.clock.advance(1);
      expect(r.hub.view("A").state).toBe("idle");
    });

    it(`${name}: a PASS whose hold outlasts the FLAG is shown when the FLAG ends, for what is left`, () => {
      const r = mk();
      r.verdict("FLAG");
      r.clock.advance(5000);
      r.verdict("PASS");
      r.clock.advance(2999);
      expect(r.hub.view("A").state).toBe("flag");
      r.clock.advance(1);
      expect(r.hub.view("A")).toMatchObject({ state: "pass", verdict: { reason: "OK", ttl: 1000 } });
      r.clock.advance(1000);
      expect(r.hub.view("A").state).toBe("idle");
    });
  }

  it("the PASS behind a held FLAG is sent as its verdict event (ids without gaps) but the views keep the FLAG; it shows as a lane-status when the FLAG ends", () => {
    const r = rig();
    r.verdict("FLAG");
    r.clock.advance(5000);
    r.verdict("PASS");
    r.clock.advance(3000);
    r.clock.advance(1000);
    expect(r.events).toEqual(["state out-of-service", "lane-status idle", "verdict FLAG EXPIRED", "lane-status flag", "verdict PASS OK", "lane-status pass", "lane-status idle"]);
  });
});

describe("LaneHub: a verdict ends when its lane leaves service", () => {
  it("a PASS does not come back on screen after a pause and resume within its hold", () => {
    const r = rig();
    r.pass();
    expect(r.hub.view("A").state).toBe("pass");
    r.clock.advance(1000);
    r.sm.setPaused(true);
    expect(r.hub.view("A").state).toBe("out-of-service");
    r.clock.advance(500);
    r.sm.setPaused(false);
    expect([r.sm.state, r.hub.view("A").state]).toEqual(["idle", "idle"]);
    expect(r.shown.at(-1)).toBe("idle");
  });

  it("nor after a camera blip", () => {
    const r = rig();
    r.pass();
    r.sm.setProblem("CAMERAS_DOWN", true);
    r.clock.advance(200);
    r.sm.setProblem("CAMERAS_DOWN", false);
    expect(r.hub.view("A").state).toBe("idle");
    expect(r.shown).toEqual(["out-of-service", "idle", "pass", "out-of-service", "idle"]);
  });

  it("nor after a problem only this server saw (trust stale before the lane's health check said so)", () => {
    const r = rig();
    r.pass();
    r.clock.advance(500);
    r.setOverlay(["TRUST_STALE"]);
    r.hub.tick();
    expect(r.shown.at(-1)).toBe("out-of-service");
    r.setOverlay([]);
    r.clock.advance(500);
    r.hub.tick();
    // The lane's own status still holds the PASS (its hold has 3 s left); the screen does not.
    expect(r.sm.state).toBe("pass");
    expect([r.hub.view("A").state, r.shown.at(-1)]).toEqual(["idle", "idle"]);
    // A new verdict after the lane is back is shown as usual.
    r.pass();
    expect([r.hub.view("A").state, r.shown.at(-1)]).toEqual(["pass", "pass"]);
  });
});

describe("LaneHub: a reloaded display.heartbeatMs reaches open screens", () => {
  /** One event a display was sent: when (ms since the hub started) and the heartbeat interval it carried. */
  type Sent = { event: string; at: number; heartbeatMs: unknown };

  /** A hub whose heartbeat interval can be changed as a config reload does, with one display recording what it was sent. */
  function reloadRig() {
    const clock = new FakeClock();
    let heartbeatMs = 2000;
    let status: LaneStatus = { lane: "A", state: "idle", problems: [] };
    const hub = new LaneHub({
      clock,
      heartbeatMs: () => heartbeatMs,
      holdFor: (ev) => holdMs(lane, ev.verdict),
      compose: (_id, seen, endedSeq) => laneView({ lane, defaultLang: "en", status, seen, overlay: [], nowMono: clock.monotonic(), ...(endedSeq !== undefined ? { endedSeq } : {}) }),
    });
    /** Connects a display; returns what it is sent. */
    const connect = () => {
      const sent: Sent[] = [];
      hub.subscribe("A", {
        send: (event: string, d: unknown) => {
          sent.push({ event, at: clock.now() - Date.UTC(2026, 0, 1), heartbeatMs: (d as { heartbeatMs?: unknown }).heartbeatMs });
          return true;
        },
        onClose() {},
        end() {},
      } as never);
      return sent;
    };
    const sent = connect();
    hub.start();
    return {
      clock, hub, sent, connect,
      reload: (ms: number) => (heartbeatMs = ms),
      setStatus: (s: LaneStatus["state"]) => hub.onStatus((status = { lane: "A", state: s, problems: [] })),
      beats: (of = sent) => of.filter((s) => s.event === "heartbeat").map((s) => [s.at, s.heartbeatMs]),
    };
  }

  /** What lane.js does: after each event, the next must come within 3.5 times the interval that event (or an earlier one) carried. */
  function pageWouldGiveUp(sent: Sent[]): string[] {
    const late: string[] = [];
    let ms = 0;
    for (let i = 0; i + 1 < sent.length; i++) {
      const hb = sent[i]!.heartbeatMs;
      if (typeof hb === "number") ms = hb;
      const gap = sent[i + 1]!.at - sent[i]!.at;
      if (gap > ms * 3.5) late.push(`${sent[i]!.event} then ${gap} ms of silence, told ${ms} ms`);
    }
    return late;
  }

  it("every heartbeat carries the interval; a raised one from the next tick on", () => {
    const r = reloadRig();
    r.clock.advance(4000);
    r.reload(10_000);
    // The tick armed at 2 s still comes at 6 s; it is armed again at 10 s and says so.
    r.clock.advance(2000);
    r.clock.advance(20_000);
    expect(r.beats()).toEqual([[2000, 2000], [4000, 2000], [6000, 10_000], [16_000, 10_000], [26_000, 10_000]]);
    expect(r.sent[0]).toMatchObject({ event: "state", heartbeatMs: 2000 });
    expect(pageWouldGiveUp(r.sent)).toEqual([]);
  });

  it("a lowered one told to the hub (as a reload does) is used from the next tick at the new interval, and no screen gives up", () => {
    const r = reloadRig();
    r.reload(10_000);
    r.clock.advance(2000); // the 2 s tick arms 10 s
    r.clock.advance(1000);
    r.reload(2000);
    r.hub.heartbeatChanged();
    r.clock.advance(6000);
    // Without it the next beat would come at 12 s; now at 5 s, 7 s, 9 s.
    expect(r.beats()).toEqual([[2000, 10_000], [5000, 2000], [7000, 2000], [9000, 2000]]);
    expect(pageWouldGiveUp(r.sent)).toEqual([]);
    // A raised one is not rushed: the tick armed at 2 s still comes, then the new interval.
    r.reload(10_000);
    r.hub.heartbeatChanged();
    r.clock.advance(12_000);
    expect(r.beats().slice(4)).toEqual([[11_000, 10_000], [21_000, 10_000]]);
    expect(pageWouldGiveUp(r.sent)).toEqual([]);
  });

  it("a lowered one is promised only once the tick armed at the old one has come; status and new connections never promise sooner", () => {
    const r = reloadRig();
    r.reload(10_000);
    r.clock.advance(2000); // the 2 s tick arms 10 s
    r.clock.advance(1000);
    r.reload(2000);
    // Before the tick armed at 10 s comes (at 12 s), nothing may tell a screen 2 s.
    r.setStatus("paused");
    const later = r.connect();
    r.setStatus("idle");
    expect(r.sent.filter((s) => s.event !== "heartbeat" && s.at === 3000).map((s) => [s.event, s.heartbeatMs])).toEqual([
      ["lane-status", 10_000],
      ["lane-status", 10_000],
    ]);
    expect(later.map((s) => [s.event, s.heartbeatMs])).toEqual([
      ["state", 10_000],
      ["lane-status", 10_000],
    ]);
    r.clock.advance(9000);
    r.clock.advance(4000);
    for (const screen of [r.sent, later]) {
      expect(r.beats(screen).filter(([at]) => (at as number) >= 3000)).toEqual([[12_000, 2000], [14_000, 2000], [16_000, 2000]]);
      expect(pageWouldGiveUp(screen)).toEqual([]);
    }
  });
});
