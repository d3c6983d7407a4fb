/**
 * A lane removed by a reload (or from the config between two runs) left its retained topics at the
 * broker for ever: `online` and its `paused` state when the removal happened while a persistent
 * broker was down (nothing could be published; the broker restored them from its database), and
 * `offline` plus its Home Assistant discovery configs when the broker was up, so Home Assistant kept
 * showing entities of a lane that no longer exists. The gateway link now clears, on every connect,
 * the retained lane topics and discovery configs under its own gateway that belong to no configured lane.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rmDir, tmpDir } from "../events/helpers.js";
import { freePort, lane, listening, MqttTestKit, rid, SHARED_MQTT, waitFor } from "./helpers.js";

const kit = new MqttTestKit();
const dir = tmpDir("mqtt-removed-lane");
const discoveryPrefixes: string[] = [];
let broker: ChildProcess | undefined;

/** Mosquitto with persistence in `dir`: retained messages survive its restart, as on a production broker. */
async function startBroker(port: number): Promise<ChildProcess> {
  const data = join(dir, "data");
  mkdirSync(data, { recursive: true });
  // Started as root, Mosquitto drops to its own user, which must be able to write its database.
  chmodSync(dir, 0o777);
  chmodSync(data, 0o777);
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${data}/\nautosave_interval 1\n`);
  const p = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  await waitFor(() => listening(port), `mosquitto on ${port}`, 15_000);
  return p;
}

async function stopBroker(p: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = once(p, "exit");
  p.kill(signal);
  await gone;
}

/**
 * The broker dies (crash, power cut) once its database holds what was retained until now: a
 * clean stop would send every client's Last Will first, a crash leaves `online` in the database.
 */
async function crashBroker(p: ChildProcess): Promise<void> {
  const db = join(dir, "data", "mosquitto.db");
  const mark = Date.now();
  await waitFor(() => existsSync(db) && statSync(db).mtimeMs > mark, "an autosave of the broker's database", 10_000);
  await stopBroker(p, "SIGKILL");
}

const has = (m: Map<string, string>, t: string) => (m.get(t) ?? "") !== "";
const removedLane = (m: Map<string, string>) => [...m].filter(([k, v]) => k.includes("L2") && v !== "").map(([k]) => k);

/**
 * What is retained under `filters`: a fresh subscription gets the broker's retained messages, and
 * a clear (empty payload) the gateway sends meanwhile arrives live. Read until `ready` and nothing
 * of the removed lane L2 is left, or 5 s (the asserts then say what was left), plus a short settle.
 */
async function retained(filters: string[], ready: (m: Map<string, string>) => boolean, url = SHARED_MQTT): Promise<Map<string, string>> {
  const w = await kit.watch(filters[0]!, url);
  for (const f of filters.slice(1)) await w.client.subscribeAsync(f, { qos: 1 });
  await waitFor(() => ready(w.last), "the configured lane's retained messages");
  await waitFor(() => removedLane(w.last).length === 0, "L2 cleared", 5000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  return new Map([...w.last].filter(([, v]) => v !== ""));
}

afterEach(async () => {
  await kit.cleanup();
  if (broker) await stopBroker(broker);
  broker = undefined;
});
afterAll(async () => {
  await kit.clearRetained(discoveryPrefixes.map((p) => `${p}/#`));
  rmDir(dir);
});

