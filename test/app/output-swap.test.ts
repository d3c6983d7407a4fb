import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GatewayBus } from "../../src/core/bus.js";
import type { VerdictEvent } from "../../src/core/types.js";
import type { OutputPart, Outputs } from "../../src/app/outputs.js";
import { startOutputs, swapOutputs } from "../../src/app/outputs.js";
import { configSchema } from "../../src/config/schema.js";
import { createRedisClient } from "../../src/output/events/redis-client.js";
import { captureLogger, makeEvent, rid, rmDir, SHARED_MQTT, SHARED_REDIS, tmpDir, waitFor } from "../events/helpers.js";
import { redisScratch } from "../support/redis.js";

const verdict = (id: string) => ({ id }) as VerdictEvent;

/** Outputs whose ledger and spool only record what is appended to them directly; `off` names parts left off. */
const recording = (onClose: () => void = () => {}, off: OutputPart[] = []) => {
  const ledger: string[] = [];
  const spool: string[] = [];
  const out = {
    ...(off.includes("ledger") ? {} : { ledger: { append: (ev: VerdictEvent) => void ledger.push(ev.id) } }),
    ...(off.includes("spool") ? {} : { spool: { append: (ev: VerdictEvent) => void spool.push(ev.id) } }),
    off: new Map(off.map((p) => [p, new Error(`${p} cannot start`)])),
    close: async () => onClose(),
  } as unknown as Outputs;
  return { out, ledger, spool };
};

/** A real bus that counts its subscriptions, to see that the swap lets go of its own. */
const countingBus = () => {
  const bus = new GatewayBus();
  let listeners = 0;
  const on = bus.on.bind(bus);
  bus.on = ((event: "verdict", fn: (ev: VerdictEvent) => void) => {
    listeners++;
    const off = on(event, fn);
    return () => {
      listeners--;
      off();
    };
  }) as GatewayBus["on"];
  return { bus, listeners: () => listeners };
};

describe("swapOutputs", () => {
  it("verdicts decided while the old outputs close and the new ones start reach the new ledger and spool", async () => {
    const { bus, listeners } = countingBus();
    const old = recording(() => bus.emit("verdict", verdict("during-close")));
    const next = recording();
    const running = await swapOutputs(bus, old.out, async () => {
      bus.emit("verdict", verdict("during-start"));
      return next.out;
    });
    expect(running).toEqual({ outputs: next.out });
    expect(next.ledger).toEqual(["during-close", "during-start"]);
    expect(next.spool).toEqual(["during-close", "during-start"]);
    // After the swap nothing is held any more: the new outputs' own subscriptions take over.
    expect(listeners()).toBe(0);
  });

  it("outputs that fail to start reject the swap (the reload reports it) after the old ones closed", async () => {
    const { bus, listeners } = countingBus();
    let closed = false;
    await expect(swapOutputs(bus, recording(() => (closed = true)).out, () => Promise.reject(new Error("broker config")))).rejects.toThrow("broker config");
    expect(closed).toBe(true);
    expect(listeners()).toBe(0);
  });

  it("outputs that fail to start are replaced by the previous ones again, which get every verdict held meanwhile", async () => {
    const { bus, listeners } = countingBus();
    const restored = recording();
    const r = await swapOutputs(
      bus,
      recording(() => bus.emit("verdict", verdict("during-close"))).out,
      async () => {
        bus.emit("verdict", verdict("during-failed-start"));
        throw new Error("spool dir unwritable");
      },
      async () => {
        bus.emit("verdict", verdict("during-restore"));
        return restored.out;
      },
    );
    expect(r.outputs).toBe(restored.out);
    expect(r.failed?.message).toBe("spool dir unwritable");
    expect(restored.ledger).toEqual(["during-close", "during-failed-start", "during-restore"]);
    expect(restored.spool).toEqual(["during-close", "during-failed-start", "during-restore"]);
    expect(listeners()).toBe(0);
  });

  it("new outputs that leave off a part the old ones ran are closed, and the previous ones start again with every verdict held meanwhile", async () => {
    const { bus, listeners } = countingBus();
    let newClosed = false;
    const started = recording(() => (newClosed = true), ["spool"]);
    const restored = recording(undefined, ["spool"]);
    const r = await swapOutputs(
      bus,
      recording(() => bus.emit("verdict", verdict("during-close"))).out,
      async () => {
        bus.emit("verdict", verdict("during-start"));
        return started.out;
      },
      async () => restored.out,
    );
    expect(newClosed).toBe(true);
    expect(r.outputs).toBe(restored.out);
    expect(r.failed?.message).toBe("spool cannot start");
    // The restore's spool cannot start either: the ledger still gets every verdict.
    expect(restored.ledger).toEqual(["during-close", "during-start"]);
    expect(listeners()).toBe(0);
  });

  it("a part that was off before the swap and is off again is no failure: the new outputs stay (the swap is what tried it again)", async () => {
    const { bus } = countingBus();
    const next = recording(undefined, ["spool"]);
    let restored = false;
    const r = await swapOutputs(bus, recording(undefined, ["spool"]).out, async () => next.out, async () => {
      restored = true;
      return recording().out;
    });
    expect(r).toEqual({ outputs: next.out });
    expect(restored).toBe(false);
  });
});

