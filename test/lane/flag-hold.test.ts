/**
 * A FLAG keeps the screen for its hold: a PASS decided meanwhile is published at once, but the
 * lane shows it only when the FLAG ends, for what is left of its own hold.
 */
import { describe, expect, it } from "vitest";
import { LaneHub } from "../../src/output/http/lane-hub.js";
import { holdMs, laneView } from "../../src/output/http/lane-view.js";
import { rig, result } from "./helpers.js";

/** Lane state every 100 ms for `ms`, as runs: [state, ms it lasted]. */
function watch(r: ReturnType<typeof rig>, lane: string, ms: number): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (let t = 0; t < ms; t += 100) {
    const s = r.lanes.get(lane)!.status().state;
    const last = out.at(-1);
    if (last && last[0] === s) last[1] += 100;
    else out.push([s, 100]);
    r.clock.advance(100);
  }
  return out;
}

describe("lane: a FLAG keeps the screen for its hold", () => {
  it("[EXPIRED, VALID] in one frame: both published at once, the screen is FLAG for flagHoldMs, then nothing (the PASS's hold is over)", async () => {
    const r = rig();
    const l = r.lane("A", ["a1"], { passHoldMs: 3000, flagHoldMs: 5000 });
    await l.onDecode(result("a1", 1, r.clock.monotonic(), ["EXPIRED:eve", "VALID:alice"]));
    expect(r.verdicts.map((v) => `${v.verdict} ${v.reason}`).sort()).toEqual(["FLAG EXPIRED", "PASS OK"]);
    expect(l.status()).toMatchObject({ state: "flag", verdict: { reason: "EXPIRED" }, untilMono: 5000 });
    expect(watch(r, "A", 7000)).toEqual([["flag", 5000], ["idle", 2000]]);
    // Never green in between: no status ever said pass.
    expect(r.statuses.map((s) => s.state)).toEqual(["out-of-service", "idle", "flag", "idle"]);
  });

  it("the same with the VALID code read first", async () => {
    const r = rig();
    const l = r.lane("A", ["a1"], { passHoldMs: 3000, flagHoldMs: 5000 });
    await l.onDecode(result("a1", 1, r.clock.monotonic(), ["VALID:bob", "EXPIRED:mallory"]));
    expect(watch(r, "A", 6000)).toEqual([["flag", 5000], ["idle", 1000]]);
  });

  it("a PASS whose hold outlasts the FLAG is shown for what is left of it", async () => {
    const r = rig();
    const l = r.lane("A", ["a1"], { passHoldMs: 8000, flagHoldMs: 5000 });
    await l.onDecode(result("a1", 1, r.clock.monotonic(), ["EXPIRED:eve", "VALID:alice"]));
    expect(watch(r, "A", 9000)).toEqual([["flag", 5000], ["pass", 3000], ["idle", 1000]]);
    expect(r.statuses.filter((s) => s.state === "pass").map((s) => [s.verdict?.reason, s.untilMono])).toEqual([["OK", 8000]]);
  });

  it("FLAG, then the next traveller's PASS 300 ms later: the FLAG stays", async () => {
    const r = rig();
    const l = r.lane("A", ["a1"], { passHoldMs: 3000, flagHoldMs: 5000 });
    await l.onDecode(result("a1", 1, r.clock.monotonic(), ["REVOKED:trudy"]));
    r.clock.advance(300);
    await l.onDecode(result("a1", 2, r.clock.monotonic(), ["VALID:carol"]));
    expect(r.verdicts.map((v) => v.reason)).toEqual(["REVOKED", "OK"]);
    expect(l.status()).toMatchObject({ state: "flag", verdict: { reason: "REVOKED" } });
    expect(watch(r, "A", 5000)).toEqual([["flag", 4700], ["idle", 300]]);
  });

  it("a FLAG still replaces a PASS at once; a newer FLAG replaces a FLAG", async () => {
    const r = rig();
    const l = r.lane("A", ["a1"], { passHoldMs: 3000, flagHoldMs: 5000 });
    await l.onDecode(result("a1", 1, r.clock.monotonic(), ["VALID:carol"]));
    r.clock.advance(500);
    await l.onDecode(result("a1", 2, r.clock.monotonic(), ["EXPIRED:eve"]));
    expect(l.status()).toMatchObject({ state: "flag", verdict: { reason: "EXPIRED" } });
    r.clock.advance(1000);
    await l.onDecode(result("a1", 3, r.clock.monotonic(), ["TAMPERED:tom"]));
    expect(l.status()).toMatchObject({ state: "flag", verdict: { reason: "TAMPERED" } });
    expect(watch(r, "A", 6000)).toEqual([["flag", 5000], ["idle", 1000]]);
  });

  it("the hold is counted on the monotonic clock: a wall clock step changes nothing, `until` follows the wall clock", async () => {
    const r = rig();
    const l = r.lane("A", ["a1"], { passHoldMs: 3000, flagHoldMs: 5000 });
    await l.onDecode(result("a1", 1, r.clock.monotonic(), ["EXPIRED:eve"]));
    r.clock.setWall(r.clock.now() + 3_600_000);
    expect(l.status()).toMatchObject({ state: "flag", until: r.clock.now() + 5000 });
    expect(watch(r, "A", 6000)).toEqual([["flag", 5000], ["idle", 1000]]);
  });

  it("out of service clears a FLAG and the PASS waiting behind it", async () => {
    const r = rig();
    const l = r.lane("A", ["a1"], { passHoldMs: 8000, flagHoldMs: 5000 });
    await l.onDecode(result("a1", 1, r.clock.monotonic(), ["EXPIRED:eve", "VALID:alice"]));
    l.setProblem("TRUST_STALE", true);
    l.setProblem("TRUST_STALE", false);
    expect(watch(r, "A", 9000)).toEqual([["idle", 9000]]);
  });

  it("the display hub wired to the lane (bus and status) shows the same: FLAG for flagHoldMs, then the PASS only while its own hold lasts", async () => {
    for (const [passHoldMs, after] of [[3000, "idle"], [8000, "pass"]] as const) {
      const r = rig();
      const cfg = { id: "A", passHoldMs, flagHoldMs: 5000 };
      const l = r.lane("A", ["a1"], cfg);
      const hub = new LaneHub({
        clock: r.clock,
        heartbeatMs: () => 2000,
        holdFor: (ev) => holdMs(cfg, ev.verdict),
        compose: (_id, seen, endedSeq) => laneView({ lane: cfg, defaultLang: "en", status: l.status(), seen, overlay: [], nowMono: r.clock.monotonic(), ...(endedSeq !== undefined ? { endedSeq } : {}) }),
      });
      const sent: string[] = [];
      hub.subscribe("A", { send: (e: string, d: { state?: string; verdict?: string }) => (sent.push(e === "verdict" ? `verdict ${d.verdict}` : `${e} ${d.state}`), true), onClose() {}, end() {} } as never);
      r.bus.on("verdict", (ev) => hub.onVerdict(ev));
      r.bus.on("lane-status", (st) => hub.onStatus(st));
      await l.onDecode(result("a1", 1, r.clock.monotonic(), ["EXPIRED:eve", "VALID:alice"]));
      expect(hub.view("A").state).toBe("flag");
      r.clock.advance(4999);
      expect(hub.view("A").state).toBe("flag");
      r.clock.advance(1);
      expect(hub.view("A").state).toBe(after);
      // Both verdicts are on the stream (ids without gaps); no view showed the PASS while the FLAG held.
      expect(sent.filter((e) => e.startsWith("verdict"))).toEqual(["verdict FLAG", "verdict PASS"]);
      expect(sent.slice(0, sent.lastIndexOf("lane-status flag") + 1)).not.toContain("lane-status pass");
    }
  });
});
