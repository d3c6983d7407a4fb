import mqtt, { type MqttClient } from "mqtt";
import { guarded } from "../../core/faults.js";
import { secretMasker } from "../../core/mask.js";
import type { LaneStatus } from "../../core/types.js";
import { gatewayVersion } from "../../core/version.js";
import { commandRunner } from "./commands.js";
import { discoveryMessages, discoveryNode } from "./discovery.js";
import { resolveKeepalive } from "./keepalive.js";
import { closeLink, dropInFlight, linkOptions, settlesWithin, type Link } from "./link.js";
import { statsPayload, verdictPayload, type CommandAuth, type StatsSnapshot } from "./payloads.js";
import { createSweeper, sweepPlan } from "./sweep.js";
import { tlsOptions } from "./tls.js";
import { laneStatusFor, LANE_COMMANDS, topicsFor, type LaneCommand } from "./topics.js";
import { MQTT_PUBLISH_KINDS, type MqttOutput, type MqttOutputOptions, type MqttPublishKind } from "./types.js";

export { MQTT_PUBLISH_KINDS, type LaneActions, type MqttOutput, type MqttOutputOptions, type MqttOutputStats, type MqttPublishKind } from "./types.js";

const DEFAULT_HEARTBEAT_MS = 2000;

/**
 * Signal lights and barriers: one MQTT connection per lane plus one for the gateway, each with a
 * retained status topic and a Last Will "offline" on it, so a killed or frozen gateway turns
 * every lane's light off at the broker without the subscriber having to combine topics. A lane
 * is `online` only while it is in service: the status published on every (re)connect is the
 * lane's real one, and a lane not heard from yet is `out-of-service`. Verdicts are non-retained
 * and are dropped (counted) while disconnected: a verdict delivered late could open a barrier
 * for the wrong person.
 */
