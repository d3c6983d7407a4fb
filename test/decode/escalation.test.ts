import { describe, expect, it } from "vitest";
import { EscalationGovernor } from "../../src/decode/escalation.js";

describe("EscalationGovernor", () => {
  it("gives the full budget when no other frame waits", () => {
    const g = new EscalationGovernor(250);
    expect([0, 10, 20].map((t) => g.budgetFor("cam1", 60, t, false))).toEqual([60, 60, 60]);
  });

  it("under backlog, escalates each camera at most once per interval", () => {
    const g = new EscalationGovernor(250);
    const got = [0, 66, 133, 200, 266, 333, 533].map((t) => g.budgetFor("cam1", 60, t, true));
    expect(got).toEqual([60, 0, 0, 0, 60, 0, 60]);
    // Another camera has its own allowance.
    expect(g.budgetFor("cam2", 60, 333, true)).toBe(60);
  });

  it("interval 0 disables the governor", () => {
    const g = new EscalationGovernor(0);
    expect([0, 1, 2].map((t) => g.budgetFor("cam1", 60, t, true))).toEqual([60, 60, 60]);
  });
});
