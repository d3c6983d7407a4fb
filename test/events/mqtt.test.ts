import { afterAll, afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { once } from "node:events";
import mqtt, { type MqttClient } from "mqtt";
import { rolldown } from "rolldown";
import { GatewayBus } from "../../src/core/bus.js";
import { mqttSection } from "../../src/config/sections/outputs.js";
import { createMqttOutput, type MqttOutput } from "../../src/output/mqtt/mqtt-output.js";
import { fillTopic, topicsFor } from "../../src/output/mqtt/topics.js";
import { captureLogger, freePort, makeEvent, rid, SHARED_MQTT, waitFor } from "./helpers.js";

const outputs: MqttOutput[] = [];
const subs: MqttClient[] = [];
const prefixes: string[] = [];
let child: ChildProcess | undefined;

afterEach(async () => {
  child?.kill("SIGKILL");
  child = undefined;
  for (const o of outputs.splice(0)) await o.close();
  for (const s of subs.splice(0)) await s.endAsync(true);
});
afterAll(async () => {
  // Retained messages outlive the test: clear every retained topic we created.
  const c = await mqtt.connectAsync(SHARED_MQTT);
  const seen = new Set<string>();
  c.on("message", (t, p) => {
    if (p.length) seen.add(t);
  });
  for (const p of prefixes) await c.subscribeAsync(`${p}/#`);
  await new Promise((r) => setTimeout(r, 300));
  for (const t of seen) await c.publishAsync(t, "", { retain: true, qos: 1 });
  await c.endAsync();
});

interface Watch {
  last: Map<string, string>;
  all: Array<{ topic: string; payload: string; retain: boolean }>;
}
async function watch(prefix: string): Promise<Watch> {
  const c = await mqtt.connectAsync(SHARED_MQTT, { clientId: `test-sub-${rid()}` });
  subs.push(c);
  const w: Watch = { last: new Map(), all: [] };
  c.on("message", (topic, payload, packet) => {
    w.last.set(topic, payload.toString());
    w.all.push({ topic, payload: payload.toString(), retain: packet.retain });
  });
  await c.subscribeAsync(`${prefix}/#`, { qos: 1 });
  return w;
}

function setup(extra: Record<string, unknown> = {}) {
  const prefix = `test-${rid()}`;
  prefixes.push(prefix);
  const config = mqttSection.parse({ url: SHARED_MQTT, topicPrefix: prefix, reconnectMs: 200, connectTimeoutMs: 5000, ...extra })!;
  const bus = new GatewayBus();
  const captured = captureLogger();
  const clients: MqttClient[] = [];
  const connect = ((url: string, o: mqtt.IClientOptions) => {
    const c = mqtt.connect(url, o);
    clients.push(c);
    return c;
  }) as typeof mqtt.connect;
  const out = createMqttOutput({ config, gatewayId: "gw-m", lanes: ["L1", "L2"], bus, logger: captured.logger, connect });
  outputs.push(out);
  return { prefix, bus, out, clients, lines: captured.lines };
}

describe("MQTT output against the real Mosquitto", () => {
  it("publishes retained statuses a fresh subscriber sees, and tracks lane state", async () => {
    const { prefix, bus, out } = setup();
    await out.start();
    expect(out.stats()).toMatchObject({ connected: 3, links: 3 });
    const fresh = await watch(prefix);
    await waitFor(() => fresh.last.size === 3, "three retained statuses");
    expect(Object.fromEntries(fresh.last)).toEqual({ [`${prefix}/gw-m/status`]: "online", [`${prefix}/gw-m/lanes/L1/status`]: "online", [`${prefix}/gw-m/lanes/L2/status`]: "online" });
    expect(fresh.all.every((m) => m.retain)).toBe(true);

    bus.emit("lane-status", { lane: "L1", state: "out-of-service", problems: ["CAMERA_DOWN"] });
    bus.emit("lane-status", { lane: "L2", state: "paused", problems: [] });
    const later = await watch(prefix);
    await waitFor(() => later.last.get(`${prefix}/gw-m/lanes/L1/status`) === "out-of-service" && later.last.get(`${prefix}/gw-m/lanes/L2/status`) === "out-of-service", "out-of-service retained");
    bus.emit("lane-status", { lane: "L1", state: "pass", problems: [] });
    await waitFor(() => later.last.get(`${prefix}/gw-m/lanes/L1/status`) === "online", "back online");
  });

  it("sends non-retained verdict events with only PII-free fields", async () => {
    const { prefix, bus, out } = setup();
    await out.start();
    const w = await watch(prefix);
    bus.emit("verdict", makeEvent("gw-m", "L2", 7));
    const topic = `${prefix}/gw-m/lanes/L2/verdict`;
    await waitFor(() => w.last.has(topic), "verdict event");
    const msg = w.all.find((m) => m.topic === topic)!;
    expect(msg.retain).toBe(false);
    expect(JSON.parse(msg.payload)).toEqual({ id: "gw-m:L2:7", gatewayId: "gw-m", lane: "L2", seq: 7, at: makeEvent("gw-m", "L2", 7).at, verdict: "PASS", reason: "OK", format: "dcc" });
    const fresh = await watch(prefix);
    await waitFor(() => fresh.last.size === 3, "retained statuses");
    expect(fresh.last.has(topic)).toBe(false);
    expect(out.stats().verdictsPublished).toBe(1);
  });

  it("says offline on a clean close", async () => {
    const { prefix, out } = setup();
    await out.start();
    await out.close();
    const fresh = await watch(prefix);
    await waitFor(() => fresh.last.size === 3, "retained statuses");
    expect([...fresh.last.values()]).toEqual(["offline", "offline", "offline"]);
  });

  it("Last Will: the broker marks gateway and lanes offline when the gateway process is SIGKILLed", async () => {
    mkdirSync(".tmp/events", { recursive: true });
    const bundle = await rolldown({
      input: "test/events/fixtures/mqtt-child.ts",
      platform: "node",
      external: (id) => !id.startsWith(".") && !id.startsWith("/"),
      resolve: { extensionAlias: { ".js": [".ts", ".js"] } },
      logLevel: "warn",
    });
    await bundle.write({ file: ".tmp/events/mqtt-child.mjs", format: "esm" });
    const prefix = `test-${rid()}`;
    prefixes.push(prefix);
    const w = await watch(prefix);
    child = spawn(process.execPath, [".tmp/events/mqtt-child.mjs", JSON.stringify({ url: SHARED_MQTT, prefix, gatewayId: "gw-k", lanes: ["L1", "L2"] })], { stdio: ["ignore", "pipe", "inherit"] });
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    expect(line.toString()).toContain("ready 3");
    await waitFor(() => [...w.last.values()].filter((v) => v === "online").length === 3, "online from the child");
    child.kill("SIGKILL");
    await waitFor(() => w.last.size === 3 && [...w.last.values()].every((v) => v === "offline"), "Last Will offline on all three topics");
    expect([...w.last.keys()].sort()).toEqual([`${prefix}/gw-k/lanes/L1/status`, `${prefix}/gw-k/lanes/L2/status`, `${prefix}/gw-k/status`]);
  });

  it("reconnects by itself after the connection is cut, restating online over the Last Will", async () => {
    const { prefix, out, clients, lines } = setup();
    await out.start();
    const w = await watch(prefix);
    await waitFor(() => w.last.size === 3, "retained statuses");
    const lane = clients[1]!;
    lane.stream.destroy();
    const topic = `${prefix}/gw-m/lanes/L1/status`;
    await waitFor(() => w.all.some((m) => m.topic === topic && m.payload === "offline"), "the will after the cut");
    await waitFor(() => w.last.get(topic) === "online" && out.stats().reconnects >= 1, "online again after reconnect");
    expect(lines.some((l) => l.includes("GW_MQTT_UNAVAILABLE"))).toBe(true);
  });

  it("does not block start on a dead broker and drops (counts) verdicts while disconnected", async () => {
    const port = await freePort();
    const { bus, out } = setup({ url: `mqtt://127.0.0.1:${port}`, connectTimeoutMs: 300 });
    await out.start();
    bus.emit("verdict", makeEvent("gw-m", "L1", 1));
    expect(out.stats()).toMatchObject({ connected: 0, verdictsDropped: 1, verdictsPublished: 0 });
  });
});

describe("MQTT topics", () => {
  const cfg = mqttSection.parse({ url: "mqtt://x", topicPrefix: "cp" })!;
  it("fills templates and rejects wildcards, empty levels and collisions", () => {
    expect(topicsFor(cfg, "gw-1", ["L1"]).lanes.get("L1")).toEqual({ status: "cp/gw-1/lanes/L1/status", verdict: "cp/gw-1/lanes/L1/verdict" });
    expect(() => fillTopic("{prefix}/+/x", { prefix: "cp", gateway: "g" })).toThrow(/invalid topic/);
    expect(() => fillTopic("{prefix}//{gateway}", { prefix: "cp", gateway: "g" })).toThrow(/invalid topic/);
    expect(() => topicsFor({ ...cfg, topics: { ...cfg.topics, laneStatus: "{prefix}/{gateway}/s", verdict: "{prefix}/{gateway}/v" } }, "g", ["L1", "L2"])).toThrow(/same topic/);
  });
});
