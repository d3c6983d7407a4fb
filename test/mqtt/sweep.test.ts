import { describe, expect, it } from "vitest";
import { mqttSection } from "../../src/output/options.js";
import { discoveryMessages, discoveryNode } from "../../src/output/mqtt/discovery.js";
import { sweepPlan, type SweepOptions } from "../../src/output/mqtt/sweep.js";
import { topicsFor } from "../../src/output/mqtt/topics.js";

/** The pure half of clearing a removed lane's retained topics: what is subscribed to, what is cleared. */
function plan(lanes: string[], extra: Record<string, unknown> = {}, over: Partial<SweepOptions> = {}) {
  const cfg = mqttSection.parse({ url: "mqtt://x", topicPrefix: "cp", ...extra })!;
  const topics = topicsFor(cfg, "gw-1", lanes);
  return sweepPlan({ prefix: cfg.topicPrefix, gatewayId: "gw-1", templates: cfg.topics, topics, ...over });
}

describe("sweepPlan", () => {
  it("default templates: a removed lane's status and paused topics are cleared, the running config's and other gateways' never", () => {
    const p = plan(["L1"], {}, { keep: ["cp/gw-1/ledger/head"] });
    expect(p.filters).toEqual(["cp/gw-1/lanes/+/status", "cp/gw-1/lanes/+/paused"]);
    expect(p.kindOf("cp/gw-1/lanes/L2/status")).toBe("status");
    expect(p.kindOf("cp/gw-1/lanes/L2/paused")).toBe("paused");
    for (const t of ["cp/gw-1/lanes/L1/status", "cp/gw-1/lanes/L1/paused", "cp/gw-1/status", "cp/gw-1/stats", "cp/gw-1/ledger/head", "cp/gw-2/lanes/L2/status", "other/gw-1/lanes/L2/status", "cp/gw-1/lanes/L2/verdict", "cp/gw-1/lanes/L2/x/status"]) {
      expect(p.kindOf(t), t).toBeUndefined();
    }
  });

  it("a template without {gateway} is not swept: it could be another gateway's lane", () => {
    const p = plan(["L1"], { topics: { laneStatus: "lights/{lane}/state" } });
    expect(p.filters).toEqual(["cp/gw-1/lanes/+/paused"]);
    expect(p.kindOf("lights/L2/state")).toBeUndefined();
  });

  it("{lane} inside a level, or twice: the filter takes the whole level and the lane must be the same", () => {
    const p = plan(["L1"], { topics: { laneStatus: "{prefix}/{gateway}/lane-{lane}/{lane}/status" } });
    expect(p.filters[0]).toBe("cp/gw-1/+/+/status");
    expect(p.kindOf("cp/gw-1/lane-L2/L2/status")).toBe("status");
    expect(p.kindOf("cp/gw-1/lane-L2/L3/status")).toBeUndefined();
    expect(p.kindOf("cp/gw-1/lane-L1/L1/status")).toBeUndefined();
  });

  it("a template that overlaps the gateway's own topics never clears them (gateway status, stats, kept topics)", () => {
    const p = plan(["L1"], { topics: { laneStatus: "{prefix}/{gateway}/{lane}" } }, { keep: ["cp/gw-1/head"] });
    expect(p.kindOf("cp/gw-1/L2")).toBe("status");
    for (const t of ["cp/gw-1/status", "cp/gw-1/stats", "cp/gw-1/head", "cp/gw-1/L1"]) expect(p.kindOf(t), t).toBeUndefined();
  });

  it("Home Assistant: this gateway's configs that are not published now are cleared, another gateway's are not", () => {
    const cfg = mqttSection.parse({ url: "mqtt://x", topicPrefix: "cp" })!;
    const topics = topicsFor(cfg, "gw-1", ["L1"]);
    const now = discoveryMessages({ discoveryPrefix: "ha", gatewayId: "gw-1", version: "0", topics, switchEnabled: false });
    const p = sweepPlan({ prefix: "cp", gatewayId: "gw-1", templates: cfg.topics, topics, discovery: { prefix: "ha", node: discoveryNode("gw-1"), topics: now.keys() } });
    expect(p.filters).toContain("ha/+/cpgw_gw-1/+/config");
    for (const t of now.keys()) expect(p.kindOf(t), t).toBeUndefined();
    expect(p.kindOf("ha/sensor/cpgw_gw-1/L2_status/config")).toBe("discovery");
    // The switch of a lane still configured, left from when commands were on with ACL auth.
    expect(p.kindOf("ha/switch/cpgw_gw-1/L1_pause/config")).toBe("discovery");
    expect(p.kindOf("ha/sensor/cpgw_gw-2/L2_status/config")).toBeUndefined();
  });
});
