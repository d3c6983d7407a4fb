import type { LaneState } from "../../core/types.js";
import type { MqttConfig } from "../options.js";

/** Pure topic and payload rules for the MQTT output. */
export type LinkStatus = "online" | "out-of-service" | "offline";
export type LaneCommand = "pause" | "resume";
export const LANE_COMMANDS: readonly LaneCommand[] = ["pause", "resume"];

interface TopicVars {
  prefix: string;
  gateway: string;
  lane?: string;
  command?: string;
}

export function fillTopic(template: string, vars: TopicVars): string {
  const topic = template
    .replaceAll("{prefix}", vars.prefix)
    .replaceAll("{gateway}", vars.gateway)
    .replaceAll("{lane}", vars.lane ?? "")
    .replaceAll("{command}", vars.command ?? "");
  // Wildcards or empty levels in a publish topic are a protocol error the broker answers by disconnecting.
  if (!topic || /[+#\0]/.test(topic) || topic.split("/").some((level) => level === "")) {
    throw new Error(`mqtt: invalid topic '${topic}' from template '${template}'`);
  }
  return topic;
}

export interface LaneTopics {
  status: string;
  verdict: string;
  paused: string;
  commands: Record<LaneCommand, string>;
}

export interface Topics {
  gateway: string;
  stats: string;
  lanes: Map<string, LaneTopics>;
}

export function topicsFor(cfg: MqttConfig, gatewayId: string, lanes: string[]): Topics {
  const base = { prefix: cfg.topicPrefix, gateway: gatewayId };
  const map = new Map<string, LaneTopics>();
  for (const lane of lanes) {
    map.set(lane, {
      status: fillTopic(cfg.topics.laneStatus, { ...base, lane }),
      verdict: fillTopic(cfg.topics.verdict, { ...base, lane }),
      paused: fillTopic(cfg.topics.lanePaused, { ...base, lane }),
      commands: { pause: fillTopic(cfg.topics.laneCommand, { ...base, lane, command: "pause" }), resume: fillTopic(cfg.topics.laneCommand, { ...base, lane, command: "resume" }) },
    });
  }
  const perLane = [...map.values()].flatMap((t) => [t.status, t.verdict, t.paused, t.commands.pause, t.commands.resume]);
  const gateway = fillTopic(cfg.topics.gatewayStatus, base);
  const stats = fillTopic(cfg.topics.stats, base);
  const all = [...perLane, gateway, stats];
  if (new Set(all).size !== all.length) throw new Error("mqtt: topic templates give two lanes (or kinds) the same topic; include {lane} (and {command} in laneCommand)");
  return { gateway, stats, lanes: map };
}

/**
 * What a light or barrier may act on: `online` only in service. A paused lane is closed for
 * traffic; a lane whose state is not known yet (start-up, before the lane reported) is
 * out of service, never optimistically online.
 */
export function laneStatusFor(state: LaneState | undefined): LinkStatus {
  return state === "idle" || state === "pass" || state === "flag" ? "online" : "out-of-service";
}
