/**
 * Finding 12 (issue #11), the sections the process test does not reach: decode, trust, display,
 * events (outputs) are applied at run time by the real gateway; an invalid file changes nothing.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/core/logger.js";
import type { GatewayConfig } from "../../src/config/schema.js";
import { SYNTHETIC, startGateway } from "../support/gateway.js";
import { diffSections } from "../../src/app/reload.js";
import { checkedForReload } from "../../src/config/preflight.js";
import { credentialsOnDisk } from "../e2e/support.js";
import { captureLogger, makeEvent, waitFor } from "../events/helpers.js";
import { result } from "../lane/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "cpgw-reload-app-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const input = (over: Record<string, unknown> = {}) => ({
  gateway: { id: "gw-rl", stateDir: join(dir, "state") },
  server: { listen: { host: "127.0.0.1", port: 0 } },
  decode: { workers: 1 },
  cameras: [{ id: "c1", lane: "L1", ...SYNTHETIC, width: 320, height: 240, fps: 5 }],
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

  it("an output part that cannot start again on reload (MQTT CA file gone) is left off: the ledger keeps recording, /metrics shows it, a later reload starts it", async () => {
    const stateDir = join(dir, "state-ca");
    mkdirSync(stateDir, { recursive: true });
    const ca = join(dir, "broker-ca.pem");
    writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    const base = { gateway: { id: "gw-ca", stateDir }, events: { ledger: true }, mqtt: { url: "mqtts://127.0.0.1:1", connectTimeoutMs: 200, tls: { ca } } };
    const withL2 = { ...base, cameras: [...input().cameras, { id: "c2", lane: "L2", ...SYNTHETIC, width: 320, height: 240, fps: 5 }], lanes: [{ id: "L1" }, { id: "L2" }] };
    let next = parseConfig(input(base));
    const log = captureLogger();
    const gw = await startGateway(next, { logger: log.logger, reloadConfig: () => next });
    const ledgerIds = () =>
      readdirSync(join(stateDir, "ledger"))
        .filter((f) => f.endsWith(".jsonl"))
        .flatMap((f) => readFileSync(join(stateDir, "ledger", f), "utf8").split("\n").filter(Boolean))
        .map((l) => (JSON.parse(l) as { id: string }).id);
    const scrape = async () => (await fetch(`${gw.urls.public}/metrics`)).text();
    const sample = (text: string, name: string) => text.match(new RegExp(`^checkpoint_gateway_${name} (\\S+)$`, "m"))?.[1];
    try {
      gw.bus.emit("verdict", makeEvent("gw-ca", "L1", 1));
      // The CA is rotated to a new file name and the old path is gone; then a lane is added, which restarts the outputs.
      rmSync(ca);
      next = parseConfig(input(withL2));
      await expect(gw.reload()).rejects.toThrow(/mqtt\.tls\.ca/);
      for (let n = 2; n <= 4; n++) gw.bus.emit("verdict", makeEvent("gw-ca", n === 3 ? "L2" : "L1", n));
      expect(ledgerIds()).toEqual(["gw-ca:L1:1", "gw-ca:L1:2", "gw-ca:L2:3", "gw-ca:L1:4"]);
      // The lanes ran before the outputs failed; the outputs keep their previous sections.
      expect([...gw.lanes.keys()]).toEqual(["L1", "L2"]);
      expect(gw.config().lanes.map((l) => l.id)).toEqual(["L1", "L2"]);
      expect(gw.config().mqtt).toEqual(parseConfig(input(base)).mqtt);
      const off = await scrape();
      expect(sample(off, "mqtt_connected")).toBe("0");
      expect(sample(off, "mqtt_connections")).toBe("3");
      expect(sample(off, "mqtt_verdicts_dropped_total")).toBe("3");
      expect(sample(off, "ledger_entries")).toBe("4");
      const line = log.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.output === "mqtt" && l.code === "GW_MQTT_UNAVAILABLE");
      expect(line).toMatchObject({ level: "error" });
      // The CA is back: a reload of the same file starts MQTT again (a part left off is retried).
      writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
      expect((await gw.reload()).applied).toEqual([]);
      expect(sample(await scrape(), 'mqtt_publish_errors_total\\{kind="verdict"\\}')).toBe("0");
      gw.bus.emit("verdict", makeEvent("gw-ca", "L2", 5));
      expect(ledgerIds()).toHaveLength(5);
    } finally {
      await gw.close();
    }
  }, 90_000);

  it("a new display.heartbeatMs restarts MQTT, whose keepalive is sized from it", async () => {
    // keepaliveS 30 fits a 60 s heartbeat (screens give up after 210 s) but not a 2 s one (7 s).
    const base = { gateway: { id: "gw-hb", stateDir: join(dir, "state-hb") }, mqtt: { url: "mqtt://127.0.0.1:1883", keepaliveS: 30, topicPrefix: `t-hb-${process.pid}` } };
    let next = parseConfig(input({ ...base, display: { heartbeatMs: 60_000 } }));
    const log = captureLogger();
    const gw = await startGateway(next, { logger: log.logger, reloadConfig: () => next });
    const tooLong = () => log.lines.filter((l) => l.includes("mqtt.keepaliveS is too long")).length;
    try {
      expect(tooLong()).toBe(0);
      next = parseConfig(input({ ...base, display: { heartbeatMs: 2000 } }));
      expect((await gw.reload()).applied).toEqual(["display"]);
      expect(tooLong()).toBe(1);
    } finally {
      await gw.close();
    }
  }, 60_000);

  it("a reload that fails part-way keeps the old values of the steps that did not run, so the next reload applies them", async () => {
    const stateDir = join(dir, "state-partial");
    const base = { gateway: { id: "gw-rp", stateDir } };
    const withL2 = {
      ...base,
      cameras: [...input().cameras, { id: "c2", lane: "L2", ...SYNTHETIC, width: 320, height: 240, fps: 5 }],
      lanes: [{ id: "L1" }, { id: "L2" }],
      display: { heartbeatMs: 3000 },
    };
    let next = parseConfig(input(base));
    const gw = await startGateway(next, { logger: silentLogger, reloadConfig: () => next });
    try {
      // One edit: a lane with its camera, and a trust list whose root key path has a typo.
      next = parseConfig(input({ ...withL2, trust: { lists: [{ source: join(dir, "list.jws"), rootKey: join(dir, "NO-SUCH-root.jwk") }] } }));
      await expect(gw.reload()).rejects.toThrow();
      // What ran before the failing trust step is in; the trust step and the lanes after it are not.
      expect(gw.config().display.heartbeatMs).toBe(3000);
      expect(gw.config().trust.lists).toEqual([]);
      expect(gw.config().lanes.map((l) => l.id)).toEqual(["L1"]);
      expect(gw.config().cameras.map((c) => c.id)).toEqual(["c1"]);
      expect([...gw.lanes.keys()]).toEqual(["L1"]);
      // The typo fixed (the list dropped): the next reload builds the lane and its camera.
      next = parseConfig(input(withL2));
      const r = await gw.reload();
      expect(r.applied).toEqual(["lanes", "cameras"]);
      expect(r.details.lanes?.added).toEqual(["L2"]);
      expect(r.details.cameras?.added).toEqual(["c2"]);
      expect([...gw.lanes.keys()]).toEqual(["L1", "L2"]);
      expect(gw.config().lanes.map((l) => l.id)).toEqual(["L1", "L2"]);
    } finally {
      await gw.close();
    }
  }, 90_000);

  it("display.replayWindowS applies on reload: a pass used before at another lane is REPLAYED once the window is on", async () => {
    const c = await credentialsOnDisk();
    try {
      const two = (replayWindowS: number) =>
        parseConfig(
          input({
            gateway: { id: "gw-rw", stateDir: join(dir, "state-replay"), hashSalt: "reload-replay-salt-0123456789" },
            cameras: ["A", "B"].map((l) => ({ id: `cam-${l}`, lane: l, ...SYNTHETIC, width: 320, height: 240, fps: 4 })),
            lanes: [{ id: "A" }, { id: "B" }],
            trust: { lists: [{ source: c.trustList, rootKey: c.rootKey }] },
            display: { replayWindowS },
          }),
        );
      let next = two(0);
      const gw = await startGateway(next, { logger: silentLogger, reloadConfig: () => next });
      try {
        const verdicts: string[] = [];
        gw.bus.on("verdict", (v) => verdicts.push(`${v.lane} ${v.verdict} ${v.reason}`));
        await waitFor(() => [...gw.lanes.values()].every((l) => l.status().state === "idle"), "both lanes in service", 30_000);
        const show = (lane: string) => gw.lanes.get(lane)!.onDecode(result(`cam-${lane}`, 1, performance.now(), [c.creds.passes.valid]));
        // Replay protection turned on (it was off when the guard was built).
        next = two(600);
        expect((await gw.reload()).applied).toEqual(["display"]);
        expect(gw.config().display.replayWindowS).toBe(600);
        await show("A");
        await show("B");
        expect(verdicts).toEqual(["A PASS OK", "B FLAG REPLAYED"]);
      } finally {
        await gw.close();
      }
    } finally {
      rmSync(c.dir, { recursive: true, force: true });
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
  it("a reload runs the start-up checks: a missing clip or root key is invalid and applies nothing; an unreachable trust URL keeps the working store", async () => {
    const { dir: credDir, trustList, rootKey } = await credentialsOnDisk();
    const stateDir = join(dir, "state-preflight");
    // No synthetic camera here: the checks would (rightly) find no such clip.
    const camera = { id: "c1", lane: "L1", url: "rtsp://127.0.0.1:1/none", width: 320, height: 240, fps: 5 };
    const trust = (source: string, key = rootKey) => ({ lists: [{ source, rootKey: key }] });
    const base = { gateway: { id: "gw-pf", stateDir }, cameras: [camera], trust: trust(trustList) };
    let next = parseConfig(input(base));
    const gw = await startGateway(next, { logger: silentLogger, reloadConfig: () => checkedForReload(next) });
    const invalid = async () => (await (await fetch(`${gw.urls.public}/metrics`)).text()).match(/^checkpoint_gateway_config_reloads_total\{result="invalid"\} (\S+)$/m)?.[1];
    try {
      const before = gw.config();
      const trust0 = gw.trust;
      expect(trust0.status().stale).toBe(false);
      next = parseConfig(input({ ...base, cameras: [camera, { id: "c2", lane: "L1", source: "file", file: join(dir, "no-such-clip.ts"), width: 320, height: 240, fps: 5 }] }));
      await expect(gw.reload()).rejects.toMatchObject({ code: "GW_CONFIG_INVALID" });
      expect(await invalid()).toBe("1");
      next = parseConfig(input({ ...base, display: { replayWindowS: 20 }, trust: trust(trustList, join(dir, "no-such-root.jwk")) }));
      await expect(gw.reload()).rejects.toMatchObject({ code: "GW_CONFIG_INVALID" });
      expect(await invalid()).toBe("2");
      expect(gw.config()).toEqual(before);

      next = parseConfig(input({ ...base, trust: trust("https://127.0.0.1:1/list.jws") }));
      await expect(gw.reload()).rejects.toMatchObject({ code: "GW_TRUST_FETCH" });
      expect(gw.trust).toBe(trust0);
      expect(gw.trust.status().stale).toBe(false);
      expect(gw.config().trust).toEqual(before.trust);
    } finally {
      await gw.close();
      rmSync(credDir, { recursive: true, force: true });
    }
  }, 90_000);
});
