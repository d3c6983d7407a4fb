import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import type { GatewayBus } from "../../core/bus.js";
import { guarded } from "../../core/faults.js";
import type { Logger } from "../../core/logger.js";
import { secretMasker } from "../../core/mask.js";
import type { LaneStatus } from "../../core/types.js";
import { gatewayVersion } from "../../core/version.js";
import type { MqttConfig } from "../options.js";
import { discoveryMessages } from "./discovery.js";
import { resolveKeepalive } from "./keepalive.js";
import { decideCommand, statsPayload, verdictPayload, type CommandAuth, type StatsSnapshot } from "./payloads.js";
import { tlsOptions } from "./tls.js";
import { laneStatusFor, LANE_COMMANDS, topicsFor, type LaneCommand, type LinkStatus } from "./topics.js";

/** What a remote command may do to a lane (the same actions as the admin API). */
export interface LaneActions {
  pause(lane: string): void;
  resume(lane: string): void;
}

export interface MqttOutputOptions {
  config: MqttConfig;
  gatewayId: string;
  lanes: string[];
  bus: GatewayBus;
  logger: Logger;
  /** The lane's current status, read at every (re)connect; unknown lanes count as out of service. */
  laneStatus?: (lane: string) => LaneStatus | undefined;
  /**
   * The display's SSE heartbeat (display.heartbeatMs): sizes the keepalive when keepaliveS is 0,
   * and every status is restated at this interval so a device can apply the screens' rule
   * (nothing heard for 3.5 heartbeats = offline) whatever the broker's keepalive check does.
   */
  heartbeatMs?: number;
  /** Read at each stats tick. */
  stats?: () => StatsSnapshot;
  /** Needed for command topics. */
  actions?: LaneActions;
  connect?: typeof mqtt.connect;
  now?: () => number;
}

/** What a failed publish was for: a closed set, so it can be a metric label (never a topic, lane or payload). */
export const MQTT_PUBLISH_KINDS = ["status", "paused", "stats", "discovery", "verdict"] as const;
export type MqttPublishKind = (typeof MQTT_PUBLISH_KINDS)[number];

