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
    expect(p.kindOf("cp/gw-1/lanes/L2/status", "offline")).toBe("status");
    expect(p.kindOf("cp/gw-1/lanes/L2/paused", "offline")).toBe("paused");
    for (const t of ["cp/gw-1/lanes/L1/status", "cp/gw-1/lanes/L1/paused", "cp/gw-1/status", "cp/gw-1/stats", "cp/gw-1/ledger/head", "cp/gw-2/lanes/L2/status", "other/gw-1/lanes/L2/status", "cp/gw-1/lanes/L2/verdict", "cp/gw-1/lanes/L2/x/status"]) {
      expect(p.kindOf(t, "offline"), t).toBeUndefined();
    }
  });

  it("a template without {gateway} is not swept: it could be another gateway's lane", () => {
    const p = plan(["L1"], { topics: { laneStatus: "lights/{lane}/state" } });
    expect(p.filters).toEqual(["cp/gw-1/lanes/+/paused"]);
    expect(p.kindOf("lights/L2/state", "offline")).toBeUndefined();
  });

  it("{lane} inside a level, or twice: the filter takes the whole level and the lane must be the same", () => {
    const p = plan(["L1"], { topics: { laneStatus: "{prefix}/{gateway}/lane-{lane}/{lane}/status" } });
    expect(p.filters[0]).toBe("cp/gw-1/+/+/status");
    expect(p.kindOf("cp/gw-1/lane-L2/L2/status", "offline")).toBe("status");
    expect(p.kindOf("cp/gw-1/lane-L2/L3/status", "offline")).toBeUndefined();
    expect(p.kindOf("cp/gw-1/lane-L1/L1/status", "offline")).toBeUndefined();
  });

  it("a template that overlaps the gateway's own topics never clears them (gateway status, stats, kept topics)", () => {
    const p = plan(["L1"], { topics: { laneStatus: "{prefix}/{gateway}/{lane}" } }, { keep: ["cp/gw-1/head"] });
    expect(p.kindOf("cp/gw-1/L2", "offline")).toBe("status");
    for (const t of ["cp/gw-1/status", "cp/gw-1/stats", "cp/gw-1/head", "cp/gw-1/L1"]) expect(p.kindOf(t, "offline"), t).toBeUndefined();
  });

  it("a template without {gateway} is said to be unswept, with the reason", () => {
    const p = plan(["L1"], { topics: { laneStatus: "lights/{lane}/state" } });
    expect(p.unswept).toEqual([{ kind: "status", template: "lights/{lane}/state", reason: "no-gateway" }]);
    expect(plan(["L1"]).unswept).toEqual([]);
  });

  it("{gateway} and {lane} in one level: not swept, another gateway's lane and status would read as this gateway's lanes", () => {
    // gw (lane a) and gw-1 (lane b) on one broker: gw-1-b read as gw's lane 1-b, gw-1/status as lane 1.
    const topics = { laneStatus: "{prefix}/{gateway}-{lane}/status", lanePaused: "{prefix}/{gateway}-{lane}/paused", verdict: "{prefix}/{gateway}-{lane}/verdict", laneCommand: "{prefix}/{gateway}-{lane}/{command}/set" };
    const cfg = mqttSection.parse({ url: "mqtt://x", topicPrefix: "site", topics })!;
    const p = sweepPlan({ prefix: "site", gatewayId: "gw", templates: cfg.topics, topics: topicsFor(cfg, "gw", ["a"]) });
    expect(p.filters).toEqual([]);
    expect(p.unswept).toEqual([
      { kind: "status", template: topics.laneStatus, reason: "gateway-not-own-level" },
      { kind: "paused", template: topics.lanePaused, reason: "gateway-not-own-level" },
    ]);
    for (const t of ["site/gw-1-b/status", "site/gw-1-b/paused", "site/gw-1/status", "site/gw-x/status"]) expect(p.kindOf(t, "online"), t).toBeUndefined();
  });

  it("{gateway} with more text in its level, even without {lane} there, is not swept; {gateway} alone in a level with {lane} elsewhere is", () => {
    expect(plan(["L1"], { topics: { laneStatus: "{prefix}/gw-{gateway}/{lane}/status" } }).unswept).toEqual([
      { kind: "status", template: "{prefix}/gw-{gateway}/{lane}/status", reason: "gateway-not-own-level" },
    ]);
    const p = plan(["L1"], { topics: { laneStatus: "{prefix}/lane-{lane}/{gateway}/status" } });
    expect(p.unswept).toEqual([]);
    expect(p.filters[0]).toBe("cp/+/gw-1/status");
    expect(p.kindOf("cp/lane-L2/gw-1/status", "online")).toBe("status");
    expect(p.kindOf("cp/lane-L2/gw-1-x/status", "online")).toBeUndefined();
  });

  it("Home Assistant: this gateway's configs that are not published now are cleared, another gateway's are not", () => {
    const cfg = mqttSection.parse({ url: "mqtt://x", topicPrefix: "cp" })!;
    const topics = topicsFor(cfg, "gw-1", ["L1"]);
    const now = discoveryMessages({ discoveryPrefix: "ha", gatewayId: "gw-1", version: "0", topics, switchEnabled: false });
    const p = sweepPlan({ prefix: "cp", gatewayId: "gw-1", templates: cfg.topics, topics, discovery: { prefix: "ha", node: discoveryNode("gw-1"), topics: now.keys() } });
    const old = JSON.stringify([...now.values()][0]);
    expect(p.filters).toContain("ha/+/cpgw_gw-1/+/config");
    for (const [t, c] of now) expect(p.kindOf(t, JSON.stringify(c)), t).toBeUndefined();
    expect(p.kindOf("ha/sensor/cpgw_gw-1/L2_status/config", old)).toBe("discovery");
    // The switch of a lane still configured, left from when commands were on with ACL auth.
    expect(p.kindOf("ha/switch/cpgw_gw-1/L1_pause/config", old)).toBe("discovery");
    expect(p.kindOf("ha/sensor/cpgw_gw-2/L2_status/config", old)).toBeUndefined();
    // Not a config of ours (no JSON, no device name): left as it is.
    for (const payload of ["junk", "{}", '{"device":{"name":7}}', "null"]) expect(p.kindOf("ha/sensor/cpgw_gw-1/L2_status/config", payload), payload).toBeUndefined();
  });

  it("Home Assistant: gateway ids a.b and a_b share a node id, and neither clears the other's configs", () => {
    const cfg = mqttSection.parse({ url: "mqtt://x", topicPrefix: "cp" })!;
    expect(discoveryNode("a.b")).toBe(discoveryNode("a_b"));
    const side = (gatewayId: string, lanes: string[]) => {
      const topics = topicsFor(cfg, gatewayId, lanes);
      const now = discoveryMessages({ discoveryPrefix: "ha", gatewayId, version: "0", topics, switchEnabled: false });
      const p = sweepPlan({ prefix: "cp", gatewayId, templates: cfg.topics, topics, discovery: { prefix: "ha", node: discoveryNode(gatewayId), topics: now.keys() } });
      return { now, p };
    };
    const dot = side("a.b", ["L1"]);
    const under = side("a_b", ["L2"]);
    for (const [t, c] of under.now) expect(dot.p.kindOf(t, JSON.stringify(c)), t).toBe("other-gateway");
    for (const [t, c] of dot.now) expect(under.p.kindOf(t, JSON.stringify(c)), t).toBe("other-gateway");
    // Its own config of a removed lane is still cleared.
    const [t0, c0] = [...dot.now][0]!;
    expect(dot.p.kindOf(t0.replace("L1", "L9"), JSON.stringify(c0))).toBe("discovery");
  });
});
