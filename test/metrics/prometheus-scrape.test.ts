import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import mqtt from "mqtt";
import { parse as parseYaml } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/core/logger.js";
import { startGateway, type Gateway } from "../../src/app/gateway.js";
import { rid, SHARED_MQTT, SHARED_REDIS } from "../events/helpers.js";
import { PrometheusChild, scrapeConfig } from "./prom.js";

/**
 * A real Prometheus scrapes the real gateway (demo config: two lanes on looping clips, plus MQTT
 * on the shared broker and Redis with its own key prefix, so every series of the dashboard
 * exists), then every panel query of deploy/grafana/checkpoint-gateway.json runs against it.
 */
const dir = mkdtempSync(join(tmpdir(), "cpgw-prom-"));
const tag = `test-${rid()}`;
let gw: Gateway | undefined;
const prom = new PrometheusChild(dir);

afterAll(async () => {
  prom.stop();
  await gw?.close();
  // Leave the shared servers as we found them.
  const r = new Redis(SHARED_REDIS);
  const keys = await r.keys(`${tag}*`);
  if (keys.length) await r.del(...keys);
  r.disconnect();
  const c = await mqtt.connectAsync(SHARED_MQTT);
  const seen = new Set<string>();
  c.on("message", (t, p) => p.length && seen.add(t));
  await c.subscribeAsync(`${tag}/#`);
  await new Promise((res) => setTimeout(res, 300));
  for (const t of seen) await c.publishAsync(t, "", { retain: true, qos: 1 });
  await c.endAsync();
  rmSync(dir, { recursive: true, force: true });
});

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

/** What Grafana would send for "All" and the default rate interval. */
function resolve(expr: string): string {
  return expr.replaceAll("$instance", ".*").replaceAll("$lane", ".*").replaceAll("$__rate_interval", "30s");
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe("a real Prometheus scraping the running gateway", () => {
  it("scrapes the gateway and answers for its series; every dashboard panel query is valid PromQL with data", async () => {
    const raw = parseYaml(readFileSync("config/demo.yaml", "utf8")) as Record<string, any>;
    raw.gateway = { ...raw.gateway, stateDir: join(dir, "state") };
    raw.server = { listen: { host: "127.0.0.1", port: 0 } };
    raw.mqtt = { url: SHARED_MQTT, topicPrefix: tag, clientIdPrefix: tag };
    raw.redis = { url: SHARED_REDIS, keyPrefix: `${tag}:`, stream: `${tag}:verdicts` };
    gw = await startGateway(parseConfig(raw), { logger: silentLogger });
    const target = new URL(gw.urls.public).host;
    await prom.start(scrapeConfig(target));

    // The scrape works: `up` is 1 and build_info carries the version and Node labels.
    const info = await until("build_info in Prometheus", async () => {
      const r = await prom.query('checkpoint_gateway_build_info{job="checkpoint-gateway"}');
      return r.data?.result[0];
    });
    expect(info.metric).toMatchObject({ job: "checkpoint-gateway", instance: target, node: process.versions.node, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect((await prom.query('up{job="checkpoint-gateway"}')).data!.result[0]!.value![1]).toBe("1");
    // Frames flow (a counter, so rate() gives fps) and both lanes get to be in service.
    await until("camera fps > 0", async () => {
      const r = await prom.query('rate(checkpoint_gateway_camera_frames_total{camera="cam-1"}[10s])');
      const v = Number(r.data?.result[0]?.value?.[1]);
      return v > 0 ? v : undefined;
    });
    await until("both lanes in service", async () => {
      const r = await prom.query("sum(checkpoint_gateway_lane_in_service)");
      return r.data?.result[0]?.value?.[1] === "2" ? true : undefined;
    });
    // A FLAG verdict (lane-1's clip has two) so the verdict panels have something to show.
    await until("a FLAG verdict in Prometheus", async () => {
      const r = await prom.query('checkpoint_gateway_verdicts_total{verdict="FLAG"}');
      return r.data?.result.length ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 3000));

    const dashboard = JSON.parse(readFileSync("deploy/grafana/checkpoint-gateway.json", "utf8")) as { panels: Panel[]; templating: { list: Array<{ name: string; query: { query: string } }> } };
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
    expect(queries.length).toBeGreaterThanOrEqual(20);
    const empty: string[] = [];
    for (const q of queries) {
      const r = await prom.query(resolve(q.expr));
      expect(r.status, `${q.panel}: ${q.expr}: ${r.error ?? ""}`).toBe("success");
      if (!r.data?.result.length) empty.push(`${q.panel}: ${q.expr}`);
    }
    expect(empty, "panel queries without data").toEqual([]);
    // The template variables' label_values() queries name real series too.
    for (const v of dashboard.templating.list) {
      const m = /^label_values\((.+), (\w+)\)$/.exec(v.query.query);
      expect(m, v.name).not.toBeNull();
      const r = await prom.query(resolve(m![1]!));
      expect(r.data?.result.some((s) => s.metric[m![2]!] !== undefined), v.name).toBe(true);
    }

    // docs/img: one panel's data as the dashboard would draw it, when asked (CPGW_PANEL_PNG=path).
    const png = process.env.CPGW_PANEL_PNG;
    if (png) {
      // A minute of steady data, so the picture shows the lane running, not its start.
      await new Promise((r) => setTimeout(r, 60_000));
      const now = Date.now() / 1000;
      const panel = dashboard.panels.find((p) => p.title === "Frames per second")!;
      // Grafana would pick $__rate_interval from the scrape interval (1 s here): 5 s.
      const expr = resolve(panel.targets![0]!.expr).replace("[30s]", "[5s]");
      const series = await prom.queryRange(expr, now - 60, now, 1);
      const { renderPanelPng } = await import("./render-panel.js");
      mkdirSync(dirname(png), { recursive: true });
      writeFileSync(png, await renderPanelPng(panel.title, expr, series.data.result));
    }
  }, 240_000);
});
