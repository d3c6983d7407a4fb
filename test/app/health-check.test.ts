import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createLogger } from "../../src/core/logger.js";
import type { LaneProblem } from "../../src/lane/index.js";
import { createHealthCheck, HEALTH_CHECK_MS, type HealthCheckDeps } from "../../src/app/health-check.js";
import { POOL_DOWN_MS, type CameraHealthInput } from "../../src/app/lane-health.js";

const fakeLane = () => {
  const on = new Set<LaneProblem>();
  return { on, setProblem: (p: LaneProblem, raised: boolean) => void (raised ? on.add(p) : on.delete(p)), hasProblem: (p: LaneProblem) => on.has(p) };
};

/** Two lanes with one healthy camera each; every input can be changed by the test. */
const rig = () => {
  const lines: Array<{ level: string; msg: string }> = [];
  const clock = new FakeClock();
  const lanes = new Map([
    ["A", fakeLane()],
    ["B", fakeLane()],
  ]);
  const s = {
    staleAction: "out-of-service",
    clockAction: "out-of-service",
    trustStatus: (): { stale: boolean; clockUntrusted?: unknown } => ({ stale: false }),
    ready: 1,
    cameras: (): CameraHealthInput[] => [
      { lane: "A", online: true, framePathFailing: false, ingestError: false },
      { lane: "B", online: true, framePathFailing: false, ingestError: false },
    ],
  };
  const deps: HealthCheckDeps = {
    lanes,
    staleAction: () => s.staleAction,
    clockAction: () => s.clockAction,
    trustStatus: () => s.trustStatus(),
    pool: () => ({ stats: () => ({ ready: s.ready }) }),
    cameras: { health: () => s.cameras() },
    clock,
    log: createLogger({ level: "debug", destination: { write: (l: string) => void lines.push(JSON.parse(l)) } }),
  };
  const problems = () => Object.fromEntries([...lanes].map(([id, l]) => [id, [...l.on].sort()]));
  return { s, clock, lanes, lines, problems, health: createHealthCheck(deps) };
};

describe("health check", () => {
  it("stale trust takes every lane out of service only when staleAction is out-of-service", () => {
    const { s, health, problems } = rig();
    s.trustStatus = () => ({ stale: true });
    health.check();
    expect(problems()).toEqual({ A: ["TRUST_STALE"], B: ["TRUST_STALE"] });
    s.staleAction = "flag";
    health.check();
    expect(problems()).toEqual({ A: [], B: [] });
    // With both actions "flag" the status is not even read: an unreadable one does not matter either.
    s.clockAction = "flag";
    s.trustStatus = () => {
      throw new Error("unreadable");
    };
    health.check();
    expect(problems()).toEqual({ A: [], B: [] });
  });

  it("an untrusted clock takes every lane out of service (CLOCK_UNTRUSTED) only when clockAction is out-of-service, and clears with it", () => {
    const { s, health, problems } = rig();
    s.trustStatus = () => ({ stale: false, clockUntrusted: { basis: "signed-time", offsetMs: -86400_000 } });
    health.check();
    expect(problems()).toEqual({ A: ["CLOCK_UNTRUSTED"], B: ["CLOCK_UNTRUSTED"] });
    s.clockAction = "flag";
    health.check();
    expect(problems()).toEqual({ A: [], B: [] });
    s.clockAction = "out-of-service";
    health.check();
    expect(problems()).toEqual({ A: ["CLOCK_UNTRUSTED"], B: ["CLOCK_UNTRUSTED"] });
    s.trustStatus = () => ({ stale: false });
    health.check();
    expect(problems()).toEqual({ A: [], B: [] });
  });

  it("a trust status that cannot be read counts as stale, logged once until it reads again", () => {
    const { s, health, problems, lines } = rig();
    s.trustStatus = () => {
      throw new Error("snapshot gone");
    };
    health.check();
    health.check();
    expect(problems()).toEqual({ A: ["TRUST_STALE"], B: ["TRUST_STALE"] });
    s.trustStatus = () => ({ stale: false });
    health.check();
    expect(problems()).toEqual({ A: [], B: [] });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ["error", "trust status unreadable: lanes out of service (TRUST_STALE) until it can be read"],
      ["info", "trust status readable again"],
    ]);
  });

  it("on its timer: a pool with no ready worker for POOL_DOWN_MS makes every lane DECODE_DOWN, until a worker is ready", () => {
    const { s, clock, health, problems } = rig();
    s.ready = 0;
    health.check();
    health.start();
    clock.advance(POOL_DOWN_MS - HEALTH_CHECK_MS);
    expect(problems()).toEqual({ A: [], B: [] });
    clock.advance(HEALTH_CHECK_MS);
    expect(problems()).toEqual({ A: ["DECODE_DOWN"], B: ["DECODE_DOWN"] });
    s.ready = 1;
    clock.advance(HEALTH_CHECK_MS);
    expect(problems()).toEqual({ A: [], B: [] });
    health.stop();
  });

  it("per lane: a failing frame path is DECODE_DOWN, a camera that cannot run is INGEST_ERROR", () => {
    const { s, health, problems, lines } = rig();
    s.cameras = () => [
      { lane: "A", online: true, framePathFailing: true, ingestError: false },
      { lane: "B", online: false, framePathFailing: false, ingestError: true },
    ];
    health.check();
    expect(problems()).toEqual({ A: ["DECODE_DOWN"], B: ["INGEST_ERROR"] });
    health.check();
    // Logged when a problem changes, not at every check.
    expect(lines.filter((l) => l.msg === "lane is blind: out of service")).toHaveLength(2);
  });

  it("lane health that cannot be read takes every lane out of service (DECODE_DOWN), logged once until it reads again", () => {
    const { s, health, problems, lines } = rig();
    const cameras = s.cameras;
    s.cameras = () => {
      throw new Error("rig broken");
    };
    health.check();
    health.check();
    health.check();
    expect(problems()).toEqual({ A: ["DECODE_DOWN"], B: ["DECODE_DOWN"] });
    s.cameras = cameras;
    health.check();
    expect(problems()).toEqual({ A: [], B: [] });
    expect(lines.filter((l) => l.msg.startsWith("lane health")).map((l) => [l.level, l.msg])).toEqual([
      ["error", "lane health unreadable: lanes out of service (DECODE_DOWN) until it can be read"],
      ["info", "lane health readable again"],
    ]);
  });

  it("stop ends the timer: nothing is pending and later ticks check nothing", () => {
    const { s, clock, health, problems } = rig();
    health.start();
    expect(clock.pendingCount).toBe(1);
    health.stop();
    expect(clock.pendingCount).toBe(0);
    s.trustStatus = () => ({ stale: true });
    clock.advance(HEALTH_CHECK_MS * 4);
    expect(problems()).toEqual({ A: [], B: [] });
  });
});
