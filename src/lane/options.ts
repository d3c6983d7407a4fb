import { z } from "zod";
import { ruleProblem } from "../verify/policy.js";

export const policyRuleSchema = z
  .strictObject({
    id: z.string().min(1).describe("Rule id reported with POLICY_REJECTED."),
    formats: z.array(z.enum(["pass", "dcc", "shc"])).optional().describe("Formats the rule applies to; all when absent."),
    logic: z
      .unknown()
      .describe(
        "A json-logic expression (jsonlogic.com) that must be truthy to accept. Data: format, issuer, kid, now (epoch s), validFrom, validUntil, " +
          "claims (pass: origin, destination[], declaredAt, health; dcc: type, v|t|r; shc: types[], immunizations[], doses) and context {lane, area}. " +
          "See docs/verify.md.",
      ),
  })
  // A typo in an operator would otherwise reject every traveller at run time: refuse it at start-up.
  .superRefine((r, ctx) => {
    const problem = ruleProblem({ id: r.id, logic: r.logic });
    if (problem) ctx.addIssue({ code: "custom", path: ["logic"], message: problem, input: r.logic });
  });

export const laneSchema = z.strictObject({
  // 64: the display routes take at most that (a longer id would be a lane whose kiosk URL is always 404).
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and -, at most 64").describe("Lane id, used in /lanes/:id (letters, digits, _ and -, at most 64)."),
  name: z.string().optional().describe("Name shown on the dashboard."),
  area: z.string().optional().describe("Area code of this checkpoint, available to policy rules as `context.area`."),
  accept: z.array(z.enum(["pass", "dcc", "shc"])).default(["pass", "dcc", "shc"]).describe("Credential formats accepted at this lane."),
  rules: z
    .array(policyRuleSchema)
    .default([])
    .refine((rules) => new Set(rules.map((r) => r.id)).size === rules.length, "rule ids must be unique within a lane")
    .describe("Policy rules; all must accept."),
  language: z.enum(["vi", "en"]).optional().describe("Display language; defaults to display.language."),
  passHoldMs: z.number().int().min(500).default(4000).describe("How long PASS stays on screen."),
  flagHoldMs: z.number().int().min(500).default(8000).describe("How long FLAG stays on screen."),
  leaveMs: z.number().int().min(100).default(2500).describe("A credential must be out of view this long before it counts as a new presentation."),
});

export const lanesSection = z.array(laneSchema).default([]).describe("Lanes: each shows one verdict per presentation.");
export type LaneConfig = z.infer<typeof laneSchema>;
