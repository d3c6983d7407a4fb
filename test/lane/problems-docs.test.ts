/** docs/lane.md and the LaneProblems catalogue must list the same lane problem codes. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LaneProblems } from "../../src/lane/state.js";

const doc = readFileSync("docs/lane.md", "utf8");
const from = doc.indexOf("Problem codes (`LaneStatus.problems`)");
const table = doc.slice(from, doc.indexOf("\n\n", doc.indexOf("\n|", from)));
const documented = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);

describe("lane problem codes", () => {
  it("docs/lane.md lists exactly the codes in LaneProblems (src/lane/state.ts)", () => {
    expect(from).toBeGreaterThan(0);
    expect([...documented].sort()).toEqual(Object.keys(LaneProblems).sort());
  });
});
