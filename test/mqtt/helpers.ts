import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { connect as tcpConnect } from "node:net";
import { bundleFixture } from "../support/bundle.js";
import { GatewayBus } from "../../src/core/bus.js";
import type { LaneStatus } from "../../src/core/types.js";
import { mqttSection } from "../../src/output/options.js";
import { createMqttOutput, type MqttOutput, type MqttOutputOptions } from "../../src/output/mqtt/mqtt-output.js";
import { captureLogger, rid, SHARED_MQTT } from "../events/helpers.js";

export { captureLogger, freePort, makeEvent, rid, SHARED_MQTT, waitFor } from "../events/helpers.js";

export interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
  /** performance.now() on arrival. */
  at: number;
}
export interface Watch {
  client: MqttClient;
  last: Map<string, string>;
  all: Seen[];
}

/** Everything the tests created, to close and to clear (retained messages outlive a test). */
export class MqttTestKit {
  readonly outputs: MqttOutput[] = [];
  readonly subs: MqttClient[] = [];
  readonly prefixes: string[] = [];

  prefix(): string {
    const p = `test-${rid()}`;
    this.prefixes.push(p);
    return p;
  }

  /**
   * `retainAsPublished`: an MQTT 5 subscription that keeps each message's retain flag as published.
   * Without it the broker clears the flag on messages that arrive live, so a test that subscribes
   * while a retained message is in flight would see it unretained.
   */
  async watch(filter: string, url = SHARED_MQTT, extra: IClientOptions = {}, retainAsPublished = false): Promise<Watch> {
    const client = await mqtt.connectAsync(url, { clientId: `test-sub-${rid()}`, ...(retainAsPublished ? { protocolVersion: 5 as const } : {}), ...extra });
    this.subs.push(client);
    const w: Watch = { client, last: new Map(), all: [] };
    client.on("message", (topic, payload, packet) => {
      w.last.set(topic, payload.toString());
      w.all.push({ topic, payload: payload.toString(), retain: packet.retain, at: performance.now() });
    });
    await client.subscribeAsync(filter, { qos: 1, ...(retainAsPublished ? { rap: true } : {}) });
    return w;
  }

  /** An MQTT output on the shared broker with a fresh prefix; lane states come from `states`. */
  output(extra: Record<string, unknown> = {}, over: Partial<MqttOutputOptions> = {}, lanes = ["L1", "L2"]) {
    const prefix = this.prefix();
    // Client ids must be unique on the shared broker: a second client with the same id takes the
    // session over, and two tests (or two helpers) would keep kicking each other off.
    const config = mqttSection.parse({ url: SHARED_MQTT, topicPrefix: prefix, clientIdPrefix: `t-${rid()}`, reconnectMs: 200, connectTimeoutMs: 5000, ...extra })!;
    const bus = new GatewayBus();
    const captured = captureLogger();
    const clients: MqttClient[] = [];
    const connect = ((url: string, o: IClientOptions) => {
      const c = mqtt.connect(url, o);
      clients.push(c);
      return c;
    }) as typeof mqtt.connect;
    const states = new Map<string, LaneStatus>();
    const out = createMqttOutput({ config, gatewayId: "gw-m", lanes, bus, logger: captured.logger, connect, laneStatus: (l) => states.get(l), ...over });
    this.outputs.push(out);
    return { prefix, bus, out, clients, lines: captured.lines, states, config };
  }

  async cleanup(): Promise<void> {
    for (const o of this.outputs.splice(0)) await o.close();
    for (const s of this.subs.splice(0)) await s.endAsync(true);
  }

  /** Clears every retained topic under our prefixes (and our discovery topics). */
  async clearRetained(extraFilters: string[] = []): Promise<void> {
    const c = await mqtt.connectAsync(SHARED_MQTT);
    const seen = new Set<string>();
    c.on("message", (t, p) => {
      if (p.length) seen.add(t);
    });
    for (const f of [...this.prefixes.map((p) => `${p}/#`), ...extraFilters]) await c.subscribeAsync(f);
    await new Promise((r) => setTimeout(r, 300));
    for (const t of seen) await c.publishAsync(t, "", { retain: true, qos: 1 });
    await c.endAsync();
  }
}

export const lane = (id: string, state: LaneStatus["state"], problems: string[] = []): LaneStatus => ({ lane: id, state, problems });

/** Bundles the child fixture (TypeScript) into one ESM file node can run. */
export function bundleChild(): Promise<string> {
  return bundleFixture("test/mqtt/fixtures/mqtt-child.ts", ".tmp/mqtt/mqtt-child.mjs");
}

/** Whether something accepts TCP connections on 127.0.0.1:`port` (a broker the test started). */
export function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = tcpConnect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}
