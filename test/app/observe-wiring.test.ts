import { afterAll, describe, expect, it } from "vitest";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { configSchema } from "../../src/config/schema.js";
import { GatewayBus } from "../../src/core/bus.js";
import { startOutputs } from "../../src/app/outputs.js";
import { metricsCollectors, statsSnapshot, type Observed } from "../../src/app/observe.js";
import { statsPayload } from "../../src/output/mqtt/payloads.js";
import { FakeClock, systemClock } from "../../src/core/clock.js";
import type { Logger } from "../../src/core/logger.js";
import { Lane, LocalReplayGuard, MemorySeqStore, RedisReplayGuard, type PauseStore } from "../../src/lane/index.js";
import { LanePauses } from "../../src/app/pauses.js";
import { startGateway } from "../../src/app/gateway.js";
import { parseConfig } from "../../src/config/load.js";
import { laneSchema } from "../../src/lane/options.js";
import { GatewayMetrics } from "../../src/output/metrics/index.js";
import type { TrustStore } from "../../src/verify/trust/index.js";
import { Redis } from "ioredis";
import { createRedisClient } from "../../src/output/events/redis-client.js";
import { recordLine } from "../../src/output/events/spool-file.js";
import { toWireEvent } from "../../src/output/events/wire.js";
import { createLedger } from "../../src/output/ledger/ledger.js";
import { captureLogger, makeEvent, makeReadOnly, rid, rmDir, SHARED_REDIS, tmpDir, waitFor } from "../events/helpers.js";
import { deleteKeysWith } from "../support/redis.js";

const p = "checkpoint_gateway_";
const dirs: string[] = [];
afterAll(() => dirs.forEach(rmDir));

const sample = (text: string, name: string) => text.match(new RegExp(`^${p}${name} (\\S+)$`, "m"))?.[1];