describe("swapOutputs with the real outputs (ledger, spool, MQTT)", () => {
  const dir = tmpDir("swap");
  const { redis, prefix } = redisScratch(SHARED_REDIS);
  afterAll(() => rmDir(dir));

  it("a part that cannot start is left off, logged and counted; the ledger still records every verdict, and close lets go of the bus", async () => {
    const stateDir = join(dir, "half-way");
    mkdirSync(stateDir, { recursive: true });
    // The spool's directory is a file: the ledger starts and subscribes, then the spool cannot start.
    writeFileSync(join(stateDir, "spool"), "not a directory");
    const cfg = configSchema.parse({
      gateway: { id: "gw-h", stateDir },
      cameras: [],
      lanes: [{ id: "L1" }],
      redis: { url: SHARED_REDIS, keyPrefix: prefix, stream: `${prefix}half` },
    });
    const client = createRedisClient(cfg.redis!);
    await waitFor(() => client.status === "ready", "redis ready");
    const { bus, listeners } = countingBus();
    const { logger, lines } = captureLogger();
    const out = await startOutputs(cfg, bus, logger, client);
    client.disconnect();
    expect([...out.off.keys()]).toEqual(["spool"]);
    expect(out.spool).toBeUndefined();
    bus.emit("verdict", makeEvent("gw-h", "L1", 1));
    bus.emit("verdict", makeEvent("gw-h", "L1", 2));
    const ledgerDir = join(stateDir, "ledger");
    const ids = () => readdirSync(ledgerDir).filter((f) => f.endsWith(".jsonl")).flatMap((f) => readFileSync(join(ledgerDir, f), "utf8").split("\n").filter(Boolean)).map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids()).toEqual(["gw-h:L1:1", "gw-h:L1:2"]);
    // /metrics: the failed start and each verdict since are spool writes that failed.
    expect(out.spoolStats?.()).toMatchObject({ spooled: 0, pending: 0, writeErrors: 3 });
    const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.output === "spool");
    expect(line).toMatchObject({ level: "error", errno: "EEXIST" });
    await out.close();
    expect(listeners()).toBe(0);
    bus.emit("verdict", makeEvent("gw-h", "L1", 3));
    expect(ids()).toHaveLength(2);
  });

  it("ledger and MQTT both left off (ledger directory unusable, MQTT CA file missing): startOutputs still resolves, each part logged with its code and counted on its own", async () => {
    const stateDir = join(dir, "all-off");
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, "ledger"), "not a directory");
    const cfg = configSchema.parse({
      gateway: { id: "gw-o", stateDir },
      cameras: [],
      lanes: [{ id: "L1" }, { id: "L2" }],
      mqtt: { url: "mqtts://127.0.0.1:1", tls: { ca: join(stateDir, "no-such-ca.pem") } },
    });
    const { bus, listeners } = countingBus();
    const { logger, lines } = captureLogger();
    const out = await startOutputs(cfg, bus, logger, undefined);
    expect([...out.off.keys()]).toEqual(["ledger", "mqtt"]);
    bus.emit("verdict", makeEvent("gw-o", "L1", 1));
    expect(out.ledgerStats?.()).toEqual({ entries: 0, writeErrors: 2, degraded: true, damaged: false });
    expect(out.mqttStats?.()).toEqual({ connected: 0, links: 3, reconnects: 0, verdictsPublished: 0, verdictsDropped: 1 });
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.output !== undefined && l.level === "error");
    expect(logged.map((l) => [l.output, l.code])).toEqual([
      ["ledger", "GW_LEDGER_FSYNC"],
      ["mqtt", "GW_MQTT_UNAVAILABLE"],
    ]);
    await out.close();
    expect(listeners()).toBe(0);
  });

  it("a signing key that cannot be read does not cost the ledger: it records, and the heads go out unsigned (GW_LEDGER_ANCHOR)", async () => {
    const stateDir = join(dir, "no-key");
    mkdirSync(stateDir, { recursive: true });
    const cfg = configSchema.parse({ gateway: { id: "gw-k", stateDir, signingKey: join(stateDir, "gone.jwk.json") }, cameras: [], lanes: [{ id: "L1" }] });
    const { logger, lines } = captureLogger();
    const out = await startOutputs(cfg, new GatewayBus(), logger, undefined);
    try {
      expect(out.off.size).toBe(0);
      out.ledger!.append(makeEvent("gw-k", "L1", 1));
      expect(out.ledgerStats?.()).toMatchObject({ entries: 1, writeErrors: 0 });
      expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.code === "GW_LEDGER_ANCHOR")).toMatchObject({ level: "error" });
    } finally {
      await out.close();
    }
  });

  it("a verdict decided while the new outputs still start is written once, and in order, to the ledger and the stream", async () => {
    const cfg = configSchema.parse({
      gateway: { id: "gw-s", stateDir: dir },
      cameras: [],
      lanes: [{ id: "L1" }],
      redis: { url: SHARED_REDIS, keyPrefix: prefix, stream: `${prefix}verdicts` },
      mqtt: { url: SHARED_MQTT, topicPrefix: `t-${rid()}` },
    });
    const { logger, lines } = captureLogger();
    const client = createRedisClient(cfg.redis!);
    await waitFor(() => client.status === "ready", "redis ready");
    const bus = new GatewayBus();
    const ev = (n: number) => makeEvent("gw-s", "L1", n);
    const old = await startOutputs(cfg, bus, logger, client);
    bus.emit("verdict", ev(1));
    let duringMqttStart = true;
    const { outputs: next } = await swapOutputs(bus, old, async (handoff) => {
      // Decided between the old outputs closing and the new ones subscribing: held only.
      bus.emit("verdict", ev(2));
      const started = startOutputs(cfg, bus, logger, client, {
        handoff,
        // MQTT reads the lanes while it starts, after the ledger and the spool subscribed.
        laneStatus: () => {
          if (duringMqttStart) bus.emit("verdict", ev(4));
          duringMqttStart = false;
          return undefined;
        },
      });
      // The ledger has subscribed; the spool waits for its own start.
      bus.emit("verdict", ev(3));
      return started;
    });
    bus.emit("verdict", ev(5));
    expect(next.spool!.stats()).toMatchObject({ spooled: 4, duplicates: 0, skippedIds: 0 });
    await next.close();
    client.disconnect();

    const want = [1, 2, 3, 4, 5].map((n) => ev(n).id);
    const ledgerDir = join(dir, "ledger");
    const ids = readdirSync(ledgerDir)
      .filter((f) => f.endsWith(".jsonl"))
      .sort()
      .flatMap((f) => readFileSync(join(ledgerDir, f), "utf8").split("\n").filter(Boolean))
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual(want);
    const stream = await redis.xrange(cfg.redis!.stream, "-", "+");
    expect(stream.map(([, fields]) => fields[fields.indexOf("id") + 1])).toEqual(want);
    expect(lines.filter((l) => l.includes("GW_EVENTS_ID_SKIPPED"))).toEqual([]);
  });
});