export function createMqttOutput(opts: MqttOutputOptions): MqttOutput {
  const cfg = opts.config;
  const log = opts.logger.child({ module: "output.mqtt" });
  const connect = opts.connect ?? mqtt.connect;
  const now = opts.now ?? Date.now;
  const topics = topicsFor(cfg, opts.gatewayId, opts.lanes);
  const keep = resolveKeepalive(cfg.keepaliveS, opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  // Restated statuses are the lane's state read now, like on a reconnect: never a remembered one.
  const verdictQos = cfg.verdictQos ?? cfg.qos;
  const version = gatewayVersion();
  const startedAt = now();
  const commandAuth: CommandAuth = cfg.commands.auth === "acl" ? { mode: "acl" } : { mode: "token", token: cfg.commands.token ?? "" };
  // The token must never reach a log line, even inside an error message from a library.
  secretMasker.add(cfg.commands.token, cfg.password);
  // Read once: a missing CA or key file is a config error at start, not a reconnect loop.
  const tls = tlsOptions(cfg);
  const commandsOn = cfg.commands.enabled && opts.actions !== undefined;
  const links = new Map<string, Link>();
  const gatewayLink: Link = { name: "gw", statusTopic: topics.gateway, status: "online", paused: false, everConnected: false };
  for (const [lane, t] of topics.lanes) {
    links.set(lane, { name: lane, lane, statusTopic: t.status, status: "out-of-service", paused: false, everConnected: false });
  }
  const all = [gatewayLink, ...links.values()];
  const counters = { verdictsPublished: 0, verdictsDropped: 0, reconnects: 0, commandsAccepted: 0, commandsRejected: 0, statsPublished: 0 };
  const publishErrors = Object.fromEntries(MQTT_PUBLISH_KINDS.map((k) => [k, 0])) as Record<MqttPublishKind, number>;
  const unsubs: Array<() => void> = [];
  const unknownLanes = new Set<string>();
  let closing = false;
  let startDone: (() => void) | undefined;
  let statsTimer: NodeJS.Timeout | undefined;
  let restateTimer: NodeJS.Timeout | undefined;
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const runCommand = opts.actions && commandRunner(commandAuth, opts.actions, counters, log);
  // Fixed for this output's life (the config does not change under it): published on every connect,
  // and what the sweep keeps. A token cannot go into a retained config, so the switch needs ACL auth.
  const discovery = cfg.homeAssistant.enabled
    ? discoveryMessages({
        discoveryPrefix: cfg.homeAssistant.discoveryPrefix,
        gatewayId: opts.gatewayId,
        version,
        topics,
        switchEnabled: commandsOn && cfg.commands.auth === "acl",
        ...(cfg.restateStatus ? { expireAfterS: Math.ceil(keep.displayTimeoutMs / 1000) } : {}),
      })
    : undefined;

  // Counted as well as logged, so a broker that takes connections but refuses messages can be alerted
  // on. Failures while closing are the shutdown's own, not the broker's: neither logged nor counted.
  // A message the lost connection took with it is not a broker failure: see dropInFlight.
  const warnPublish = (kind: MqttPublishKind, link: Link) => (err?: Error) => {
    if (!err || closing || !link.client?.connected) return;
    publishErrors[kind]++;
    log.warn({ link: link.name, err: err.message }, `mqtt ${kind} publish failed`);
  };
  const sweeper = createSweeper(
    sweepPlan({
      prefix: cfg.topicPrefix,
      gatewayId: opts.gatewayId,
      templates: cfg.topics,
      topics,
      ...(opts.keepRetained ? { keep: opts.keepRetained } : {}),
      ...(discovery ? { discovery: { prefix: cfg.homeAssistant.discoveryPrefix, node: discoveryNode(opts.gatewayId), topics: discovery.keys() } } : {}),
    }),
    cfg.qos,
    log,
    (kind) => warnPublish(kind, gatewayLink),
  );

  /** The lane's state read now; a source that throws reads as unknown, i.e. out-of-service (fail safe). */
  function readLane(lane: string): LaneStatus | undefined {
    try {
      return opts.laneStatus?.(lane);
    } catch (e) {
      log.warn({ lane, err: secretMasker.mask((e as Error).message) }, "lane status unreadable; reported out-of-service on mqtt");
      return undefined;
    }
  }

  function applyStatus(link: Link, s: LaneStatus | undefined): void {
    link.status = laneStatusFor(s?.state);
    link.paused = s?.state === "paused";
  }

  function publishStatus(link: Link): void {
    if (!link.client?.connected) return;
    link.client.publish(link.statusTopic, link.status, { qos: cfg.qos, retain: true }, warnPublish("status", link));
    if (link.lane) link.client.publish(topics.lanes.get(link.lane)!.paused, link.paused ? "ON" : "OFF", { qos: cfg.qos, retain: true }, warnPublish("paused", link));
  }

  function snapshotStats(): StatsSnapshot | undefined {
    try {
      return opts.stats?.();
    } catch (e) {
      log.warn({ err: (e as Error).message }, "mqtt stats source failed");
      return undefined;
    }
  }

  function publishStats(): void {
    const c = gatewayLink.client;
    if (!c?.connected || closing) return;
    const s = self.stats();
    const payload = statsPayload(snapshotStats(), {
      gatewayId: opts.gatewayId,
      version,
      nowMs: now(),
      startedAtMs: startedAt,
      mqtt: { connected: s.connected, links: s.links, reconnects: s.reconnects, verdictsPublished: s.verdictsPublished, verdictsDropped: s.verdictsDropped, commandsAccepted: s.commandsAccepted, commandsRejected: s.commandsRejected },
    });
    counters.statsPublished++;
    c.publish(topics.stats, JSON.stringify(payload), { qos: 0, retain: true }, warnPublish("stats", gatewayLink));
  }

  function publishDiscovery(): void {
    const c = gatewayLink.client;
    if (!discovery || !c?.connected) return;
    for (const [topic, body] of discovery) c.publish(topic, JSON.stringify(body), { qos: 1, retain: true }, warnPublish("discovery", gatewayLink));
  }

  function open(link: Link): MqttClient {
    const client = connect(cfg.url, linkOptions(cfg, opts.gatewayId, link, keep.keepaliveS, tls));
    const commandTopics = new Map<string, LaneCommand>();
    if (link.lane && commandsOn) for (const c of LANE_COMMANDS) commandTopics.set(topics.lanes.get(link.lane)!.commands[c], c);
    client.on("connect", () => {
      if (link.everConnected) counters.reconnects++;
      log.info({ link: link.name, reconnect: link.everConnected }, "mqtt connected");
      link.everConnected = true;
      // The broker may have published our Last Will while we were away: restate the real status
      // (read now, not remembered from before the outage) before anything else.
      if (link.lane && opts.laneStatus) applyStatus(link, readLane(link.lane));
      publishStatus(link);
      if (link === gatewayLink) {
        publishDiscovery();
        publishStats();
        sweeper.subscribe(client, () => closing);
      }
      if (commandTopics.size > 0) {
        client.subscribe([...commandTopics.keys()], { qos: 1 }, (err) => {
          if (err && !closing) log.warn({ link: link.name, err: err.message }, "mqtt command subscribe failed");
        });
      }
    });
    client.on("message", (topic, payload, packet) => {
      if (link === gatewayLink) {
        sweeper.onMessage(client, topic, payload, packet.retain);
        return;
      }
      const command = commandTopics.get(topic);
      // A retained command would pause a lane again at every restart: only live ones count.
      if (!command || packet.retain) return;
      runCommand?.(link.lane!, command, payload);
    });
    // Whatever was in flight dies with the connection: never re-sent late (link.ts).
    client.on("close", () => dropInFlight(client));
    client.on("offline", () => {
      if (!closing) log.warn({ code: "GW_MQTT_UNAVAILABLE", link: link.name }, "mqtt disconnected; reconnecting");
    });
    client.on("error", (err) => {
      if (!closing) log.warn({ code: "GW_MQTT_UNAVAILABLE", link: link.name, err: err.message }, "mqtt error");
    });
    return client;
  }

  const self: MqttOutput = {
    start() {
      if (gatewayLink.client) return Promise.resolve();
      if (cfg.commands.enabled && !commandsOn) log.warn("mqtt.commands.enabled but this process has no lane actions: command topics are not subscribed");
      if (keep.tooLong) {
        log.warn({ keepaliveS: keep.keepaliveS, displayTimeoutMs: keep.displayTimeoutMs }, "mqtt.keepaliveS is too long: a frozen gateway stays online on MQTT after the screens show OUT OF SERVICE");
      }
      for (const link of links.values()) if (opts.laneStatus) applyStatus(link, readLane(link.lane!));
      unsubs.push(
        opts.bus.on("lane-status", (s) => {
          const link = links.get(s.lane);
          if (!link) return;
          const before = `${link.status}/${link.paused}`;
          applyStatus(link, s);
          if (`${link.status}/${link.paused}` !== before) publishStatus(link);
        }),
        opts.bus.on("verdict", (ev) => {
          const link = links.get(ev.lane);
          if (!link) {
            if (!unknownLanes.has(ev.lane)) log.warn({ lane: ev.lane }, "verdict for a lane without an mqtt topic");
            unknownLanes.add(ev.lane);
            return;
          }
          if (!link.client?.connected) {
            counters.verdictsDropped++;
            return;
          }
          const failed = warnPublish("verdict", link);
          // Counted when the client reports it sent (QoS 0) or acknowledged (QoS 1+), not when handed
          // over: a verdict the broker refused is a publish error, not also a published verdict.
          const client = link.client;
          client.publish(topics.lanes.get(ev.lane)!.verdict, JSON.stringify(verdictPayload(ev)), { qos: verdictQos, retain: false }, (err?: Error) => {
            // Lost with the connection (never re-sent): dropped, like one emitted while disconnected.
            if (err && !client.connected && !closing) counters.verdictsDropped++;
            else if (err) failed(err);
            else counters.verdictsPublished++;
          });
        }),
      );
      for (const link of all) link.client = open(link);
      if (cfg.statsIntervalS > 0) {
        // Raw intervals (unref'd, so they never hold the process open) but guarded like the clock's timers.
        statsTimer = setInterval(guarded(publishStats, "mqtt.stats", "timer"), cfg.statsIntervalS * 1000);
        statsTimer.unref();
      }
      if (cfg.restateStatus) {
        restateTimer = setInterval(
          guarded(() => {
            for (const link of all) {
              if (link.lane && opts.laneStatus) applyStatus(link, readLane(link.lane));
              publishStatus(link);
            }
          }, "mqtt.restate", "timer"),
          heartbeatMs,
        );
        restateTimer.unref();
      }
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
      if (statsTimer) clearInterval(statsTimer);
      if (restateTimer) clearInterval(restateTimer);
      for (const u of unsubs.splice(0)) u();
      await Promise.all(all.map((link) => closeLink(link, cfg.qos, cfg.connectTimeoutMs)));
    },

    stats() {
      return { ...counters, connected: all.filter((l) => l.client?.connected).length, links: all.length, keepaliveS: keep.keepaliveS, publishErrors: { ...publishErrors } };
    },

    async publish(topic, payload, o) {
      const c = gatewayLink.client;
      if (closing || !c?.connected) return false;
      const sent = c.publishAsync(topic, payload, { qos: cfg.qos, retain: o.retain });
      // Bounded like close(): the ledger anchor awaits this, also while the outputs close.
      if (!(await settlesWithin(sent, cfg.connectTimeoutMs))) throw new Error(`mqtt publish not acknowledged within ${cfg.connectTimeoutMs} ms`);
      await sent;
      return true;
    },
  };
  return self;
}
