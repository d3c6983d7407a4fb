/**
 * Audit 2 finding 1: mqtt.js re-sends every unacknowledged QoS 1 message on the next CONNACK, even
 * with a clean session. A verdict published into a stalled broker reached a barrier as late as the
 * outage lasted (and counted as published), and an `online` status from before the outage was
 * replayed after the lane had gone out of service.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { rmDir, tmpDir } from "../events/helpers.js";
import { freePort, lane, makeEvent, listening, MqttTestKit, waitFor, type Watch } from "./helpers.js";

const kit = new MqttTestKit();
const dir = tmpDir("mqtt-outage");
let broker: ChildProcess | undefined;

async function startBroker(port: number): Promise<ChildProcess> {
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const p = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  await waitFor(() => listening(port), `mosquitto on ${port}`, 15_000);
  return p;
}

async function killBroker(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = once(p, "exit");
  p.kill("SIGKILL");
  p.kill("SIGCONT");
  await gone;
}

afterEach(async () => {
  await kit.cleanup();
  if (broker) await killBroker(broker);
  broker = undefined;
});
afterAll(() => rmDir(dir));

describe("messages in flight when the connection drops are never re-sent", () => {
  it("a verdict and an `online` status published into a stalled broker do not arrive after the reconnect", async () => {
    const port = await freePort();
    broker = await startBroker(port);
    const url = `mqtt://127.0.0.1:${port}`;
    // keepaliveS 1: the client gives the stalled broker up after ~1.5 s; no restating, so the only
    // status publishes are the ones this test causes.
    const h = kit.output({ url, qos: 1, keepaliveS: 1, reconnectMs: 2000, connectTimeoutMs: 2000, restateStatus: false }, {}, ["L1"]);
    h.states.set("L1", lane("L1", "out-of-service"));
    await h.out.start();
    expect(h.out.stats().connected).toBe(2);

    broker.kill("SIGSTOP");
    // Both go into the stalled connection and wait for a PUBACK that never comes.
    h.states.set("L1", lane("L1", "idle"));
    h.bus.emit("lane-status", lane("L1", "idle"));
    h.bus.emit("verdict", makeEvent("gw-m", "L1", 1));
    await waitFor(() => h.out.stats().connected === 0, "keepalive lost", 15_000);
    // The camera dies while MQTT is down: nothing can be published.
    h.states.set("L1", lane("L1", "out-of-service"));
    h.bus.emit("lane-status", lane("L1", "out-of-service"));
    // The lane's link must not reconnect before the watcher subscribes: restart the broker just
    // after one of its attempts failed, so the next one is reconnectMs away.
    const laneClient = h.clients[1]!;
    // Not events.once: it rejects on the client's "error" (ECONNREFUSED) that comes with the close.
    const attemptFailed = new Promise<void>((r) => laneClient.once("close", () => r()));
    await killBroker(broker);
    await attemptFailed;
    broker = await startBroker(port);

    const laneTopic = `${h.prefix}/gw-m/lanes/L1`;
    const w: Watch = await kit.watch(`${laneTopic}/#`, url);
    expect(laneClient.connected, "watcher subscribed before the lane reconnected").toBe(false);
    await waitFor(() => h.out.stats().connected === 2, "reconnected", 15_000);
    await waitFor(() => w.last.get(`${laneTopic}/status`) === "out-of-service", "status restated on reconnect");
    // Anything replayed from the old connection would come with or right after the CONNACK.
    await new Promise((r) => setTimeout(r, 500));
    expect(w.all.filter((m) => m.topic === `${laneTopic}/verdict`)).toEqual([]);
    expect(w.all.filter((m) => m.topic === `${laneTopic}/status`).map((m) => m.payload)).not.toContain("online");
    const s = h.out.stats();
    expect(s).toMatchObject({ verdictsDropped: 1, verdictsPublished: 0 });
    expect(s.publishErrors).toMatchObject({ verdict: 0, status: 0 });
  }, 40_000);
});
