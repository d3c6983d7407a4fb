import { afterAll, afterEach, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import type { LaneActions } from "../../src/output/mqtt/mqtt-output.js";
import type { StatsSnapshot } from "../../src/output/mqtt/payloads.js";
import { lane, MqttTestKit, rid, SHARED_MQTT, waitFor } from "./helpers.js";

const kit = new MqttTestKit();
const discoveryPrefixes: string[] = [];
afterEach(() => kit.cleanup());
afterAll(() => kit.clearRetained(discoveryPrefixes.map((p) => `${p}/#`)));

const TOKEN = `tok-${rid()}-${rid()}`;

/** Lane actions that change the lane state the output reads, and announce it on the bus like a lane. */
function actionsFor(h: ReturnType<MqttTestKit["output"]>, log: string[]): LaneActions {
  const set = (id: string, paused: boolean) => {
    log.push(`${paused ? "pause" : "resume"} ${id}`);
    const s = lane(id, paused ? "paused" : "idle");
    h.states.set(id, s);
    h.bus.emit("lane-status", s);
  };
  return { pause: (id) => set(id, true), resume: (id) => set(id, false) };
}

async function publisher() {
  const c = await mqtt.connectAsync(SHARED_MQTT, { clientId: `test-pub-${rid()}` });
  kit.subs.push(c);
  return c;
}

describe("MQTT command topics", () => {
  it("token auth: pauses and resumes with the right token, refuses a wrong or missing one, never logs the token", async () => {
    expect.hasAssertions();
    const done: string[] = [];
    const holder: { actions?: LaneActions } = {};
    const h = kit.output({ commands: { enabled: true, auth: "token", token: TOKEN } }, { actions: { pause: (l) => holder.actions!.pause(l), resume: (l) => holder.actions!.resume(l) } });
    holder.actions = actionsFor(h, done);
    h.states.set("L1", lane("L1", "idle"));
    await h.out.start();
    const status = `${h.prefix}/gw-m/lanes/L1/status`;
    const w = await kit.watch(`${h.prefix}/gw-m/lanes/L1/#`);
    await waitFor(() => w.last.get(status) === "online", "online");
    const pub = await publisher();
    const pause = `${h.prefix}/gw-m/lanes/L1/pause/set`;
    await pub.publishAsync(pause, JSON.stringify({ token: `${TOKEN}x` }), { qos: 1 });
    await pub.publishAsync(pause, "ON", { qos: 1 });
    await pub.publishAsync(pause, "{not json", { qos: 1 });
    await waitFor(() => h.out.stats().commandsRejected === 3, "three rejected");
    expect(done).toEqual([]);
    expect(w.last.get(status)).toBe("online");

    await pub.publishAsync(pause, JSON.stringify({ token: TOKEN }), { qos: 1 });
    await waitFor(() => w.last.get(status) === "out-of-service" && w.last.get(`${h.prefix}/gw-m/lanes/L1/paused`) === "ON", "paused");
    await pub.publishAsync(`${h.prefix}/gw-m/lanes/L1/resume/set`, JSON.stringify({ token: TOKEN }), { qos: 1 });
    await waitFor(() => w.last.get(status) === "online" && w.last.get(`${h.prefix}/gw-m/lanes/L1/paused`) === "OFF", "resumed");
    expect(done).toEqual(["pause L1", "resume L1"]);
    expect(h.out.stats()).toMatchObject({ commandsAccepted: 2, commandsRejected: 3 });
    const logs = h.lines.join("\n");
    expect(logs).toContain("GW_MQTT_COMMAND_REJECTED");
    expect(logs).toContain("UNAUTHORISED");
    expect(logs).not.toContain(TOKEN);
  });

  it("ACL auth: any client the broker lets publish may command; a retained command is ignored", async () => {
    expect.hasAssertions();
    const done: string[] = [];
    const holder: { actions?: LaneActions } = {};
    const h = kit.output({ commands: { enabled: true, auth: "acl" } }, { actions: { pause: (l) => holder.actions!.pause(l), resume: (l) => holder.actions!.resume(l) } });
    holder.actions = actionsFor(h, done);
    const pub = await publisher();
    // Left retained on the broker before the gateway starts: must not pause the lane at every restart.
    await pub.publishAsync(`${h.prefix}/gw-m/lanes/L2/pause/set`, "ON", { qos: 1, retain: true });
    await h.out.start();
    await new Promise((r) => setTimeout(r, 500));
    expect(done).toEqual([]);
    await pub.publishAsync(`${h.prefix}/gw-m/lanes/L2/pause/set`, "ON", { qos: 1 });
    await waitFor(() => done.length === 1, "paused");
    // A Home Assistant switch turns off by sending OFF to the same topic.
    await pub.publishAsync(`${h.prefix}/gw-m/lanes/L2/pause/set`, "OFF", { qos: 1 });
    await waitFor(() => done.length === 2, "resumed");
    expect(done).toEqual(["pause L2", "resume L2"]);
    await pub.publishAsync(`${h.prefix}/gw-m/lanes/L2/pause/set`, "", { qos: 1, retain: true });
  });

  it("commands disabled: nothing is subscribed", async () => {
    const done: string[] = [];
    const h = kit.output({}, { actions: { pause: (l) => done.push(l), resume: (l) => done.push(l) } });
    await h.out.start();
    const pub = await publisher();
    await pub.publishAsync(`${h.prefix}/gw-m/lanes/L1/pause/set`, "ON", { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    expect(done).toEqual([]);
    expect(h.out.stats().commandsRejected + h.out.stats().commandsAccepted).toBe(0);
  });
});

describe("MQTT stats topic", () => {
  it("publishes retained Frigate-style stats JSON every statsIntervalS", async () => {
    const snap: StatsSnapshot = {
      cameras: [{ id: "cam-1", lane: "L1", state: "online", fpsIn: 14.96, framesIn: 1200, framesDropped: 3, lastFrameAt: Date.UTC(2026, 10, 30, 16, 0, 0), decode: { submitted: 900, decoded: 890, dropped: 5, failed: 5, lastDecodeMs: 11.234 } }],
      lanes: [{ lane: "L1", state: "idle", problems: [], readRate: 0.98765, displays: 2 }, { lane: "L2", state: "out-of-service", problems: ["CAMERAS_DOWN"] }],
      decode: { workers: 2, busy: 1, restarts: 0 },
    };
    const h = kit.output({ statsIntervalS: 1 }, { stats: () => snap });
    await h.out.start();
    const topic = `${h.prefix}/gw-m/stats`;
    const w = await kit.watch(topic);
    await waitFor(() => w.all.length >= 3, "a retained copy then two ticks", 15_000);
    expect(w.all[0]!.retain).toBe(true);
    const s = JSON.parse(w.all.at(-1)!.payload) as Record<string, any>;
    expect(s.service).toMatchObject({ gatewayId: "gw-m", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(s.service.uptime).toBeGreaterThanOrEqual(1);
    expect(s.service.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(s.cameras["cam-1"]).toEqual({ lane: "L1", state: "online", fps: 14.96, frames: 1200, framesDropped: 3, lastFrame: Date.UTC(2026, 10, 30, 16, 0, 0) / 1000, decode: { submitted: 900, decoded: 890, dropped: 5, failed: 5, lastDecodeMs: 11.23 } });
    expect(s.lanes).toEqual({ L1: { state: "idle", status: "online", problems: [], readRate: 0.9877, displays: 2 }, L2: { state: "out-of-service", status: "out-of-service", problems: ["CAMERAS_DOWN"] } });
    expect(s.decode).toEqual({ workers: 2, busy: 1, restarts: 0 });
    expect(s.mqtt).toMatchObject({ connected: 3, links: 3 });
  });
});

describe("Home Assistant discovery", () => {
  it("is opt-in and publishes lane status, last verdict, read rate sensors and (with ACL commands) a pause switch", async () => {
    const disc = `ha-${rid()}`;
    discoveryPrefixes.push(disc);
    const off = kit.output({}, {}, ["L1"]);
    await off.out.start();
    const h = kit.output({ homeAssistant: { enabled: true, discoveryPrefix: disc }, commands: { enabled: true, auth: "acl" } }, { actions: { pause: () => undefined, resume: () => undefined } }, ["lane-1"]);
    // Watching first, retain flags as published: the configs then arrive live, and each must have been published retained.
    const w = await kit.watch(`${disc}/#`, undefined, {}, true);
    await h.out.start();
    await waitFor(() => w.last.size === 4, "four discovery configs");
    expect(w.all.every((m) => m.retain)).toBe(true);
    const cfg = (t: string) => JSON.parse(w.last.get(`${disc}/${t}/config`)!) as Record<string, any>;
    const node = "cpgw_gw-m";
    const base = `${h.prefix}/gw-m`;
    expect(cfg(`sensor/${node}/lane-1_status`)).toMatchObject({ state_topic: `${base}/lanes/lane-1/status`, expire_after: 7, unique_id: `${node}_lane-1_status`, availability: [{ topic: `${base}/status`, payload_available: "online", payload_not_available: "offline" }] });
    expect(cfg(`sensor/${node}/lane-1_last_verdict`)).toMatchObject({ state_topic: `${base}/lanes/lane-1/verdict`, value_template: "{{ value_json.verdict }}" });
    expect(cfg(`sensor/${node}/lane-1_read_rate`)).toMatchObject({ state_topic: `${base}/stats`, unit_of_measurement: "%", value_template: "{{ ((value_json.lanes['lane-1'].readRate | float(0)) * 100) | round(1) }}" });
    expect(cfg(`switch/${node}/lane-1_pause`)).toMatchObject({ command_topic: `${base}/lanes/lane-1/pause/set`, state_topic: `${base}/lanes/lane-1/paused`, payload_on: "ON", payload_off: "OFF" });
    expect(cfg(`sensor/${node}/lane-1_status`).device).toMatchObject({ identifiers: [node], manufacturer: "checkpoint-gateway" });
    // The gateway without the option published nothing under the discovery prefix.
    expect([...w.last.keys()].every((t) => t.includes(node))).toBe(true);
  });

  it("offers no switch with token auth: a token cannot go into a retained discovery config", async () => {
    const disc = `ha-${rid()}`;
    discoveryPrefixes.push(disc);
    const h = kit.output({ homeAssistant: { enabled: true, discoveryPrefix: disc }, commands: { enabled: true, auth: "token", token: TOKEN } }, { actions: { pause: () => undefined, resume: () => undefined } }, ["L1"]);
    await h.out.start();
    const w = await kit.watch(`${disc}/#`);
    await waitFor(() => w.last.size === 3, "three sensor configs");
    await new Promise((r) => setTimeout(r, 300));
    expect([...w.last.keys()].some((t) => t.startsWith(`${disc}/switch/`))).toBe(false);
    expect(w.all.map((m) => m.payload).join("\n")).not.toContain(TOKEN);
  });
});