describe("stage stats reach /metrics through the gateway wiring", () => {
  it("a ledger whose disk refuses writes shows its write errors and degraded", async () => {
    const dir = tmpDir("observe-ledger");
    dirs.push(dir);
    const cfg = configSchema.parse({ gateway: { id: "gw-o", stateDir: dir }, cameras: [], lanes: [{ id: "L1" }] });
    const { logger, lines } = captureLogger();
    const bus = new GatewayBus();
    const out = await startOutputs(cfg, bus, logger, undefined);
    const metrics = new GatewayMetrics({ processMetrics: false });
    metrics.setCollectors({ ledger: () => out.ledgerStats?.() });

    bus.emit("verdict", makeEvent("gw-o", "L1", 1));
    const ok = await metrics.render();
    expect(sample(ok, "ledger_entries")).toBe("1");
    expect(sample(ok, "ledger_degraded")).toBe("0");
    expect(sample(ok, "ledger_write_errors_total")).toBe("0");
    expect(out.ledgerStats!().lastWriteAt).toBeGreaterThan(0);

    // The disk now refuses new files: the entry still goes to the open file, but the head file
    // cannot be replaced (under the default `interval` policy at the next second's fsync, after the
    // entries it names). The ledger contains the failure itself (it no longer throws, which is all
    // the old wiring counted), so /metrics must read the ledger's own counters.
    const undo = makeReadOnly(join(dir, "ledger"));
    try {
      bus.emit("verdict", makeEvent("gw-o", "L1", 2));
      await waitFor(() => out.ledgerStats!().writeErrors >= 1, "the head write refused", 5_000);
    } finally {
      undo();
    }
    const bad = await metrics.render();
    expect(Number(sample(bad, "ledger_write_errors_total"))).toBeGreaterThanOrEqual(1);
    expect(sample(bad, "ledger_degraded")).toBe("1");
    expect(sample(bad, "ledger_fsync_errors_total")).toBe("0");
    expect(lines.some((l) => l.includes("GW_LEDGER_FSYNC"))).toBe(true);
    await out.close();
  });

  it("the trust store's refused deltas and refused cache copies are exported", async () => {
    const trust = { stats: () => ({ revocationDeltasApplied: 2, revocationDeltasRefused: 5, cacheCopiesRefused: 3 }) } as unknown as TrustStore;
    const metrics = new GatewayMetrics({ processMetrics: false });
    const c = metricsCollectors({ trust } as Observed);
    metrics.setCollectors({ trustCounters: c.trustCounters! });
    const text = await metrics.render();
    expect(sample(text, "trust_revocation_deltas_applied")).toBe("2");
    expect(sample(text, "trust_revocation_deltas_refused_total")).toBe("5");
    expect(sample(text, "trust_cache_copies_refused_total")).toBe("3");
  });

  it("a lane decision that fails (no verdict published) shows in lane_decision_errors_total", async () => {
    // The verdict log line throws once after the id was taken: the decision fails outside verification.
    let failed = false;
    const flakyLog = {
      info: (_o: unknown, msg?: string) => {
        if (msg === "verdict" && !failed) {
          failed = true;
          throw new Error("EIO: log write");
        }
      },
      error() {},
      warn() {},
      debug() {},
      trace() {},
      fatal() {},
      child: () => flakyLog,
    } as unknown as Logger;
    const lane = new Lane({
      config: laneSchema.parse({ id: "L1" }),
      gatewayId: "gw",
      cameraIds: ["c1"],
      verify: () => ({ verdict: "FLAG", reason: "KEY_UNKNOWN", format: "pass" }),
      replay: new LocalReplayGuard(systemClock, 60000),
      bus: new GatewayBus(),
      clock: systemClock,
      logger: flakyLog,
      salt: "salt-0123456789abcdef",
      seq: new MemorySeqStore(),
      startupGraceMs: 0,
    });
    try {
      lane.setCameraUp("c1", true);
      const frame = (text: string, t: number) => ({ cameraId: "c1", seq: t, receivedAt: t, codes: [{ text, bytes: new Uint8Array(), format: "QRCode", corners: [[0, 0], [1, 0], [1, 1], [0, 1]] }], timings: { queueMs: 0, decodeMs: 1, passes: ["fast"] } });
      const metrics = new GatewayMetrics({ processMetrics: false });
      metrics.setCollectors(metricsCollectors({ lanes: new Map([["L1", lane]]) } as unknown as Observed));
      expect(sample(await metrics.render(), 'lane_decision_errors_total\\{lane="L1"\\}')).toBe("0");
      await lane.onDecode(frame("CODE-A", performance.now()) as never);
      expect(sample(await metrics.render(), 'lane_decision_errors_total\\{lane="L1"\\}')).toBe("1");
    } finally {
      lane.close();
    }
  });

  it("the MQTT stats topic carries the ledger, spool (only with Redis) and trust numbers", async () => {
    const dir = tmpDir("observe-stats");
    dirs.push(dir);
    const cfg = configSchema.parse({ gateway: { id: "gw-s", stateDir: dir }, cameras: [], lanes: [{ id: "L1" }] });
    const bus = new GatewayBus();
    const out = await startOutputs(cfg, bus, captureLogger().logger, undefined);
    for (let i = 1; i <= 3; i++) bus.emit("verdict", makeEvent("gw-s", "L1", i));
    // Only what statsSnapshot reads of the other stages; the outputs are the real ones.
    const observed = {
      lanes: new Map(),
      cameras: { info: () => [] },
      pool: { stats: () => ({ workers: 1, busy: 0, restarts: 0, cameras: {} }) },
      trust: { status: () => ({ stale: true }), stats: () => ({ revocationDeltasApplied: 0, revocationDeltasRefused: 7, cacheCopiesRefused: 1 }) },
      clock: new FakeClock(),
      outputs: () => out,
    } as unknown as Observed;
    const mqtt = { connected: 1, links: 1, reconnects: 0, verdictsPublished: 0, verdictsDropped: 0, commandsAccepted: 0, commandsRejected: 0 };
    const payload = JSON.parse(JSON.stringify(statsPayload(statsSnapshot(observed), { gatewayId: "gw-s", version: "0.0.0", nowMs: 0, startedAtMs: 0, mqtt }))) as Record<string, unknown>;
    expect(payload.ledger).toEqual({ entries: 3, writeErrors: 0, fsyncErrors: 0, degraded: false });
    expect(payload.trust).toEqual({ stale: true, revocationDeltasRefused: 7, cacheCopiesRefused: 1 });
    expect(payload).not.toHaveProperty("events");
    await out.close();
  });

  it("with Redis, the stats topic and /metrics carry the spool's numbers", async () => {
    const dir = tmpDir("observe-spool");
    dirs.push(dir);
    const prefix = `cpgw-test-${rid()}:`;
    const cfg = configSchema.parse({
      gateway: { id: "gw-r", stateDir: dir },
      cameras: [],
      lanes: [{ id: "L1" }],
      events: { ledger: false },
      redis: { url: SHARED_REDIS, keyPrefix: prefix, stream: `${prefix}verdicts` },
    });
    const client = createRedisClient(cfg.redis!);
    const admin = new Redis(SHARED_REDIS);
    try {
      await waitFor(() => client.status === "ready", "redis ready");
      const bus = new GatewayBus();
      const out = await startOutputs(cfg, bus, captureLogger().logger, client);
      for (let i = 1; i <= 4; i++) bus.emit("verdict", makeEvent("gw-r", "L1", i));
      await out.spool!.flush();
      const observed = {
        lanes: new Map(),
        cameras: { info: () => [] },
        pool: { stats: () => ({ workers: 1, busy: 0, restarts: 0, cameras: {} }) },
        trust: { status: () => ({ stale: false }), stats: () => ({ revocationDeltasApplied: 0, revocationDeltasRefused: 0, cacheCopiesRefused: 0 }) },
        clock: new FakeClock(),
        outputs: () => out,
      } as unknown as Observed;
      const snap = statsSnapshot(observed);
      expect(snap.events).toMatchObject({ pending: 0, dropped: 0, forwarded: 4, alreadyForwarded: 0, skippedIds: 0 });
      expect(snap).not.toHaveProperty("ledger");
      const metrics = new GatewayMetrics({ processMetrics: false });
      metrics.setCollectors(metricsCollectors(observed));
      const text = await metrics.render();
      expect(sample(text, "events_forwarded_total")).toBe("4");
      expect(sample(text, "events_skipped_ids_total")).toBe("0");
      expect(sample(text, "events_already_forwarded_total")).toBe("0");
      expect(sample(text, "events_spool_write_errors_total")).toBe("0");
      expect(sample(text, "events_spool_fsync_errors_total")).toBe("0");
      expect(sample(text, "events_spool_degraded")).toBe("0");
      await out.close();
    } finally {
      client.disconnect();
      await deleteKeysWith(admin, prefix);
      admin.disconnect();
    }
  });

  it("the replay guard's degraded state and the pause store's errors are exported; an in-process guard has no series", async () => {
    let down = true;
    const redis = { set: () => (down ? Promise.reject(new Error("ECONNREFUSED")) : Promise.resolve("OK" as const)), get: () => Promise.resolve(null), eval: () => Promise.resolve(0) };
    const replay = new RedisReplayGuard({ redis, keyPrefix: "t:", windowMs: 5000, local: new LocalReplayGuard(new FakeClock(), 5000), logger: captureLogger().logger });
    const store: PauseStore = {
      load: () => ({ paused: [], error: "unexpected end of JSON" }),
      save: () => {
        throw new Error("EROFS");
      },
    };
    const pauses = new LanePauses(store, captureLogger().logger);
    const c = metricsCollectors({ replay, pauses } as unknown as Observed);
    const metrics = new GatewayMetrics({ processMetrics: false });
    metrics.setCollectors({ replayGuardDegraded: c.replayGuardDegraded!, pauses: c.pauses! });
    expect(sample(await metrics.render(), "replay_guard_degraded")).toBe("0");
    await replay.claim("h1", "L1");
    pauses.set("L1", true);
    const bad = await metrics.render();
    expect(sample(bad, "replay_guard_degraded")).toBe("1");
    expect(sample(bad, 'lane_pause_store_errors_total\\{op="load"\\}')).toBe("1");
    expect(sample(bad, 'lane_pause_store_errors_total\\{op="save"\\}')).toBe("1");
    down = false;
    await replay.claim("h2", "L1");
    expect(sample(await metrics.render(), "replay_guard_degraded")).toBe("0");

    const local = metricsCollectors({ replay: new LocalReplayGuard(new FakeClock(), 5000) } as unknown as Observed);
    expect(local.replayGuardDegraded!()).toBeUndefined();
    expect(metricsCollectors({} as Observed)).not.toHaveProperty("pauses");
  });
});

