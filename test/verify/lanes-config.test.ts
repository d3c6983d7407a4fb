/** Lane policy rules are data in the config: bad json-logic is refused at load, good rules run in the verifier. */
import { describe, expect, it } from "vitest";
import { laneSchema } from "../../src/lane/options.js";

describe("lanes config: policy rules", () => {
  it("accepts json-logic rules and defaults", () => {
    const lane = laneSchema.parse({ id: "l1", area: "VN-SG", rules: [{ id: "dest", logic: { in: [{ var: "context.area" }, { var: "claims.destination" }] } }] });
    expect(lane.accept).toEqual(["pass", "dcc", "shc"]);
    expect(lane.rules[0]!.id).toBe("dest");
  });

  it("refuses an unknown operator with the rule id in the message", () => {
    const r = laneSchema.safeParse({ id: "l1", rules: [{ id: "typo", logic: { "==": [{ vra: "claims.health" }, "cleared"] } }] });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain("typo");
  });

  it("refuses duplicate rule ids", () => {
    const r = laneSchema.safeParse({ id: "l1", rules: [{ id: "a", logic: true }, { id: "a", logic: true }] });
    expect(r.success).toBe(false);
  });
});