export interface MqttOutputStats {
  connected: number;
  links: number;
  verdictsPublished: number;
  verdictsDropped: number;
  reconnects: number;
  commandsAccepted: number;
  commandsRejected: number;
  statsPublished: number;
  keepaliveS: number;
  /** Publishes the client reported failed, per kind; every kind is present (0 until one fails). */
  publishErrors: Record<MqttPublishKind, number>;
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
  lane?: string;
  statusTopic: string;
  status: LinkStatus;
  paused: boolean;
  client?: MqttClient;
  everConnected: boolean;
}

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

  // Counted as well as logged, so a broker that takes connections but refuses messages can be alerted
  // on. Failures while closing are the shutdown's own, not the broker's: neither logged nor counted.
  // A message the lost connection took with it is not a broker failure: see dropInFlight.
  const warnPublish = (kind: MqttPublishKind, link: Link) => (err?: Error) => {
    if (!err || closing || !link.client?.connected) return;
    publishErrors[kind]++;
    log.warn({ link: link.name, err: err.message }, `mqtt ${kind} publish failed`);
  };

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
    if (!cfg.homeAssistant.enabled || !c?.connected) return;
    // A token cannot go into a retained discovery config, so the switch exists only with ACL auth.
    const msgs = discoveryMessages({
      discoveryPrefix: cfg.homeAssistant.discoveryPrefix,
      gatewayId: opts.gatewayId,
      version,
      topics,
      switchEnabled: commandsOn && cfg.commands.auth === "acl",
      ...(cfg.restateStatus ? { expireAfterS: Math.ceil(keep.displayTimeoutMs / 1000) } : {}),
    });
    for (const [topic, body] of msgs) c.publish(topic, JSON.stringify(body), { qos: 1, retain: true }, warnPublish("discovery", gatewayLink));
  }

  function onCommand(link: Link, command: LaneCommand, payload: Buffer): void {
    const lane = link.lane!;
    const d = decideCommand(command, payload, commandAuth);
    if (!d.ok) {
      counters.commandsRejected++;
      // Never the payload: it may hold a (wrong) token.
      log.warn({ code: "GW_MQTT_COMMAND_REJECTED", lane, command, reason: d.reason }, "mqtt command rejected");
      return;
    }
    try {
      if (d.action === "pause") opts.actions!.pause(lane);
      else opts.actions!.resume(lane);
      counters.commandsAccepted++;
      log.info({ lane, command: d.action, via: "mqtt" }, "lane command");
    } catch (e) {
      counters.commandsRejected++;
      log.warn({ code: "GW_MQTT_COMMAND_REJECTED", lane, command: d.action, err: (e as Error).message }, "mqtt command failed");
    }
  }

  function open(link: Link): MqttClient {
    const options: IClientOptions = {
      clientId: `${cfg.clientIdPrefix}-${opts.gatewayId}-${link.name}`,
      clean: true,
      keepalive: keep.keepaliveS,
      reconnectPeriod: cfg.reconnectMs,
      connectTimeout: cfg.connectTimeoutMs,
      protocolVersion: 4,
      queueQoSZero: false,
      // Subscriptions are made again in the connect handler, after the status is restated.
      resubscribe: false,
      will: { topic: link.statusTopic, payload: Buffer.from("offline"), qos: cfg.qos, retain: true },
      ...tls,
    };
    if (cfg.username !== undefined) options.username = cfg.username;
    if (cfg.password !== undefined) options.password = cfg.password;
    const client = connect(cfg.url, options);
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
      }
      if (commandTopics.size > 0) {
        client.subscribe([...commandTopics.keys()], { qos: 1 }, (err) => {
          if (err && !closing) log.warn({ link: link.name, err: err.message }, "mqtt command subscribe failed");
        });
      }
    });
    client.on("message", (topic, payload, packet) => {
      const command = commandTopics.get(topic);
      // A retained command would pause a lane again at every restart: only live ones count.
      if (!command || packet.retain) return;
      onCommand(link, command, payload);
    });
    // mqtt.js re-sends every unacknowledged QoS 1 message on the next CONNACK, even with a clean
    // session: a verdict would reach a barrier as late as the outage lasted, and a status from
    // before it would overwrite the one restated on connect. Whatever was in flight dies here.
    client.on("close", () => dropInFlight(client));
    client.on("offline", () => {
      if (!closing) log.warn({ code: "GW_MQTT_UNAVAILABLE", link: link.name }, "mqtt disconnected; reconnecting");
    });
    client.on("error", (err) => {
      if (!closing) log.warn({ code: "GW_MQTT_UNAVAILABLE", link: link.name, err: err.message }, "mqtt error");
    });
    return client;
  }

  function dropInFlight(client: MqttClient): void {
    // Each removal calls the message's callback with an error while the client is disconnected.
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
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
      // A broker that stops acknowledging (or vanishes while the connection still looks up) would
      // keep both steps waiting for ever, since the client keeps a QoS 1 message across a lost
      // connection, and with them a reload (verdicts held in memory) or the shutdown: each step
      // gets connectTimeoutMs, then the connection is dropped without waiting.
      const ms = cfg.connectTimeoutMs;
      await Promise.all(
        all.map(async (link) => {
          const c = link.client;
          if (!c) return;
          // A clean shutdown does not trigger the will: say "offline" ourselves, then disconnect.
          const answered = c.connected && (await settlesWithin(c.publishAsync(link.statusTopic, "offline", { qos: cfg.qos, retain: true }), ms));
          // Once a graceful end waits, a forced one is a no-op in mqtt.js: only the socket can be cut.
          if (!(await settlesWithin(c.endAsync(!answered), ms))) c.stream?.destroy();
        }),
      );
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

/** True once `p` settles (resolved or rejected), false when `ms` pass first. */
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([p.then(() => true, () => true), late]).finally(() => clearTimeout(timer));
}