describe("the HTTP server's and the reloader's numbers reach /metrics", () => {
  it("TLS expiry and reload errors, auth and display refusals, config reloads; none of them without their source", async () => {
    const http = {
      tls: () => [{ listener: "public", validTo: 1_900_000_000_000, reloadErrors: 3 }],
      authRefusals: () => [{ listener: "admin", reason: "bad-token", count: 7 }],
      displayRefusals: () => [{ lane: "L1", reason: "SLOW_CLIENT", count: 2 }],
    };
    const reloads = () => ({ applied: 4, failed: 0, invalid: 1, lastAppliedAt: 1_800_000_000_000, restartRequired: true });
    const metrics = new GatewayMetrics({ processMetrics: false });
    const c = metricsCollectors({ http, reloads } as unknown as Observed);
    metrics.setCollectors({ tls: c.tls, authRefusals: c.authRefusals, displayRefusals: c.displayRefusals, configReloads: c.configReloads });
    const t = await metrics.render();
    expect(sample(t, 'tls_certificate_expiry_timestamp_seconds\\{listener="public"\\}')).toBe("1900000000");
    expect(sample(t, 'tls_reload_errors_total\\{listener="public"\\}')).toBe("3");
    expect(sample(t, 'http_auth_refusals_total\\{listener="admin",reason="bad-token"\\}')).toBe("7");
    expect(sample(t, 'lane_display_refusals_total\\{lane="L1",reason="SLOW_CLIENT"\\}')).toBe("2");
    expect(sample(t, 'config_reloads_total\\{result="invalid"\\}')).toBe("1");
    expect(sample(t, "config_last_reload_timestamp_seconds")).toBe("1800000000");
    expect(sample(t, "config_restart_required")).toBe("1");
    const none = metricsCollectors({} as Observed);
    for (const k of ["tls", "authRefusals", "displayRefusals", "configReloads"]) expect(none).not.toHaveProperty(k);
  });
});

