import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GatewayBus } from "../../src/core/bus.js";
import type { VerdictEvent } from "../../src/core/types.js";
import type { Outputs } from "../../src/app/outputs.js";
import { startOutputs, swapOutputs } from "../../src/app/outputs.js";
import { configSchema } from "../../src/config/schema.js";
import { createRedisClient } from "../../src/output/events/redis-client.js";
import { captureLogger, makeEvent, rid, rmDir, SHARED_MQTT, SHARED_REDIS, tmpDir, waitFor } from "../events/helpers.js";
import { redisScratch } from "../support/redis.js";

const verdict = (id: string) => ({ id }) as VerdictEvent;

/** Outputs whose ledger and spool only record what is appended to them directly. */
const recording = (onClose: () => void = () => {}) => {
  const ledger: string[] = [];
  const spool: string[] = [];
  const out = {
    ledger: { append: (ev: VerdictEvent) => void ledger.push(ev.id) },
    spool: { append: (ev: VerdictEvent) => void spool.push(ev.id) },
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
});

describe("swapOutputs with the real outputs (ledger, spool, MQTT)", () => {
  const dir = tmpDir("swap");
  const { redis, prefix } = redisScratch(SHARED_REDIS);
  afterAll(() => rmDir(dir));

  it("outputs that fail half-way are closed again: the ledger already subscribed stops listening and a verdict after the failure is not written", async () => {
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
    await expect(startOutputs(cfg, bus, captureLogger().logger, client)).rejects.toThrow();
    client.disconnect();
    expect(listeners()).toBe(0);
    bus.emit("verdict", makeEvent("gw-h", "L1", 1));
    const ledgerDir = join(stateDir, "ledger");
    const lines = readdirSync(ledgerDir).filter((f) => f.endsWith(".jsonl")).flatMap((f) => readFileSync(join(ledgerDir, f), "utf8").split("\n").filter(Boolean));
    expect(lines).toEqual([]);
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
