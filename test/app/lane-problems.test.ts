import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/core/logger.js";
import { LaneProblemRouter, type ProblemTarget } from "../../src/app/lane-problems.js";

const collecting = () => {
  const lines: Array<{ level: string; msg: string; problem?: string }> = [];
  return { lines, logger: createLogger({ level: "debug", destination: { write: (s: string) => void lines.push(JSON.parse(s)) } }) };
};

/** A lane that only records its raised problems. */
const fakeLane = (id: string) => {
  const on = new Set<string>();
  const lane: ProblemTarget & { on: Set<string> } = {
    id,
    on,
    setProblem: (p, raised) => void (raised ? on.add(p) : on.delete(p)),
  };
  return lane;
};

describe("lane problem routing", () => {
  it("a problem without a lane reaches every lane; one with a lane only that lane", () => {
    const r = new LaneProblemRouter(collecting().logger);
    const a = fakeLane("A");
    const b = fakeLane("B");
    r.handle({ problem: "EVENTS_SEQ_ERROR", on: true }, [a, b]);
    r.handle({ problem: "CAMERAS_DOWN", on: true, lane: "B" }, [a, b]);
    expect([[...a.on], [...b.on]]).toEqual([["EVENTS_SEQ_ERROR"], ["EVENTS_SEQ_ERROR", "CAMERAS_DOWN"]]);
    r.handle({ problem: "EVENTS_SEQ_ERROR", on: false }, [a, b]);
    expect([[...a.on], [...b.on]]).toEqual([[], ["CAMERAS_DOWN"]]);
  });

  it("a lane built later starts with what is raised for it or for every lane, not with what was cleared", () => {
    const r = new LaneProblemRouter(collecting().logger);
    r.handle({ problem: "EVENTS_SEQ_ERROR", on: true }, []);
    r.handle({ problem: "CAMERAS_DOWN", on: true, lane: "C" }, []);
    r.handle({ problem: "TRUST_STALE", on: true, lane: "D" }, []);
    r.handle({ problem: "DECODE_DOWN", on: true }, []);
    r.handle({ problem: "DECODE_DOWN", on: false }, []);
    const c = fakeLane("C");
    r.applyTo(c);
    expect([...c.on].sort()).toEqual(["CAMERAS_DOWN", "EVENTS_SEQ_ERROR"]);
  });

  it("warns about a problem missing from the lane catalogue, and still applies it", () => {
    const { lines, logger } = collecting();
    const r = new LaneProblemRouter(logger);
    const a = fakeLane("A");
    r.handle({ problem: "NOT_IN_CATALOGUE", on: true }, [a]);
    expect(a.on.has("NOT_IN_CATALOGUE")).toBe(true);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ["warn", "lane problem without a catalogue entry (src/lane/state.ts)"],
      ["warn", "lane problem raised"],
    ]);
  });
});
