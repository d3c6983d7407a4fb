import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { GatewayBus } from "../../core/bus.js";
import type { Logger } from "../../core/logger.js";
import type { MqttConfig } from "../../config/sections/outputs.js";
import { toWireEvent } from "../events/wire.js";
import { laneStatusFor, topicsFor, type LinkStatus } from "./topics.js";

export interface MqttOutputOptions {
  config: MqttConfig;
  gatewayId: string;
  lanes: string[];
  bus: GatewayBus;
  logger: Logger;
  connect?: typeof mqtt.connect;
}

export interface MqttOutputStats {
  connected: number;
  links: number;
  verdictsPublished: number;
  verdictsDropped: number;
  reconnects: number;
}

export interface MqttOutput {
  start(): Promise<void>;
  close(): Promise<void>;
  stats(): MqttOutputStats;
  /** Publishes on the gateway's connection (e.g. the retained ledger head); false while disconnected. */
  publish(topic: string, payload: string, o: { retain: boolean }): Promise<boolean>;
}

/** One connection with its own Last Will: the broker can only announce a dead connection. */
interface Link {
  name: string;
  statusTopic: string;
  verdictTopic?: string;
  status: LinkStatus;
  client?: MqttClient;
  everConnected: boolean;
}

/**
 * Signal lights and barriers: one MQTT connection per lane plus one for the gateway, each with a
 * retained status topic and a Last Will "offline" on it, so a killed gateway turns every lane's
 * light off at the broker without the subscriber having to combine topics. Verdicts are
 * non-retained and are dropped (counted) while disconnected: a verdict delivered late could open
 * a barrier for the wrong person.
 */
export function createMqttOutput(opts: MqttOutputOptions): MqttOutput {
  const cfg = opts.config;
  const log = opts.logger.child({ module: "output.mqtt" });
  const connect = opts.connect ?? mqtt.connect;
  const topics = topicsFor(cfg, opts.gatewayId, opts.lanes);
  const verdictQos = cfg.verdictQos ?? cfg.qos;
  const links = new Map<string, Link>();
  const gatewayLink: Link = { name: "gw", statusTopic: topics.gateway, status: "online", everConnected: false };
  for (const [lane, t] of topics.lanes) links.set(lane, { name: lane, statusTopic: t.status, verdictTopic: t.verdict, status: "online", everConnected: false });
  const all = [gatewayLink, ...links.values()];
  const counters = { verdictsPublished: 0, verdictsDropped: 0, reconnects: 0 };
  const unsubs: Array<() => void> = [];
  const unknownLanes = new Set<string>();
  let closing = false;
  let startDone: (() => void) | undefined;

  function publishStatus(link: Link): void {
    if (!link.client?.connected) return;
    link.client.publish(link.statusTopic, link.status, { qos: cfg.qos, retain: true }, (err) => {
      if (err && !closing) log.warn({ link: link.name, err: err.message }, "mqtt status publish failed");
    });
  }

  function open(link: Link): MqttClient {
    const options: IClientOptions = {
      clientId: `${cfg.clientIdPrefix}-${opts.gatewayId}-${link.name}`,
      clean: true,
      keepalive: cfg.keepaliveS,
      reconnectPeriod: cfg.reconnectMs,
      connectTimeout: cfg.connectTimeoutMs,
      protocolVersion: 4,
      queueQoSZero: false,
      will: { topic: link.statusTopic, payload: Buffer.from("offline"), qos: cfg.qos, retain: true },
    };
    if (cfg.username !== undefined) options.username = cfg.username;
    if (cfg.password !== undefined) options.password = cfg.password;
    const client = connect(cfg.url, options);
    client.on("connect", () => {
      if (link.everConnected) counters.reconnects++;
      log.info({ link: link.name, reconnect: link.everConnected }, "mqtt connected");
      link.everConnected = true;
      // The broker may have published our Last Will while we were away: restate the status.
      publishStatus(link);
    });
    client.on("offline", () => {
      if (!closing) log.warn({ code: "GW_MQTT_UNAVAILABLE", link: link.name }, "mqtt disconnected; reconnecting");
    });
    client.on("error", (err) => {
      if (!closing) log.warn({ code: "GW_MQTT_UNAVAILABLE", link: link.name, err: err.message }, "mqtt error");
    });
    return client;
  }

  return {
    start() {
      if (gatewayLink.client) return Promise.resolve();
      unsubs.push(
        opts.bus.on("lane-status", (s) => {
          const link = links.get(s.lane);
          if (!link) return;
          const next = laneStatusFor(s.state);
          if (next === link.status) return;
          link.status = next;
          publishStatus(link);
        }),
        opts.bus.on("verdict", (ev) => {
          const link = links.get(ev.lane);
          if (!link?.verdictTopic) {
            if (!unknownLanes.has(ev.lane)) log.warn({ lane: ev.lane }, "verdict for a lane without an mqtt topic");
            unknownLanes.add(ev.lane);
            return;
          }
          if (!link.client?.connected) {
            counters.verdictsDropped++;
            return;
          }
          const w = toWireEvent(ev);
          const payload = JSON.stringify({ id: w.id, gatewayId: w.gatewayId, lane: w.lane, seq: w.seq, at: w.at, verdict: w.verdict, reason: w.reason, format: w.format });
          counters.verdictsPublished++;
          link.client.publish(link.verdictTopic, payload, { qos: verdictQos, retain: false }, (err) => {
            if (err && !closing) log.warn({ lane: ev.lane, err: err.message }, "mqtt verdict publish failed");
          });
        }),
      );
      for (const link of all) link.client = open(link);
      // Wait for the first connection of every link, but never block start-up on an optional broker.
      return new Promise<void>((resolve) => {
        let left = all.length;
        const done = () => {
          clearTimeout(startTimer);
          startDone = undefined;
          resolve();
        };
        const startTimer = setTimeout(() => {
          if (left > 0) log.warn({ code: "GW_MQTT_UNAVAILABLE", waiting: left }, "mqtt broker not reachable yet; continuing and retrying");
          done();
        }, cfg.connectTimeoutMs);
        startDone = done;
        for (const link of all) {
          link.client!.once("connect", () => {
            if (--left === 0) done();
          });
        }
      });
    },

    async close() {
      if (closing) return;
      closing = true;
      startDone?.();
      for (const u of unsubs.splice(0)) u();
      await Promise.all(
        all.map(async (link) => {
          const c = link.client;
          if (!c) return;
          // A clean shutdown does not trigger the will: say "offline" ourselves, then disconnect.
          if (c.connected) {
            await c.publishAsync(link.statusTopic, "offline", { qos: cfg.qos, retain: true }).catch(() => undefined);
          }
          await c.endAsync(!c.connected).catch(() => undefined);
        }),
      );
    },

    stats() {
      return { ...counters, connected: all.filter((l) => l.client?.connected).length, links: all.length };
    },

    async publish(topic, payload, o) {
      const c = gatewayLink.client;
      if (closing || !c?.connected) return false;
      await c.publishAsync(topic, payload, { qos: cfg.qos, retain: o.retain });
      return true;
    },
  };
}