describe("a lane removed from the config leaves nothing retained behind", () => {
  it("removed while a persistent broker is down: once it is back, the lane's status, paused state and discovery configs are cleared, not left online", async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    broker = await startBroker(port);
    const disc = `ha-${rid()}`;
    discoveryPrefixes.push(disc);
    const base = { url, homeAssistant: { enabled: true, discoveryPrefix: disc }, reconnectMs: 300, connectTimeoutMs: 1000 };
    const before = kit.output(base, {}, ["L1", "L2"]);
    before.states.set("L1", lane("L1", "idle"));
    before.states.set("L2", lane("L2", "idle"));
    await before.out.start();
    expect(before.out.stats().connected).toBe(3);
    const t = (l: string, what: string) => `${before.prefix}/gw-m/lanes/${l}/${what}`;
    const node = "cpgw_gw-m";
    const w0 = await kit.watch(`${before.prefix}/#`, url);
    await w0.client.subscribeAsync(`${disc}/#`, { qos: 1 });
    await waitFor(() => w0.last.get(t("L2", "status")) === "online" && w0.last.has(`${disc}/sensor/${node}/L2_status/config`), "L2 online and discovered");
    await w0.client.endAsync(true);

    // The broker goes down (its database keeps L2 online), then a reload removes L2: the old
    // output closes and the new one starts, neither can publish anything.
    await crashBroker(broker);
    await before.out.close();
    const after = kit.output({ ...base, topicPrefix: before.prefix, clientIdPrefix: before.config.clientIdPrefix }, {}, ["L1"]);
    after.states.set("L1", lane("L1", "idle"));
    await after.out.start();
    expect(after.out.stats().connected).toBe(0);

    broker = await startBroker(port);
    await waitFor(() => after.out.stats().connected === 2, "reconnected", 15_000);
    const left = await retained([`${before.prefix}/#`, `${disc}/#`], (m) => m.get(t("L1", "status")) === "online" && has(m, `${disc}/sensor/${node}/L1_status/config`), url);
    expect(removedLane(left)).toEqual([]);
    // The configured lane is untouched.
    expect(left.get(t("L1", "paused"))).toBe("OFF");
    expect([...left.keys()].filter((k) => k.startsWith(`${disc}/`)).sort()).toEqual([`${disc}/sensor/${node}/L1_last_verdict/config`, `${disc}/sensor/${node}/L1_read_rate/config`, `${disc}/sensor/${node}/L1_status/config`]);
  }, 60_000);

  it("a subscriber of the removed lane's status hears offline before the topic is cleared", async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    broker = await startBroker(port);
    const before = kit.output({ url, reconnectMs: 300, connectTimeoutMs: 1000 }, {}, ["L1", "L2"]);
    before.states.set("L2", lane("L2", "idle"));
    await before.out.start();
    const topic = `${before.prefix}/gw-m/lanes/L2/status`;
    const w0 = await kit.watch(topic, url);
    await waitFor(() => w0.last.get(topic) === "online", "L2 online");
    await w0.client.endAsync(true);
    await crashBroker(broker);
    await before.out.close();
    // A restart of the gateway with L2 gone from its config, while the broker is still down.
    const after = kit.output({ url, topicPrefix: before.prefix, clientIdPrefix: before.config.clientIdPrefix, reconnectMs: 2000, connectTimeoutMs: 500 }, {}, ["L1"]);
    await after.out.start();
    const gwLink = after.clients[0]!;
    const attemptFailed = new Promise<void>((r) => gwLink.once("close", () => r()));
    await attemptFailed;
    broker = await startBroker(port);
    // The light was there before the gateway reconnected: it sees the restored `online` first.
    const light = await kit.watch(topic, url);
    await waitFor(() => light.last.get(topic) === "online", "the restored retained online");
    expect(gwLink.connected, "the light subscribed before the gateway reconnected").toBe(false);
    await waitFor(() => light.last.get(topic) === "", "the topic cleared", 15_000);
    expect(light.all.map((m) => m.payload)).toEqual(["online", "offline", ""]);
  }, 60_000);

  it("removed while the broker is up: its discovery configs are removed and its status does not stay retained", async () => {
    const disc = `ha-${rid()}`;
    discoveryPrefixes.push(disc);
    const ha = { homeAssistant: { enabled: true, discoveryPrefix: disc } };
    const before = kit.output(ha, {}, ["L1", "L2"]);
    before.states.set("L2", lane("L2", "idle"));
    await before.out.start();
    const node = "cpgw_gw-m";
    const w0 = await kit.watch(`${disc}/#`);
    await waitFor(() => w0.last.has(`${disc}/sensor/${node}/L2_status/config`), "L2 discovered");
    await before.out.close();
    const after = kit.output({ ...ha, topicPrefix: before.prefix, clientIdPrefix: before.config.clientIdPrefix }, {}, ["L1"]);
    await after.out.start();
    const statusL1 = `${before.prefix}/gw-m/lanes/L1/status`;
    const left = await retained([`${before.prefix}/#`, `${disc}/#`], (m) => has(m, statusL1) && has(m, `${disc}/sensor/${node}/L1_status/config`));
    expect(removedLane(left)).toEqual([]);
    expect(left.get(statusL1)).toBe("out-of-service");
  });
});