/**
 * A real gateway on `dir` with the shared Redis under a fresh key prefix, no cameras, one decode
 * worker; `run` gets it, and the prefix's keys are deleted afterwards.
 */
async function withRedisGateway(dir: string, id: string, lanes: string[], run: (g: { gw: Awaited<ReturnType<typeof startGateway>>; admin: Redis; prefix: string }) => Promise<void>, logger: Logger = captureLogger().logger): Promise<void> {
  const prefix = `cpgw-test-${rid()}:`;
  const cfg = parseConfig({
    gateway: { id, stateDir: dir },
    server: { listen: { host: "127.0.0.1", port: 0 } },
    decode: { workers: 1 },
    cameras: [],
    lanes: lanes.map((l) => ({ id: l })),
    redis: { url: SHARED_REDIS, keyPrefix: prefix, stream: `${prefix}verdicts` },
  });
  const admin = new Redis(SHARED_REDIS);
  const gw = await startGateway(cfg, { logger });
  try {
    await run({ gw, admin, prefix });
  } finally {
    await gw.close();
    await deleteKeysWith(admin, prefix);
    admin.disconnect();
  }
}

describe("the running gateway hands the new stats to /metrics", () => {
  it("with Redis: the ledger head anchored in Redis, the replay guard, and an unreadable pause state file", async () => {
    const dir = tmpDir("observe-gateway");
    dirs.push(dir);
    mkdirSync(join(dir, "lanes"), { recursive: true });
    writeFileSync(join(dir, "lanes", "paused.json"), "{torn");
    await withRedisGateway(dir, "gw-m", ["L1"], async ({ gw }) => {
      const scrape = async () => (await fetch(`${gw.urls.public}/metrics`)).text();
      const first = await scrape();
      expect(sample(first, 'lane_pause_store_errors_total\\{op="load"\\}')).toBe("1");
      expect(sample(first, 'lane_pause_store_errors_total\\{op="save"\\}')).toBe("0");
      expect(sample(first, "replay_guard_degraded")).toBe("0");
      expect(sample(first, "ledger_anchor_sign_errors_total")).toBe("0");
      gw.bus.emit("verdict", makeEvent("gw-m", "L1", 1));
      gw.bus.emit("verdict", makeEvent("gw-m", "L1", 2));
      // The anchor publishes the newest head within its interval (1 s).
      await waitFor(async () => sample(await scrape(), 'ledger_anchor_lag\\{sink="redis"\\}') === "0", "head anchored in Redis");
      const anchored = await scrape();
      expect(sample(anchored, "ledger_entries")).toBe("2");
      expect(Number(sample(anchored, 'ledger_anchor_published_total\\{sink="redis"\\}'))).toBeGreaterThanOrEqual(1);
      expect(sample(anchored, 'ledger_anchor_failures_total\\{sink="redis"\\}')).toBe("0");
    });
  }, 60_000);
});

