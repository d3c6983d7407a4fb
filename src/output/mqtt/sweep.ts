import type { MqttClient } from "mqtt";
import type { Logger } from "../../core/logger.js";
import type { MqttConfig } from "../options.js";
import type { Topics } from "./topics.js";
import type { MqttPublishKind } from "./types.js";
import { discoveryDeviceName } from "./discovery.js";

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

/** A lane template the sweep leaves alone, and why (logged once per start). */
export interface Unswept {
  kind: Exclude<SweepKind, "discovery">;
  template: string;
  /** `no-gateway`: another gateway may use the same topics; `gateway-not-own-level`: `{gateway}` shares a level (see laneRule). */
  reason: "no-gateway" | "gateway-not-own-level";
}

export interface SweepPlan {
  /** Subscription filters covering every topic the plan may clear (none: nothing to sweep). */
  filters: string[];
  /** Lane templates with `{lane}` that are not swept: retained topics of removed lanes under them stay. */
  unswept: Unswept[];
  /**
   * What a retained message found on `topic` is: a removed lane's status, paused state or discovery
   * config, ours or not ours to judge (undefined), or `other-gateway`: a discovery config under this
   * gateway's node that another gateway published (ids that differ only by `.` and `_`), left alone.
   */
  kindOf(topic: string, payload: string): SweepKind | "other-gateway" | undefined;
}

interface Rule {
  kind: SweepKind;
  filter: string;
  re: RegExp;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * A lane template as a filter (`+` for the level holding `{lane}`) and a pattern giving the lane.
 * Swept only when `{gateway}` fills topic levels by itself, so the levels holding `{lane}` never
 * hold the gateway id: a template without `{gateway}` could be another gateway's lane, and with
 * `{gateway}-{lane}` in one level, `gw`'s sweep read `gw-1-b` (gateway `gw-1`, lane `b`) as its own
 * lane `1-b`, and `gw-1/status` as lane `1`, and cleared both. `{command}` is empty here, as fillTopic
 * makes it outside laneCommand.
 */
function laneRule(kind: Unswept["kind"], template: string, prefix: string, gatewayId: string): Rule | Unswept | undefined {
  if (!template.includes("{lane}")) return undefined;
  const gatewayLevels = template.split("/").filter((level) => level.includes("{gateway}"));
  if (gatewayLevels.length === 0) return { kind, template, reason: "no-gateway" };
  if (gatewayLevels.some((level) => level !== "{gateway}")) return { kind, template, reason: "gateway-not-own-level" };
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
  const unswept: Unswept[] = [];
  for (const [kind, template] of [["status", o.templates.laneStatus], ["paused", o.templates.lanePaused]] as const) {
    const r = laneRule(kind, template, o.prefix, o.gatewayId);
    if (r && "re" in r) rules.push(r);
    else if (r) unswept.push(r);
  }
  if (o.discovery) {
    for (const t of o.discovery.topics) ours.add(t);
    const { prefix, node } = o.discovery;
    rules.push({ kind: "discovery", filter: `${prefix}/+/${node}/+/config`, re: new RegExp(`^${escape(prefix)}/[^/]+/${escape(node)}/[^/]+/config$`) });
  }
  const deviceName = discoveryDeviceName(o.gatewayId);
  return {
    filters: [...new Set(rules.map((r) => r.filter))],
    unswept,
    kindOf(topic, payload) {
      if (ours.has(topic)) return undefined;
      for (const r of rules) {
        const m = r.re.exec(topic);
        if (!m || (m.groups?.lane !== undefined && o.topics.lanes.has(m.groups.lane))) continue;
        if (r.kind !== "discovery") return r.kind;
        // The node id is shared by gateway ids that differ only by `.` and `_`: a config is ours only
        // when it names this gateway's exact id. Anything else under the node is left as it is.
        const owner = discoveryOwner(payload);
        return owner === deviceName ? "discovery" : owner === undefined ? undefined : "other-gateway";
      }
      return undefined;
    },
  };
}

/** Discovery configs are small: a larger payload is not one of ours, and is not parsed. */
const MAX_DISCOVERY_BYTES = 64 * 1024;

/** The device name a retained discovery config names, if it is a JSON config with one. */
function discoveryOwner(payload: string): string | undefined {
  if (payload.length > MAX_DISCOVERY_BYTES) return undefined;
  try {
    const name = (JSON.parse(payload) as { device?: { name?: unknown } } | null)?.device?.name;
    return typeof name === "string" ? name : undefined;
  } catch {
    return undefined;
  }
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
  for (const u of plan.unswept) {
    log.info(
      { template: u.template, kind: u.kind, reason: u.reason },
      u.reason === "no-gateway"
        ? "mqtt: this lane template has no {gateway}, so another gateway may share its topics: retained topics of removed lanes under it are not cleared"
        : "mqtt: {gateway} does not fill a topic level by itself in this lane template, so another gateway's topics could read as this gateway's lanes: retained topics of removed lanes under it are not cleared",
    );
  }
  let sharedNodeSaid = false;
  return {
    subscribe(client, closing) {
      if (plan.filters.length === 0) return;
      client.subscribe(plan.filters, { qos: 0 }, (err) => {
        if (err && !closing()) log.warn({ err: err.message }, "mqtt subscribe to the gateway's own retained topics failed: topics of removed lanes are not cleared");
      });
    },
    onMessage(client, topic, payload, retained) {
      if (!retained || payload.length === 0 || !client.connected) return;
      const kind = plan.kindOf(topic, payload.toString());
      if (kind === "other-gateway") {
        if (!sharedNodeSaid) log.warn({ topic }, "mqtt: another gateway publishes Home Assistant discovery under this gateway's node (gateway ids that differ only by '.' and '_' share one): its configs are left alone, but the two share one device and a lane id both use overwrites the other's");
        sharedNodeSaid = true;
        return;
      }
      if (!kind) return;
      if (kind === "status" && payload.toString() !== "offline") client.publish(topic, "offline", { qos, retain: false }, failed(kind));
      client.publish(topic, "", { qos: kind === "discovery" ? 1 : qos, retain: true }, failed(kind));
      log.info({ topic }, "mqtt: cleared a retained topic of a lane that is no longer configured");
    },
  };
}
