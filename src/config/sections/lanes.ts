import { z } from "zod";

export const policyRuleSchema = z.strictObject({
  id: z.string().min(1).describe("Rule id reported with POLICY_REJECTED."),
  formats: z.array(z.enum(["pass", "dcc", "shc"])).optional().describe("Formats the rule applies to; all when absent."),
  logic: z.unknown().describe("A json-logic expression over the verified claims; it must be truthy to accept."),
});

export const laneSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]+$/).describe("Lane id, used in /lanes/:id."),
  name: z.string().optional().describe("Name shown on the dashboard."),
  area: z.string().optional().describe("Area code of this checkpoint, available to policy rules as `context.area`."),
  accept: z.array(z.enum(["pass", "dcc", "shc"])).default(["pass", "dcc", "shc"]).describe("Credential formats accepted at this lane."),
  rules: z.array(policyRuleSchema).default([]).describe("Policy rules; all must accept."),
  language: z.enum(["vi", "en"]).optional().describe("Display language; defaults to display.language."),
  passHoldMs: z.number().int().min(500).default(4000).describe("How long PASS stays on screen."),
  flagHoldMs: z.number().int().min(500).default(8000).describe("How long FLAG stays on screen."),
  leaveMs: z.number().int().min(100).default(2500).describe("A credential must be out of view this long before it counts as a new presentation."),
});

export const lanesSection = z.array(laneSchema).default([]).describe("Lanes: each shows one verdict per presentation.");
export type LaneConfig = z.infer<typeof laneSchema>;
