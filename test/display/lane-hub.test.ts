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
    compose: (_id, lastSeen, endedSeq) => laneView({ lane, defaultLang: "en", status, lastSeen, overlay, now: clock.now(), ...(endedSeq !== undefined ? { endedSeq } : {}) }),
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
  // The state of each full view the display was sent, in order.
  const shown: string[] = [];
  hub.subscribe("A", {
    send: (e: string, d: unknown) => {
      if (e === "state" || e === "lane-status") shown.push((d as { state: string }).state);
      return true;
    },
    onClose() {},
    end() {},
  } as never);
  sm.setProblem("STARTING", false);
  let seq = 0;
  const pass = (): void => {
    seq++;
    const ev: VerdictEvent = { id: `g:A:${seq}`, gatewayId: "g", lane: "A", cameraId: "c", seq, at: clock.now(), frameToVerdictMs: 1, firstSeenToVerdictMs: 1, payloadHash: "h", verdict: "PASS", reason: "OK", format: "pass" };
    sm.showVerdict(ev);
    hub.onVerdict(ev);
  };
  return { clock, hub, sm, pass, shown, setOverlay: (o: string[]) => (overlay = o) };
}

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
