import type { LaneState } from "../../core/types.js";
import type { MqttConfig } from "../../config/sections/outputs.js";

/** Pure topic and payload rules for the MQTT output. */
export type LinkStatus = "online" | "out-of-service" | "offline";

export function fillTopic(template: string, vars: { prefix: string; gateway: string; lane?: string }): string {
  const topic = template.replaceAll("{prefix}", vars.prefix).replaceAll("{gateway}", vars.gateway).replaceAll("{lane}", vars.lane ?? "");
  // Wildcards or empty levels in a publish topic are a protocol error the broker answers by disconnecting.
  if (!topic || /[+#\0]/.test(topic) || topic.split("/").some((level) => level === "")) {
    throw new Error(`mqtt: invalid topic '${topic}' from template '${template}'`);
  }
  return topic;
}

export interface LaneTopics {
  status: string;
  verdict: string;
}

export function topicsFor(cfg: MqttConfig, gatewayId: string, lanes: string[]): { gateway: string; lanes: Map<string, LaneTopics> } {
  const base = { prefix: cfg.topicPrefix, gateway: gatewayId };
  const map = new Map<string, LaneTopics>();
  for (const lane of lanes) {
    map.set(lane, { status: fillTopic(cfg.topics.laneStatus, { ...base, lane }), verdict: fillTopic(cfg.topics.verdict, { ...base, lane }) });
  }
  const all = [...map.values()].flatMap((t) => [t.status, t.verdict]);
  const gateway = fillTopic(cfg.topics.gatewayStatus, base);
  if (new Set([...all, gateway]).size !== all.length + 1) throw new Error("mqtt: topic templates give two lanes (or kinds) the same topic; include {lane}");
  return { gateway, lanes: map };
}

/** A paused lane is closed for traffic as far as a signal light is concerned. */
export function laneStatusFor(state: LaneState): LinkStatus {
  return state === "out-of-service" || state === "paused" ? "out-of-service" : "online";
}
