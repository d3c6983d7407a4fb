import { afterAll, afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { GatewayMetrics } from "../../src/output/metrics/index.js";
import { mqttSection } from "../../src/output/options.js";
import { fillTopic, laneStatusFor, topicsFor } from "../../src/output/mqtt/topics.js";
import { bundleChild, freePort, lane, makeEvent, MqttTestKit, rid, SHARED_MQTT, waitFor } from "./helpers.js";

const kit = new MqttTestKit();
let child: ChildProcess | undefined;

afterEach(async () => {
  child?.kill("SIGKILL");
  child = undefined;
  await kit.cleanup();
});
afterAll(() => kit.clearRetained());

const statusTopics = (prefix: string) => ({ gw: `${prefix}/gw-m/status`, L1: `${prefix}/gw-m/lanes/L1/status`, L2: `${prefix}/gw-m/lanes/L2/status` });

describe("MQTT output against the real Mosquitto", () => {
  it("publishes each lane's real status, retained, and tracks lane state", async () => {
    const { prefix, bus, out, states } = kit.output();
    states.set("L1", lane("L1", "idle"));
    states.set("L2", lane("L2", "out-of-service", ["CAMERAS_DOWN"]));
    await out.start();
    expect(out.stats()).toMatchObject({ connected: 3, links: 3 });
    const t = statusTopics(prefix);
    const fresh = await kit.watch(`${prefix}/+/+/+/status`);
    await kit.watch(`${prefix}/gw-m/status`);
    const all = await kit.watch(`${prefix}/#`);
    await waitFor(() => all.last.has(t.gw) && all.last.has(t.L1) && all.last.has(t.L2), "three retained statuses");
    expect([all.last.get(t.gw), all.last.get(t.L1), all.last.get(t.L2)]).toEqual(["online", "online", "out-of-service"]);
    expect(all.last.get(`${prefix}/gw-m/lanes/L1/paused`)).toBe("OFF");
    expect(fresh.all.every((m) => m.retain)).toBe(true);

    bus.emit("lane-status", lane("L1", "out-of-service", ["CAMERAS_DOWN"]));
    bus.emit("lane-status", lane("L2", "paused"));
    const later = await kit.watch(`${prefix}/#`);
    await waitFor(() => later.last.get(t.L1) === "out-of-service" && later.last.get(t.L2) === "out-of-service" && later.last.get(`${prefix}/gw-m/lanes/L2/paused`) === "ON", "out-of-service and paused retained");
    bus.emit("lane-status", lane("L1", "pass"));
    await waitFor(() => later.last.get(t.L1) === "online", "back online");
  });

  it("sends non-retained verdict JSON with camera id, ISO-8601 and epoch-second time, and only PII-free fields", async () => {
    const { prefix, bus, out } = kit.output();
    await out.start();
    const w = await kit.watch(`${prefix}/#`);
    const ev = makeEvent("gw-m", "L2", 7, { at: Date.UTC(2026, 10, 30, 16, 20, 5, 123) });
    bus.emit("verdict", { ...ev, payload: "HC1:SECRET", name: "Nguyen Van A" } as typeof ev);
    const topic = `${prefix}/gw-m/lanes/L2/verdict`;
    await waitFor(() => w.last.has(topic), "verdict event");
    const msg = w.all.find((m) => m.topic === topic)!;
    expect(msg.retain).toBe(false);
    expect(JSON.parse(msg.payload)).toEqual({
      id: "gw-m:L2:7", gatewayId: "gw-m", lane: "L2", camera: "cam-L2", seq: 7, verdict: "PASS", reason: "OK", format: "dcc",
      time: "2026-11-30T16:20:05.123Z", timestamp: 1796055605.123,
    });
    expect(msg.payload).not.toContain("SECRET");
    expect(msg.payload).not.toContain("Nguyen");
    const fresh = await kit.watch(`${prefix}/#`);
    await waitFor(() => fresh.last.size >= 3, "retained statuses");
    expect(fresh.last.has(topic)).toBe(false);
    expect(out.stats().verdictsPublished).toBe(1);
  });

  it("says offline on a clean close", async () => {
    const { prefix, out, states } = kit.output();
    states.set("L1", lane("L1", "idle"));
    await out.start();
    await out.close();
    const t = statusTopics(prefix);
    const fresh = await kit.watch(`${prefix}/#`);
    await waitFor(() => fresh.last.has(t.gw) && fresh.last.has(t.L1) && fresh.last.has(t.L2), "retained statuses");
    expect([fresh.last.get(t.gw), fresh.last.get(t.L1), fresh.last.get(t.L2)]).toEqual(["offline", "offline", "offline"]);
  });

  it("Last Will: the broker marks gateway and lanes offline when the gateway process is SIGKILLed", async () => {
    const file = await bundleChild();
    const prefix = kit.prefix();
    const w = await kit.watch(`${prefix}/+/status`);
    const wl = await kit.watch(`${prefix}/+/lanes/+/status`);
    child = spawn(process.execPath, [file, JSON.stringify({ url: SHARED_MQTT, prefix, gatewayId: "gw-k", lanes: ["L1", "L2"] })], { stdio: ["ignore", "pipe", "inherit"] });
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    expect(line.toString()).toContain("ready 3");
    const values = () => [...w.last.values(), ...wl.last.values()];
    await waitFor(() => values().filter((v) => v === "online").length === 3, "online from the child");
    child.kill("SIGKILL");
    await waitFor(() => values().length === 3 && values().every((v) => v === "offline"), "Last Will offline on all three topics");
    expect([...w.last.keys(), ...wl.last.keys()].sort()).toEqual([`${prefix}/gw-k/lanes/L1/status`, `${prefix}/gw-k/lanes/L2/status`, `${prefix}/gw-k/status`]);
  });

  it("after a cut connection it restates the lane's state as it is now, never a remembered online", async () => {
    expect.hasAssertions();
    const { prefix, out, clients, lines, states } = kit.output();
    states.set("L1", lane("L1", "idle"));
    await out.start();
    const topic = `${prefix}/gw-m/lanes/L1/status`;
    const w = await kit.watch(topic);
    await waitFor(() => w.last.get(topic) === "online", "online first");
    const mark = w.all.length;
    // The lane loses its cameras while the link is down: no bus event reaches the output meanwhile.
    const laneClient = clients[1]!;
    laneClient.stream.destroy();
    states.set("L1", lane("L1", "out-of-service", ["CAMERAS_DOWN"]));
    await waitFor(() => w.all.slice(mark).some((m) => m.payload === "offline"), "the will after the cut");
    await waitFor(() => w.last.get(topic) === "out-of-service" && out.stats().reconnects >= 1, "the real status after reconnect");
    await new Promise((r) => setTimeout(r, 500));
    expect(w.all.slice(mark).map((m) => m.payload)).not.toContain("online");
    expect(lines.some((l) => l.includes("GW_MQTT_UNAVAILABLE"))).toBe(true);
  });

  it("does not block start on a dead broker and drops (counts) verdicts while disconnected", async () => {
    const port = await freePort();
    const { bus, out } = kit.output({ url: `mqtt://127.0.0.1:${port}`, connectTimeoutMs: 300 });
    await out.start();
    bus.emit("verdict", makeEvent("gw-m", "L1", 1));
    expect(out.stats()).toMatchObject({ connected: 0, verdictsDropped: 1, verdictsPublished: 0 });
  });

  it("counts publishes the client reports failed, per kind, and exports them on /metrics while the other messages go out", async () => {
    const disc = `ha-${rid()}`;
    // Real clients on the real broker, except that publishing to the chosen topics calls back with an
    // error, as mqtt.js does for a write the broker or the socket refuses.
    const refused = (t: string) => /\/lanes\/L1\/(status|paused|verdict)$|\/stats$/.test(t) || t.startsWith(`${disc}/`);
    const connect = ((url: string, o: IClientOptions) => {
      const c = mqtt.connect(url, o);
      const publish = c.publish.bind(c) as (t: string, m: string, o: object, cb?: (e?: Error) => void) => MqttClient;
      c.publish = ((t: string, m: string, po: object, cb?: (e?: Error) => void) => {
        if (!refused(t)) return publish(t, m, po, cb);
        setImmediate(() => cb?.(new Error("refused by the broker")));
        return c;
      }) as MqttClient["publish"];
      return c;
    }) as typeof mqtt.connect;
    const { prefix, bus, out, states, lines } = kit.output({ restateStatus: false, statsIntervalS: 0, homeAssistant: { enabled: true, discoveryPrefix: disc } }, { connect });
    states.set("L1", lane("L1", "idle"));
    states.set("L2", lane("L2", "idle"));
    const w = await kit.watch(`${prefix}/#`);
    await out.start();
    bus.emit("verdict", makeEvent("gw-m", "L1", 1));
    bus.emit("verdict", makeEvent("gw-m", "L1", 2));
    bus.emit("verdict", makeEvent("gw-m", "L2", 3));
    await waitFor(() => w.last.has(`${prefix}/gw-m/lanes/L2/verdict`) && out.stats().publishErrors.verdict === 2, "L2's verdict delivered, L1's two failed");
    // One status and one paused state per connect of L1, one stats message, three discovery sensors per lane.
    expect(out.stats().publishErrors).toEqual({ status: 1, paused: 1, stats: 1, discovery: 6, verdict: 2 });
    // A refused verdict is an error, not also a published one: only L2's counts as published.
    await waitFor(() => out.stats().verdictsPublished === 1, "L2's verdict acknowledged");
    expect(out.stats().verdictsPublished).toBe(1);
    expect(w.last.get(`${prefix}/gw-m/lanes/L2/status`)).toBe("online");
    expect(w.last.has(`${prefix}/gw-m/lanes/L1/status`)).toBe(false);
    expect(lines.filter((l) => l.includes("mqtt verdict publish failed"))).toHaveLength(2);

    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors({ mqtt: () => out.stats() });
    const text = await m.render();
    for (const [kind, n] of [["status", 1], ["paused", 1], ["stats", 1], ["discovery", 6], ["verdict", 2]] as const) {
      expect(text).toContain(`checkpoint_gateway_mqtt_publish_errors_total{kind="${kind}"} ${n}\n`);
    }
    // The kind is the only label: no topic, lane or payload reaches the time-series database.
    expect(text.match(/^checkpoint_gateway_mqtt_publish_errors_total\{[^}]*\}/gm)!.every((l) => /^[^{]+\{kind="[a-z]+"\}$/.test(l))).toBe(true);
  });

  it("reports every publish kind at 0 before anything failed", async () => {
    const { out } = kit.output({ restateStatus: false });
    await out.start();
    expect(out.stats().publishErrors).toEqual({ status: 0, paused: 0, stats: 0, discovery: 0, verdict: 0 });
  });
});

describe("MQTT topics", () => {
  const cfg = mqttSection.parse({ url: "mqtt://x", topicPrefix: "cp" })!;
  it("fills templates and rejects wildcards, empty levels and collisions", () => {
    expect(topicsFor(cfg, "gw-1", ["L1"]).lanes.get("L1")).toEqual({
      status: "cp/gw-1/lanes/L1/status",
      verdict: "cp/gw-1/lanes/L1/verdict",
      paused: "cp/gw-1/lanes/L1/paused",
      commands: { pause: "cp/gw-1/lanes/L1/pause/set", resume: "cp/gw-1/lanes/L1/resume/set" },
    });
    expect(topicsFor(cfg, "gw-1", ["L1"]).stats).toBe("cp/gw-1/stats");
    expect(() => fillTopic("{prefix}/+/x", { prefix: "cp", gateway: "g" })).toThrow(/invalid topic/);
    expect(() => fillTopic("{prefix}//{gateway}", { prefix: "cp", gateway: "g" })).toThrow(/invalid topic/);
    expect(() => topicsFor({ ...cfg, topics: { ...cfg.topics, laneStatus: "{prefix}/{gateway}/s", verdict: "{prefix}/{gateway}/v" } }, "g", ["L1", "L2"])).toThrow(/same topic/);
    expect(() => topicsFor({ ...cfg, topics: { ...cfg.topics, laneCommand: "{prefix}/{gateway}/lanes/{lane}/set" } }, "g", ["L1"])).toThrow(/same topic/);
  });

  it("a lane is online only in service: unknown, paused and out-of-service are not", () => {
    expect(["idle", "pass", "flag"].map((s) => laneStatusFor(s as "idle"))).toEqual(["online", "online", "online"]);
    expect(laneStatusFor(undefined)).toBe("out-of-service");
    expect(laneStatusFor("paused")).toBe("out-of-service");
    expect(laneStatusFor("out-of-service")).toBe("out-of-service");
  });
});
