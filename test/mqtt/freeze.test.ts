import { afterAll, afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { displayTimeoutMs, keepaliveFor, resolveKeepalive } from "../../src/output/mqtt/keepalive.js";
import { bundleChild, MqttTestKit, SHARED_MQTT, waitFor } from "./helpers.js";

const kit = new MqttTestKit();
let child: ChildProcess | undefined;
afterEach(async () => {
  if (child) {
    child.kill("SIGKILL");
    child.kill("SIGCONT");
  }
  child = undefined;
  await kit.cleanup();
});
afterAll(() => kit.clearRetained());

/**
 * Mosquitto 2.0.11 (Debian 12) sweeps keepalives only every ~6 s (keepalive.c:
 * `if(last_keepalive_check + 5 < db.now_s)`), so on this broker the Last Will can come up to
 * that much after 1.5 x keepalive. Brokers that check every second meet the display timeout.
 */
const BROKER_SWEEP_MS = 6000;

describe("a frozen gateway goes offline on MQTT as soon as the broker's keepalive check allows", () => {
  it("SIGSTOP: the broker's Last Will arrives on every status topic within 1.5 x keepalive (+ the broker's sweep)", async () => {
    const heartbeatMs = 2000;
    const limit = displayTimeoutMs(heartbeatMs);
    const file = await bundleChild();
    const prefix = kit.prefix();
    const w = await kit.watch(`${prefix}/#`);
    child = spawn(process.execPath, [file, JSON.stringify({ url: SHARED_MQTT, prefix, gatewayId: "gw-f", lanes: ["L1", "L2"], heartbeatMs })], { stdio: ["ignore", "pipe", "inherit"] });
    const [line] = (await once(child.stdout!, "data")) as [Buffer];
    expect(line.toString()).toContain(`ready 3 keepalive ${keepaliveFor(limit)}`);
    const topics = [`${prefix}/gw-f/status`, `${prefix}/gw-f/lanes/L1/status`, `${prefix}/gw-f/lanes/L2/status`];
    await waitFor(() => topics.every((t) => w.last.get(t) === "online"), "online from the child");
    // Statuses are restated every heartbeat: a device can apply the screens' rule (3.5 heartbeats
    // of silence = offline) on its own, however slowly the broker checks keepalives.
    const watchFrom = performance.now();
    await new Promise((r) => setTimeout(r, 3 * heartbeatMs + 500));
    const frozenAt = performance.now();
    for (const t of topics) {
      const arrivals = [watchFrom, ...w.all.filter((m) => m.topic === t && m.at >= watchFrom).map((m) => m.at), frozenAt];
      const gaps = arrivals.slice(1).map((a, i) => a - arrivals[i]!);
      expect(Math.max(...gaps), `${t}: longest silence while running`).toBeLessThan(heartbeatMs + 1000);
    }
    child.kill("SIGSTOP");
    await waitFor(() => topics.every((t) => w.last.get(t) === "offline"), "Last Will on all three topics", 30_000, 20);
    const took = Math.max(...topics.map((t) => w.all.filter((m) => m.topic === t && m.payload === "offline").at(-1)!.at)) - frozenAt;
    // Frozen, the gateway restates nothing: the device's silence rule fires after the display timeout.
    expect(w.all.filter((m) => m.at > frozenAt + 200 && m.payload !== "offline")).toEqual([]);
    const k = keepaliveFor(limit);
    const bound = (Math.ceil(k * 1.5) + 1) * 1000 + BROKER_SWEEP_MS;
    console.log(`frozen gateway offline on MQTT after ${Math.round(took)} ms (display timeout ${limit} ms, keepalive ${k} s, bound on this broker ${bound} ms)`);
    // With the old 10 s keepalive the bound was (16 + 6) s; now the broker's sweep dominates.
    expect(took).toBeLessThanOrEqual(bound);
  });
});

describe("keepalive sizing", () => {
  it("derives a keepalive whose 1.5x plus a second of broker granularity fits the display timeout", () => {
    for (const hb of [1000, 2000, 3000, 5000, 10_000]) {
      const t = displayTimeoutMs(hb);
      const k = keepaliveFor(t);
      expect(k).toBeGreaterThanOrEqual(1);
      // Mosquitto compares whole seconds and checks about once a second: up to ~1.5 s past 1.5 x keepalive.
      expect(Math.ceil(k * 1.5) * 1000 + 1500).toBeLessThanOrEqual(t);
    }
    expect(resolveKeepalive(0, 2000)).toEqual({ keepaliveS: 3, tooLong: false, displayTimeoutMs: 7000 });
    // The old default (10 s) lets MQTT say online for up to 15 s after the screens said out of service.
    expect(resolveKeepalive(10, 2000)).toMatchObject({ keepaliveS: 10, tooLong: true });
  });
});
