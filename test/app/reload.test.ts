/**
 * Finding 12 (issue #11), the sections the process test does not reach: decode, trust, display,
 * events (outputs) are applied at run time by the real gateway; an invalid file changes nothing.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/core/logger.js";
import type { GatewayConfig } from "../../src/config/schema.js";
import { startGateway } from "../../src/app/gateway.js";
import { diffSections } from "../../src/app/reload.js";

const dir = mkdtempSync(join(tmpdir(), "cpgw-reload-app-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const input = (over: Record<string, unknown> = {}) => ({
  gateway: { id: "gw-rl", stateDir: join(dir, "state") },
  server: { listen: { host: "127.0.0.1", port: 0 } },
  decode: { workers: 1 },
  cameras: [{ id: "c1", lane: "L1", source: "synthetic", width: 320, height: 240, fps: 5 }],
  lanes: [{ id: "L1" }],
  events: { ledger: false },
  ...over,
});

describe("reload applies decode, trust, display and outputs", () => {
  it("diffSections names exactly the changed top-level sections", () => {
    const a = parseConfig(input());
    const b = parseConfig(input({ decode: { workers: 2 }, display: { heartbeatMs: 3000 } }));
    expect(diffSections(a, b)).toEqual(["decode", "display"]);
    expect(diffSections(a, a)).toEqual([]);
  });

  it("replaces the decode pool and the trust store, turns the ledger on, applies display; an invalid file changes nothing", async () => {
    let next: GatewayConfig | Error = parseConfig(input());
    const gw = await startGateway(next, {
      logger: silentLogger,
      reloadConfig: () => {
        if (next instanceof Error) throw next;
        return next;
      },
    });
    try {
      const pool0 = gw.pool;
      const trust0 = gw.trust;
      expect(pool0.stats().workers).toBe(1);
      expect(existsSync(join(dir, "state", "ledger"))).toBe(false);
      next = parseConfig(input({ decode: { workers: 2, deadlineMs: 2000 }, trust: { maxAgeS: 7200 }, display: { heartbeatMs: 3000 }, events: { ledger: true } }));
      const r = await gw.reload();
      expect([...r.applied].sort()).toEqual(["decode", "display", "events", "trust"]);
      expect(r.restartRequired).toEqual([]);
      expect(gw.pool).not.toBe(pool0);
      expect(gw.pool.stats().workers).toBe(2);
      expect(gw.trust).not.toBe(trust0);
      expect(gw.config().display.heartbeatMs).toBe(3000);
      // The new pool decodes: the lane keeps receiving results.
      const lane = gw.lanes.get("L1")!;
      const before = lane.stats().framesDecoded;
      const end = Date.now() + 30_000;
      while (lane.stats().framesDecoded <= before) {
        if (Date.now() > end) throw new Error("no decode after the pool was replaced");
        await new Promise((res) => setTimeout(res, 100));
      }
      // The ledger output was started (its directory exists).
      expect(existsSync(join(dir, "state", "ledger"))).toBe(true);
      // A file that fails validation: the reload fails, nothing changes.
      next = Object.assign(new Error("cameras.0.lane: no lane with this id"), { code: "GW_CONFIG_INVALID" });
      const pool1 = gw.pool;
      await expect(gw.reload()).rejects.toMatchObject({ code: "GW_CONFIG_INVALID" });
      expect(gw.pool).toBe(pool1);
      expect(gw.config().display.heartbeatMs).toBe(3000);
      // A changed gateway id needs a restart and is not applied.
      next = parseConfig(input({ gateway: { id: "gw-other", stateDir: join(dir, "state") }, decode: { workers: 2, deadlineMs: 2000 }, trust: { maxAgeS: 7200 }, display: { heartbeatMs: 3000 }, events: { ledger: true } }));
      const r2 = await gw.reload();
      expect(r2.restartRequired).toEqual(["gateway"]);
      expect(r2.applied).toEqual([]);
      expect(gw.config().gateway.id).toBe("gw-rl");
    } finally {
      await gw.close();
    }
  }, 90_000);

  it("outputs that cannot start on reload: the reload fails, the previous outputs run again, and the config says so (a later reload applies them)", async () => {
    const stateDir = join(dir, "state-fail");
    mkdirSync(stateDir, { recursive: true });
    // Where the ledger's directory would go there is a file: turning the ledger on cannot start.
    writeFileSync(join(stateDir, "ledger"), "not a directory");
    const base = { gateway: { id: "gw-rf", stateDir } };
    let next = parseConfig(input(base));
    const gw = await startGateway(next, { logger: silentLogger, reloadConfig: () => next });
    try {
      next = parseConfig(input({ ...base, events: { ledger: true } }));
      await expect(gw.reload()).rejects.toThrow();
      expect(gw.config().events.ledger).toBe(false);
      rmSync(join(stateDir, "ledger"));
      const r = await gw.reload();
      expect(r.applied).toEqual(["events"]);
      expect(gw.config().events.ledger).toBe(true);
      expect(existsSync(join(stateDir, "ledger"))).toBe(true);
    } finally {
      await gw.close();
    }
  }, 90_000);

  it("/metrics counts reloads by result, the pending restart, and refused admin tokens", async () => {
    const token = "reload-admin-token-reload-admin-token";
    const stateDir = join(dir, "state-metrics");
    const base = { gateway: { id: "gw-rm", stateDir }, server: { listen: { host: "127.0.0.1", port: 0 }, admin: { listen: { host: "127.0.0.1", port: 0 }, token } } };
    let next: GatewayConfig | Error = parseConfig(input(base));
    const gw = await startGateway(next, {
      logger: silentLogger,
      reloadConfig: () => {
        if (next instanceof Error) throw next;
        return next;
      },
    });
    const scrape = async () => (await fetch(`${gw.urls.public}/metrics`)).text();
    const sample = (text: string, name: string) => text.match(new RegExp(`^checkpoint_gateway_${name} (\\S+)$`, "m"))?.[1];
    const reload = (authorization = `Bearer ${token}`) => fetch(`${gw.urls.admin!}/admin/reload`, { method: "POST", headers: { authorization } });
    try {
      const start = await scrape();
      expect(sample(start, 'config_reloads_total\\{result="applied"\\}')).toBe("0");
      expect(sample(start, "config_restart_required")).toBe("0");
      expect(sample(start, "config_last_reload_timestamp_seconds")).toBeUndefined();

      next = Object.assign(new Error("cameras.0.lane: no lane with this id"), { code: "GW_CONFIG_INVALID" });
      expect((await reload()).status).toBe(500);
      expect((await reload("Bearer wrong-token-wrong-token")).status).toBe(401);
      const invalid = await scrape();
      expect(sample(invalid, 'config_reloads_total\\{result="invalid"\\}')).toBe("1");
      expect(sample(invalid, 'config_reloads_total\\{result="applied"\\}')).toBe("0");
      expect(sample(invalid, 'http_auth_refusals_total\\{listener="admin",reason="bad-token"\\}')).toBe("1");

      // A changed gateway id is not applied until a restart: the gauge says so.
      next = parseConfig(input({ ...base, gateway: { id: "gw-rm-other", stateDir } }));
      const before = Date.now();
      expect((await reload()).status).toBe(200);
      const pending = await scrape();
      expect(sample(pending, 'config_reloads_total\\{result="applied"\\}')).toBe("1");
      expect(sample(pending, "config_restart_required")).toBe("1");
      expect(Number(sample(pending, "config_last_reload_timestamp_seconds")) * 1000).toBeGreaterThanOrEqual(before - 1);
      // The file back as it runs: nothing waits for a restart any more.
      next = parseConfig(input(base));
      expect((await reload()).status).toBe(200);
      const clean = await scrape();
      expect(sample(clean, 'config_reloads_total\\{result="applied"\\}')).toBe("2");
      expect(sample(clean, "config_restart_required")).toBe("0");
      expect(sample(clean, 'config_reloads_total\\{result="failed"\\}')).toBe("0");
    } finally {
      await gw.close();
    }
  }, 90_000);
});
