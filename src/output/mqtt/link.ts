import type { IClientOptions, MqttClient } from "mqtt";
import type { MqttConfig } from "../options.js";
import type { LinkStatus } from "./topics.js";

/** One connection with its own Last Will: the broker can only announce a dead connection. */
export interface Link {
  name: string;
  lane?: string;
  statusTopic: string;
  status: LinkStatus;
  paused: boolean;
  client?: MqttClient;
  everConnected: boolean;
}

/** The mqtt.js options of one link: its own client id and its own Last Will on its status topic. */
export function linkOptions(cfg: MqttConfig, gatewayId: string, link: Link, keepaliveS: number, tls: Partial<IClientOptions>): IClientOptions {
  const options: IClientOptions = {
    clientId: `${cfg.clientIdPrefix}-${gatewayId}-${link.name}`,
    clean: true,
    keepalive: keepaliveS,
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
  return options;
}

/**
 * mqtt.js re-sends every unacknowledged QoS 1 message on the next CONNACK, even with a clean
 * session: a verdict would reach a barrier as late as the outage lasted, and a status from before
 * it would overwrite the one restated on connect. Called when a connection closes: whatever was in
 * flight dies with it. Each removal calls the message's callback with an error while disconnected.
 */
export function dropInFlight(client: MqttClient): void {
  for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
}

/**
 * Says `offline` on the link's status topic (a clean disconnect does not trigger the will), then
 * disconnects. A broker that stops acknowledging (or vanishes while the connection still looks up)
 * would keep both steps waiting for ever, since the client keeps a QoS 1 message across a lost
 * connection, and with them a reload (verdicts held in memory) or the shutdown: each step gets
 * `ms`, then the connection is dropped without waiting.
 */
export async function closeLink(link: Link, qos: MqttConfig["qos"], ms: number): Promise<void> {
  const c = link.client;
  if (!c) return;
  const answered = c.connected && (await settlesWithin(c.publishAsync(link.statusTopic, "offline", { qos, retain: true }), ms));
  // Once a graceful end waits, a forced one is a no-op in mqtt.js: only the socket can be cut.
  if (!(await settlesWithin(c.endAsync(!answered), ms))) c.stream?.destroy();
}

/** True once `p` settles (resolved or rejected), false when `ms` pass first. */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([p.then(() => true, () => true), late]).finally(() => clearTimeout(timer));
}
