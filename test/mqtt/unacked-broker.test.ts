/**
 * Audit 1 finding 6: a broker that takes the connection and then never acknowledges a message. The
 * client keeps a QoS 1 message waiting across a lost connection, so an unbounded close() (the
 * "offline" status, then a graceful end) blocked a reload and the shutdown for ever.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createServer, type Server, type Socket } from "node:net";
import { once } from "node:events";
import { GatewayBus } from "../../src/core/bus.js";
import { mqttSection } from "../../src/output/options.js";
import { createMqttOutput } from "../../src/output/mqtt/mqtt-output.js";
import { captureLogger, lane, makeEvent, rid } from "./helpers.js";

/**
 * Speaks just enough MQTT: a CONNACK for each connection, and a PUBACK only for the QoS 1 publishes
 * `ack` accepts (none by default); everything else is read and ignored.
 */
async function silentBroker(ack: (topic: string, payload: string) => boolean = () => false): Promise<{ url: string; closed: () => number }> {
  const sockets = new Set<Socket>();
  let closed = 0;
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => closed++);
    let buf = Buffer.alloc(0);
    s.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        // Fixed header: type and flags, then the remaining length (a varint of up to 4 bytes).
        let len = 0;
        let i = 1;
        for (let mul = 1; i < buf.length; i++, mul *= 128) {
          len += (buf[i]! & 0x7f) * mul;
          if (!(buf[i]! & 0x80)) break;
        }
        if (i >= buf.length || buf.length < i + 1 + len) return;
        const type = buf[0]! >> 4;
        const qos = (buf[0]! >> 1) & 3;
        const body = buf.subarray(i + 1, i + 1 + len);
        buf = buf.subarray(i + 1 + len);
        if (type === 1) s.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
        if (type === 3 && qos === 1) {
          const tl = body.readUInt16BE(0);
          const topic = body.subarray(2, 2 + tl).toString();
          const id = body.subarray(2 + tl, 4 + tl);
          if (ack(topic, body.subarray(4 + tl).toString())) s.write(Buffer.concat([Buffer.from([0x40, 0x02]), id]));
        }
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  brokers.push({ server, sockets });
  const { port } = server.address() as { port: number };
  return { url: `mqtt://127.0.0.1:${port}`, closed: () => closed };
}

const brokers: Array<{ server: Server; sockets: Set<Socket> }> = [];
afterEach(async () => {
  for (const { server, sockets } of brokers.splice(0)) {
    for (const s of sockets) s.destroy();
    server.close();
    await once(server, "close");
  }
});

/** Whether `p` settles before `ms`: a hang shows as "pending" instead of the test's own timeout. */
const settles = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => "settled"), new Promise((r) => setTimeout(() => r("pending"), ms).unref())]);

describe("MQTT output on a broker that never acknowledges", () => {
  it("close() ends after connectTimeoutMs per step and drops every connection, instead of waiting for ever", async () => {
    const broker = await silentBroker();
    const config = mqttSection.parse({ url: broker.url, topicPrefix: `t-${rid()}`, clientIdPrefix: `t-${rid()}`, qos: 1, connectTimeoutMs: 300, reconnectMs: 60_000, keepaliveS: 600 })!;
    const out = createMqttOutput({ config, gatewayId: "gw-n", lanes: ["L1"], bus: new GatewayBus(), logger: captureLogger().logger, laneStatus: (l) => lane(l, "idle") });
    await out.start();
    expect(out.stats()).toMatchObject({ connected: 2, links: 2 });
    // Each link's retained status went out at QoS 1 and is still waiting for its PUBACK.
    expect(await settles(out.close(), 10_000)).toBe("settled");
    // Nothing stays open to the broker: the client cut the connections it could not end cleanly.
    await expect.poll(() => broker.closed(), { timeout: 2_000 }).toBe(2);
    expect(out.stats().connected).toBe(0);
  });

  it("a broker that takes the goodbye but leaves a verdict unacknowledged: the graceful end is cut off after connectTimeoutMs", async () => {
    const broker = await silentBroker((_topic, payload) => payload === "offline");
    const config = mqttSection.parse({ url: broker.url, topicPrefix: `t-${rid()}`, clientIdPrefix: `t-${rid()}`, qos: 1, connectTimeoutMs: 300, reconnectMs: 60_000, keepaliveS: 600 })!;
    const bus = new GatewayBus();
    const out = createMqttOutput({ config, gatewayId: "gw-n", lanes: ["L1"], bus, logger: captureLogger().logger, laneStatus: (l) => lane(l, "idle") });
    await out.start();
    expect(out.stats().connected).toBe(2);
    bus.emit("verdict", makeEvent("gw-n", "L1", 1));
    // The "offline" statuses are acknowledged, so the client ends gracefully, which waits for the
    // verdict's acknowledgement; a forced end cannot overtake a graceful one in mqtt.js.
    expect(await settles(out.close(), 10_000)).toBe("settled");
    await expect.poll(() => broker.closed(), { timeout: 2_000 }).toBe(2);
  });

  it("publish() (the ledger head's retained topic) fails after connectTimeoutMs instead of waiting for ever", async () => {
    const broker = await silentBroker();
    const config = mqttSection.parse({ url: broker.url, topicPrefix: `t-${rid()}`, clientIdPrefix: `t-${rid()}`, qos: 1, connectTimeoutMs: 300, reconnectMs: 60_000, keepaliveS: 600 })!;
    const out = createMqttOutput({ config, gatewayId: "gw-n", lanes: [], bus: new GatewayBus(), logger: captureLogger().logger });
    await out.start();
    expect(out.stats().connected).toBe(1);
    const published = out.publish(`t/${rid()}/ledger/head`, "{}", { retain: true });
    expect(await settles(published.catch((e: Error) => e.message), 10_000)).toBe("settled");
    await expect(published).rejects.toThrow(/not acknowledged within 300 ms/);
    expect(await settles(out.close(), 10_000)).toBe("settled");
  });
});
