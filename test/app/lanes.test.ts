import { describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { GatewayBus } from "../../src/core/bus.js";
import { FakeClock } from "../../src/core/clock.js";
import { silentLogger } from "../../src/core/logger.js";
import { parseConfig } from "../../src/config/load.js";
import { LocalReplayGuard, MemorySeqStore } from "../../src/lane/index.js";
import { createLaneSet, laneChanges, laneStartupGraceMs, openReplayGuard } from "../../src/app/lanes.js";
import { LanePauses } from "../../src/app/pauses.js";
import { LaneProblemRouter } from "../../src/app/lane-problems.js";
import { SYNTHETIC } from "../support/gateway.js";
import { result } from "../lane/helpers.js";

const config = (lanes: Array<Record<string, unknown>>, cameras: Array<[string, string]>) =>
  parseConfig({
    gateway: { id: "gw-lanes", stateDir: "/nonexistent/state" },
    lanes,
    cameras: cameras.map(([id, lane]) => ({ id, lane, ...SYNTHETIC, width: 320, height: 240, fps: 5 })),
  });

describe("laneChanges (which lanes a reload touches)", () => {
  const prev = config([{ id: "A" }, { id: "B" }, { id: "C" }, { id: "D" }], [["c1", "A"], ["c2", "B"], ["c3", "C"], ["c4", "D"]]);

  it("keeps unchanged lanes, rebuilds a lane whose config or camera set changed, removes and adds", () => {
    const next = config([{ id: "A" }, { id: "B", leaveMs: 4000 }, { id: "C" }, { id: "E" }], [["c1", "A"], ["c2", "B"], ["c3", "C"], ["c5", "C"], ["c6", "E"]]);
    expect(laneChanges(["A", "B", "C", "D"], prev, next)).toEqual({ added: ["E"], removed: ["D"], changed: ["B", "C"] });
  });

  it("reports in the order the lanes run, and nothing for an identical config", () => {
    const next = config([{ id: "D", leaveMs: 4000 }, { id: "A", leaveMs: 4000 }], [["c1", "A"], ["c4", "D"]]);
    expect(laneChanges(["D", "B", "A", "C"], prev, next)).toEqual({ added: [], removed: ["B", "C"], changed: ["D", "A"] });
    expect(laneChanges(["A", "B", "C", "D"], prev, prev)).toEqual({ added: [], removed: [], changed: [] });
  });

  it("a camera that only changes its own settings does not rebuild its lane", () => {
    const next = parseConfig({ ...prev, cameras: prev.cameras.map((c) => (c.id === "c1" ? { ...c, fps: 10 } : c)) });
    expect(laneChanges(["A", "B", "C", "D"], prev, next).changed).toEqual([]);
  });
});

describe("the lane set", () => {
  const build = (cfg = config([{ id: "A" }, { id: "B" }], [["c1", "A"], ["c2", "B"]]), pausedAtStart: string[] = []) => {
    const clock = new FakeClock();
    const saved: string[][] = [];
    const pauses = new LanePauses({ load: () => ({ paused: pausedAtStart }), save: (p) => void saved.push([...p]) }, silentLogger);
    const problems = new LaneProblemRouter(silentLogger);
    const set = createLaneSet(cfg, {
      bus: new GatewayBus(),
      clock,
      logger: silentLogger,
      salt: "test-salt",
      replay: new LocalReplayGuard(clock, 60_000),
      seq: new MemorySeqStore(),
      verify: () => {
        throw new Error("not used");
      },
      pauses,
      problems,
    });
    return { cfg, set, saved, problems, clock };
  };

  it("a new lane is STARTING for twice its cameras' longest first-frame grace (ingest startupGraceMs), then CAMERAS_DOWN", () => {
    const cfg = parseConfig({
      gateway: { id: "gw-lanes", stateDir: "/nonexistent/state" },
      lanes: [{ id: "A" }, { id: "B" }],
      cameras: [
        { id: "c1", lane: "A", ...SYNTHETIC, startupGraceMs: 4000 },
        { id: "c2", lane: "A", ...SYNTHETIC, startupGraceMs: 6000 },
      ],
    });
    expect([laneStartupGraceMs(cfg, "A"), laneStartupGraceMs(cfg, "B")]).toEqual([12_000, 0]);
    const { set, clock } = build(cfg);
    expect([set.get("A").status().problems, set.get("B").status().problems]).toEqual([["STARTING"], ["CAMERAS_DOWN"]]);
    clock.advance(11_999);
    expect(set.get("A").status().problems).toEqual(["STARTING"]);
    clock.advance(1);
    expect(set.get("A").status().problems).toEqual(["CAMERAS_DOWN"]);
  });

  it("starts lanes paused before a restart paused; an unknown lane is GW_LANE_UNKNOWN and pauses nothing", () => {
    const { set, saved } = build(undefined, ["B"]);
    expect([...set.lanes.keys()]).toEqual(["A", "B"]);
    expect(set.get("B").status().state).toBe("paused");
    expect(set.get("A").status().state).not.toBe("paused");
    set.setPaused("A", true);
    expect(set.get("A").status().state).toBe("paused");
    expect(saved).toEqual([["B", "A"]]);
    expect(() => set.setPaused("Z", true)).toThrow(expect.objectContaining({ code: "GW_LANE_UNKNOWN" }));
    expect(saved).toHaveLength(1);
  });

  it("apply keeps unchanged lanes, takes rebuilt and removed ones out of service, and gives new lanes the raised problems", async () => {
    const { cfg, set, saved, problems } = build(undefined, ["A", "B"]);
    const [a0, b0] = [set.get("A"), set.get("B")];
    problems.handle({ problem: "EVENTS_SEQ_ERROR", on: true }, set.lanes.values());
    const next = config([{ id: "A", leaveMs: 4000 }, { id: "C" }], [["c1", "A"], ["c3", "C"]]);
    expect(await set.apply(cfg, next)).toEqual({ added: ["C"], removed: ["B"], changed: ["A"] });
    expect([...set.lanes.keys()]).toEqual(["A", "C"]);
    expect(set.get("A")).not.toBe(a0);
    expect(set.get("A").leaveMs).toBe(4000);
    expect(a0.hasProblem("SHUTTING_DOWN") && b0.hasProblem("SHUTTING_DOWN")).toBe(true);
    // The rebuilt lane stays paused; the removed lane's pause is forgotten.
    expect(set.get("A").status().state).toBe("paused");
    expect(saved.at(-1)).toEqual(["A"]);
    expect(set.get("C").hasProblem("EVENTS_SEQ_ERROR")).toBe(true);
    const c = set.get("C");
    expect(await set.apply(next, next)).toEqual({ added: [], removed: [], changed: [] });
    expect(set.get("C")).toBe(c);
  });
});

describe("a code held through a reload that rebuilds its lane", () => {
  /** A lane set on the lane test verifier ("VALID:x" passes), with the verdicts it publishes. */
  const held = async (next: (base: Array<Record<string, unknown>>) => [Array<Record<string, unknown>>, Array<[string, string]>]) => {
    const cfg = config([{ id: "A" }], [["c1", "A"]]);
    const clock = new FakeClock();
    const bus = new GatewayBus();
    const verdicts: string[] = [];
    bus.on("verdict", (v) => verdicts.push(`${v.verdict} ${v.reason}`));
    const set = createLaneSet(cfg, {
      bus, clock, logger: silentLogger, salt: "test-salt",
      replay: new LocalReplayGuard(clock, 600_000),
      seq: new MemorySeqStore(),
      verify: (text) => (text.startsWith("VALID:") ? { verdict: "PASS", reason: "OK", format: "pass", credentialHash: text } : { verdict: "FLAG", reason: "EXPIRED", format: "pass" }),
      pauses: new LanePauses({ load: () => ({ paused: [] }), save() {} }, silentLogger),
      problems: new LaneProblemRouter(silentLogger),
    });
    let n = 0;
    /** What the gateway does after a reload: a rebuilt lane learns the running cameras' state. */
    const camerasUp = () => ["c1", "c2"].forEach((c) => set.get("A").setCameraUp(c, true));
    const show = async (codes: string[], ms: number) => {
      for (let t = 0; t < ms; t += 66) {
        await set.get("A").onDecode(result("c1", ++n, clock.monotonic(), codes));
        clock.advance(66);
      }
    };
    camerasUp();
    await show(["VALID:alice", "EXPIRED:eve"], 700);
    const [lanes, cams] = next([{ id: "A" }]);
    const before = set.get("A");
    expect((await set.apply(cfg, config(lanes, cams))).changed).toEqual(["A"]);
    expect(set.get("A")).not.toBe(before);
    camerasUp();
    await show(["VALID:alice", "EXPIRED:eve"], 700);
    return { verdicts, lane: set.get("A") };
  };

  it("its settings changed: still one presentation each, one verdict each (no second FLAG REPLAYED)", async () => {
    const { verdicts, lane } = await held(() => [[{ id: "A", flagHoldMs: 10_000 }], [["c1", "A"]]]);
    expect(verdicts.sort()).toEqual(["FLAG EXPIRED", "PASS OK"]);
    expect(lane.codesInView()).toBe("decided");
  });

  it("its leaveMs or its cameras changed: the same (the traveller in front of the lane is the same)", async () => {
    expect((await held(() => [[{ id: "A", leaveMs: 4000 }], [["c1", "A"]]])).verdicts.sort()).toEqual(["FLAG EXPIRED", "PASS OK"]);
    expect((await held(() => [[{ id: "A" }], [["c1", "A"], ["c2", "A"]]])).verdicts.sort()).toEqual(["FLAG EXPIRED", "PASS OK"]);
  });
});

describe("the shared replay guard on a reload of display.replayWindowS (setWindowMs)", () => {
  it("claims it holds get the new window counted from their first use; claims already over stay over; 0 holds none", async () => {
    const clock = new FakeClock();
    const guard = openReplayGuard(60_000, clock, silentLogger);
    expect(await guard.claim("h1", "A")).toEqual({ replayed: false });
    clock.advance(50_000);
    expect(await guard.claim("h2", "A")).toEqual({ replayed: false });
    clock.advance(20_000);
    // t = 70 s: h1 is over (used at 0 s), h2 is held (used at 50 s).
    guard.setWindowMs(600_000);
    expect(await guard.claim("h2", "B")).toEqual({ replayed: true, firstLane: "A" });
    expect(await guard.claim("h1", "B")).toEqual({ replayed: false });
    clock.advance(579_999);
    // t = 649.999 s: h2's first use was at 50 s, so its new window ends at 650 s.
    expect(await guard.claim("h2", "C")).toEqual({ replayed: true, firstLane: "A" });
    clock.advance(1);
    expect(await guard.claim("h2", "C")).toEqual({ replayed: false });
    // Shortened: h2 (claimed by C at 650 s) keeps 5 s from then; h1 (claimed by B at 70 s) is over.
    guard.setWindowMs(5_000);
    expect(await guard.claim("h1", "D")).toEqual({ replayed: false });
    clock.advance(4_999);
    expect(await guard.claim("h2", "D")).toEqual({ replayed: true, firstLane: "C" });
    // Turned off and on again: nothing is held from before.
    guard.setWindowMs(0);
    expect(await guard.claim("h2", "D")).toEqual({ replayed: false });
    guard.setWindowMs(60_000);
    expect(await guard.claim("h1", "E")).toEqual({ replayed: false });
    expect(await guard.claim("h1", "F")).toEqual({ replayed: true, firstLane: "E" });
  });

  it("with Redis, new keys expire after the new window", async () => {
    const clock = new FakeClock();
    const store = new Map<string, string>();
    const windows: number[] = [];
    const redis = {
      status: "ready",
      set: (key: string, value: string, _px: "PX", ms: number) => {
        windows.push(ms);
        if (store.has(key)) return Promise.resolve(null);
        store.set(key, value);
        return Promise.resolve("OK" as const);
      },
      get: (key: string) => Promise.resolve(store.get(key) ?? null),
    };
    const guard = openReplayGuard(60_000, clock, silentLogger, { client: redis as unknown as Redis, keyPrefix: "t:" });
    expect(await guard.claim("h1", "A")).toEqual({ replayed: false });
    guard.setWindowMs(600_000);
    expect(await guard.claim("h2", "A")).toEqual({ replayed: false });
    expect(windows).toEqual([60_000, 600_000]);
    // A claim held here keeps answering, whatever Redis holds.
    store.clear();
    clock.advance(100_000);
    expect(await guard.claim("h1", "B")).toEqual({ replayed: true, firstLane: "A" });
  });
});
