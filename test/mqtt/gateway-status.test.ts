import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/core/logger.js";
import { startGateway, type Gateway } from "../../src/app/gateway.js";
import { MqttTestKit, SHARED_MQTT, waitFor } from "./helpers.js";

/**
 * The start-up sequence a light or barrier sees: the real gateway (demo config: two lanes fed by
 * looping clips through ffmpeg) with MQTT on the shared broker. A subscriber that is there
 * before the gateway connects records every status message, retained or not, until steady state.
 */
const kit = new MqttTestKit();
const dir = mkdtempSync(join(tmpdir(), "cpgw-mqtt-gw-"));
let gw: Gateway | undefined;
afterAll(async () => {
  await gw?.close();
  await kit.cleanup();
  await kit.clearRetained();
  rmSync(dir, { recursive: true, force: true });
});

const IN_SERVICE = new Set(["idle", "pass", "flag"]);

describe("MQTT status from the real gateway", () => {
  it("never says online before the lane is in service (connect -> steady state)", async () => {
    expect.hasAssertions();
    const prefix = kit.prefix();
    const w = await kit.watch(`${prefix}/#`);
    const raw = parseYaml(readFileSync("config/demo.yaml", "utf8")) as Record<string, any>;
    raw.gateway = { ...raw.gateway, stateDir: join(dir, "state") };
    raw.server = { listen: { host: "127.0.0.1", port: 0 } };
    raw.mqtt = { url: SHARED_MQTT, topicPrefix: prefix, clientIdPrefix: prefix, statsIntervalS: 1 };
    const cfg = parseConfig(raw);
    gw = await startGateway(cfg, { logger: silentLogger });
    const g = gw;
    // When each lane was first seen in service on the bus (or: already in service when we looked).
    const inServiceAt = new Map<string, number>();
    const lanesNow = () => [...g.lanes.values()].map((l) => l.status());
    for (const s of lanesNow()) if (IN_SERVICE.has(s.state)) inServiceAt.set(s.lane, -1);
    g.bus.on("lane-status", (s) => {
      if (IN_SERVICE.has(s.state) && !inServiceAt.has(s.lane)) inServiceAt.set(s.lane, performance.now());
    });
    const topic = (lane: string) => `${prefix}/demo-gw/lanes/${lane}/status`;
    await waitFor(() => ["lane-1", "lane-2"].every((l) => w.last.get(topic(l)) === "online"), "both lanes online (cameras up, trust fresh)", 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    for (const lane of ["lane-1", "lane-2"]) {
      const msgs = w.all.filter((m) => m.topic === topic(lane));
      const firstOnline = msgs.findIndex((m) => m.payload === "online");
      // Before the first online: only out-of-service (the lane was starting), and at least one of it.
      expect(msgs.slice(0, firstOnline).map((m) => m.payload), lane).toEqual(expect.arrayContaining(["out-of-service"]));
      expect(msgs.slice(0, firstOnline).every((m) => m.payload === "out-of-service"), `${lane}: ${msgs.map((m) => m.payload).join(",")}`).toBe(true);
      // Collapsed, the whole sequence is out-of-service -> online: no optimistic online, no flapping.
      const collapsed = msgs.map((m) => m.payload).filter((p, i, a) => i === 0 || a[i - 1] !== p);
      expect(collapsed, lane).toEqual(["out-of-service", "online"]);
      const t = inServiceAt.get(lane);
      if (t !== undefined && t >= 0) expect(msgs[firstOnline]!.at).toBeGreaterThanOrEqual(t);
    }
    // The stats topic reports the same lanes in service, from the gateway's own stats (its next
    // tick after the lane came online: waited for, since a loaded machine delays the 1 s tick).
    const statsTopic = `${prefix}/demo-gw/stats`;
    await waitFor(() => (JSON.parse(w.last.get(statsTopic) ?? "{}") as { lanes?: Record<string, { status: string }> }).lanes?.["lane-1"]?.status === "online", "stats show lane-1 online", 15_000);
    const stats = JSON.parse(w.last.get(`${prefix}/demo-gw/stats`)!) as { lanes: Record<string, { status: string }>; cameras: Record<string, { state: string; frames: number }> };
    expect(stats.lanes["lane-1"]!.status).toBe("online");
    expect(stats.cameras["cam-1"]!.state).toBe("online");
    expect(stats.cameras["cam-1"]!.frames).toBeGreaterThan(0);
  });
});
