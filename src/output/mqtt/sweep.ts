import type { MqttClient } from "mqtt";
import type { Logger } from "../../core/logger.js";
import type { MqttConfig } from "../options.js";
import type { Topics } from "./topics.js";
import type { MqttPublishKind } from "./types.js";

/**
 * Retained topics of lanes that are no longer configured. A lane removed by a reload or between two
 * runs left its retained status, paused state and Home Assistant discovery configs at the broker for
 * ever: `offline` at best, `online` when the removal happened while a persistent broker was down
 * (nothing could be published then, and the broker restores what it had). The broker itself is the
 * list of what to clear: on every connect the gateway link subscribes to its own lane templates and
 * discovery node, and clears each retained message that belongs to no configured lane. No state of
 * our own to persist, and it also covers a lane removed while the gateway was stopped or crashed.
 */

export type SweepKind = Extract<MqttPublishKind, "status" | "paused" | "discovery">;

export interface SweepOptions {
  prefix: string;
  gatewayId: string;
  templates: Pick<MqttConfig["topics"], "laneStatus" | "lanePaused">;
  /** The running config's topics: never cleared. */
  topics: Topics;
  /** Other retained topics of this gateway (the ledger head): never cleared. */
  keep?: readonly string[];
  /** Home Assistant discovery: the prefix, this gateway's node id, and the configs it publishes now. */
  discovery?: { prefix: string; node: string; topics: Iterable<string> };
}

export interface SweepPlan {
  /** Subscription filters covering every topic the plan may clear (none: nothing to sweep). */
  filters: string[];
  /** What a retained message found on `topic` is: a removed lane's status, paused state or discovery config, or ours (undefined). */
  kindOf(topic: string): SweepKind | undefined;
}

interface Rule {
  kind: SweepKind;
  filter: string;
  re: RegExp;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * A lane template as a filter (`+` for the level holding `{lane}`) and a pattern giving the lane.
 * Only templates with `{gateway}` are swept: without it two gateways sharing a broker would clear
 * each other's lanes. `{command}` is empty here, as fillTopic makes it outside laneCommand.
 */
function laneRule(kind: SweepKind, template: string, prefix: string, gatewayId: string): Rule | undefined {
  if (!template.includes("{gateway}") || !template.includes("{lane}")) return undefined;
  const filled = template.replace(/\{(prefix|gateway|command)\}/g, (_, k: string) => (k === "prefix" ? prefix : k === "gateway" ? gatewayId : ""));
  const filter = filled
    .split("/")
    .map((level) => (level.includes("{lane}") ? "+" : level))
    .join("/");
  let first = true;
  const body = escape(filled).replaceAll(escape("{lane}"), () => {
    const group = first ? "(?<lane>[^/]+)" : "\\k<lane>";
    first = false;
    return group;
  });
  return { kind, filter, re: new RegExp(`^${body}$`) };
}

/** Pure: what the gateway link subscribes to and which retained topics it clears. */
export function sweepPlan(o: SweepOptions): SweepPlan {
  const ours = new Set<string>([o.topics.gateway, o.topics.stats, ...(o.keep ?? [])]);
  for (const t of o.topics.lanes.values()) ours.add(t.status).add(t.verdict).add(t.paused).add(t.commands.pause).add(t.commands.resume);
  const rules: Rule[] = [];
  for (const [kind, template] of [["status", o.templates.laneStatus], ["paused", o.templates.lanePaused]] as const) {
    const r = laneRule(kind, template, o.prefix, o.gatewayId);
    if (r) rules.push(r);
  }
  if (o.discovery) {
    for (const t of o.discovery.topics) ours.add(t);
    const { prefix, node } = o.discovery;
    rules.push({ kind: "discovery", filter: `${prefix}/+/${node}/+/config`, re: new RegExp(`^${escape(prefix)}/[^/]+/${escape(node)}/[^/]+/config$`) });
  }
  return {
    filters: [...new Set(rules.map((r) => r.filter))],
    kindOf(topic) {
      if (ours.has(topic)) return undefined;
      for (const r of rules) {
        const m = r.re.exec(topic);
        if (m && !(m.groups?.lane !== undefined && o.topics.lanes.has(m.groups.lane))) return r.kind;
      }
      return undefined;
    },
  };
}

export interface Sweeper {
  /** On the gateway link's connect: the broker answers with every retained message under the filters. */
  subscribe(client: MqttClient, closing: () => boolean): void;
  /** A message on the gateway link: cleared when it is a retained one of a lane no longer configured. */
  onMessage(client: MqttClient, topic: string, payload: Buffer, retained: boolean): void;
}

/**
 * Clears what the plan finds. Only messages with the retain flag count: on MQTT 3.1.1 the broker
 * sets it only on what a new subscription receives, so the gateway's own restated statuses, which
 * come back on the same filters, are never taken for stale ones. A removed lane's status first gets
 * a live `offline`, for devices that ignore an empty payload, then the empty retained payload that
 * deletes it (and a discovery config's, which removes the entity from Home Assistant).
 */
export function createSweeper(plan: SweepPlan, qos: MqttConfig["qos"], log: Logger, failed: (kind: SweepKind) => (err?: Error) => void): Sweeper {
  return {
    subscribe(client, closing) {
      if (plan.filters.length === 0) return;
      client.subscribe(plan.filters, { qos: 0 }, (err) => {
        if (err && !closing()) log.warn({ err: err.message }, "mqtt subscribe to the gateway's own retained topics failed: topics of removed lanes are not cleared");
      });
    },
    onMessage(client, topic, payload, retained) {
      if (!retained || payload.length === 0 || !client.connected) return;
      const kind = plan.kindOf(topic);
      if (!kind) return;
      if (kind === "status" && payload.toString() !== "offline") client.publish(topic, "offline", { qos, retain: false }, failed(kind));
      client.publish(topic, "", { qos: kind === "discovery" ? 1 : qos, retain: true }, failed(kind));
      log.info({ topic }, "mqtt: cleared a retained topic of a lane that is no longer configured");
    },
  };
}