/** A ledger under `dir` holding `n` entries of lane L1, its newest file ending in `tail`; returns that file's name. */
async function ledgerEndingIn(dir: string, gatewayId: string, n: number, tail: string): Promise<string> {
  const ledger = createLedger({ dir: join(dir, "ledger"), gatewayId });
  for (let i = 1; i <= n; i++) ledger.append(makeEvent(gatewayId, "L1", i));
  await ledger.close();
  appendFileSync(join(dir, "ledger", ledger.head()!.file), tail);
  return ledger.head()!.file;
}

describe("a ledger whose last entry is damaged (GW_LEDGER_DAMAGED)", () => {
  it("the gateway starts without it, says where on /metrics and in the log, leaves the file, and the spool still gets the verdicts", async () => {
    const dir = tmpDir("observe-ledger-damaged");
    dirs.push(dir);
    const name = await ledgerEndingIn(dir, "gw-d", 2, "garbage from a failing card\n");
    const file = join(dir, "ledger", name);
    const before = readFileSync(file, "utf8");
    const log = captureLogger();
    await withRedisGateway(dir, "gw-d", ["L1"], async ({ gw, admin, prefix }) => {
      const t = await (await fetch(`${gw.urls.public}/metrics`)).text();
      expect(sample(t, "ledger_damaged")).toBe("1");
      expect(sample(t, "ledger_degraded")).toBe("1");
      const line = log.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.code === "GW_LEDGER_DAMAGED");
      expect(line).toMatchObject({ file: name, line: 3 });
      gw.bus.emit("verdict", makeEvent("gw-d", "L1", 3));
      await waitFor(async () => (await admin.xlen(`${prefix}verdicts`)) === 1, "the verdict in the stream");
      expect(readFileSync(file, "utf8")).toBe(before);
    }, log.logger);
  }, 60_000);
});

describe("what a start after a crash recovered reaches /metrics", () => {
  it("a torn seq file, a spool without its state file and with a torn line, a ledger with a torn entry", async () => {
    const dir = tmpDir("observe-recovery");
    dirs.push(dir);
    // The last run: L1's ids 1..3 in the ledger, 4 and 5 still in the spool when the power went.
    await ledgerEndingIn(dir, "gw-c", 3, '{"seq":4,"time":"2026-');
    mkdirSync(join(dir, "spool"), { recursive: true });
    const rec = (seq: number) => recordLine(seq - 3, JSON.stringify(toWireEvent(makeEvent("gw-c", "L1", seq))));
    writeFileSync(join(dir, "spool", "spool.jsonl"), `{"epoch":"00112233aabbccdd","base":0}\n${rec(4)}${rec(5)}{"n":3,"e":{"id":"gw-c:L1:6`);
    mkdirSync(join(dir, "lanes"), { recursive: true });
    writeFileSync(join(dir, "lanes", "L1.seq"), "\u0000\u0000");
    await withRedisGateway(dir, "gw-c", ["L1", "L2"], async ({ gw, admin, prefix }) => {
      const t = await (await fetch(`${gw.urls.public}/metrics`)).text();
      expect(sample(t, 'events_seq_recovered\\{lane="L1"\\}')).toBe("1");
      expect(sample(t, 'events_seq_recovered\\{lane="L2"\\}')).toBe("0");
      expect(sample(t, 'events_seq_ids_skipped\\{lane="L1"\\}')).toBe("1000");
      expect(sample(t, 'events_seq_ids_skipped\\{lane="L2"\\}')).toBe("0");
      expect(sample(t, "events_spool_recovered_at_start")).toBe("2");
      expect(sample(t, "events_spool_records_damaged_total")).toBe("1");
      expect(sample(t, "events_spool_state_recovered")).toBe("1");
      expect(sample(t, "events_spool_state_lost")).toBe("0");
      expect(sample(t, "ledger_torn_entries_cut_total")).toBe("1");
      // The recovered backlog is forwarded as usual.
      await waitFor(async () => (await admin.xlen(`${prefix}verdicts`)) === 2, "the 2 recovered events in the stream");
    });
  }, 60_000);
});
