import { z } from "zod";
import { gatewaySection } from "./sections/gateway.js";
import { logSection } from "./sections/log.js";
// Each stage owns its options (schema, defaults, descriptions, type); this file only composes them.
import { serverSection } from "../output/http/server-options.js";
import { displaySection } from "../output/http/display-options.js";
import { decodeSection } from "../decode/options.js";
import { camerasSection } from "../ingest/options.js";
import { lanesSection } from "../lane/options.js";
import { trustSection } from "../verify/trust/options.js";
import { redisSection, mqttSection, eventsSection } from "../output/options.js";

/** The one source of truth: validation, defaults, types and the editor JSON Schema all come from here. */
export const configSchema = z
  .strictObject({
    // prefault: an absent section is parsed as `{}`, so each field's own default applies and the
    // defaults are written once, in the options files.
    gateway: gatewaySection.prefault({}),
    log: logSection.prefault({}),
    server: serverSection.prefault({}),
    decode: decodeSection.prefault({}),
    cameras: camerasSection,
    lanes: lanesSection,
    display: displaySection.prefault({}),
    trust: trustSection.prefault({}),
    redis: redisSection,
    mqtt: mqttSection,
    events: eventsSection,
  })
  .superRefine((cfg, ctx) => {
    const laneIds = new Set(cfg.lanes.map((l) => l.id));
    const seen = new Set<string>();
    cfg.cameras.forEach((c, i) => {
      if (seen.has(c.id)) ctx.addIssue({ code: "custom", path: ["cameras", i, "id"], message: "duplicate camera id", input: c.id });
      seen.add(c.id);
      if (!laneIds.has(c.lane)) ctx.addIssue({ code: "custom", path: ["cameras", i, "lane"], message: "no lane with this id", input: c.lane });
    });
    const lanes = new Set<string>();
    cfg.lanes.forEach((l, i) => {
      if (lanes.has(l.id)) ctx.addIssue({ code: "custom", path: ["lanes", i, "id"], message: "duplicate lane id", input: l.id });
      lanes.add(l.id);
    });
  })
  .describe("checkpoint-gateway configuration");

export type GatewayConfig = z.output<typeof configSchema>;
export type GatewayConfigInput = z.input<typeof configSchema>;

export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
}
