import { afterAll, describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import mqtt from "mqtt";
import { GatewayBus } from "../../src/core/bus.js";
import { shortHash } from "../../src/core/hash.js";
import type { VerdictEvent } from "../../src/core/types.js";
import { mqttSection } from "../../src/output/options.js";
import { createEventSpool } from "../../src/output/events/spool.js";
import { createLedger } from "../../src/output/ledger/ledger.js";
import { createMqttOutput } from "../../src/output/mqtt/mqtt-output.js";
import { captureLogger, freePort, makeEvent, rid, rmDir, SHARED_MQTT, SHARED_REDIS, tmpDir, waitFor } from "./helpers.js";

const PAYLOAD = "HC1:NCFOXN%TSMAHN-HVN8J7UQMJ4/36 L-AHQ+R1WG%MP8*ICG5QKM0658WAULO8NASN1VS2Z3";
const NAME = "Nguyen Thi Bi Mat";
const BIRTH = "1987-06-05";
const dir = tmpDir("privacy");
const stream = `test:privacy:${rid()}`;
const prefix = `test-${rid()}`;
const redis = new Redis(SHARED_REDIS);

afterAll(async () => {
  const markers = await redis.keys(`{${stream}}:spool:*`);
  await redis.del(stream, ...markers);
  redis.disconnect();
  const c = await mqtt.connectAsync(SHARED_MQTT);
  for (const t of ["status", "lanes/L1/status"]) await c.publishAsync(`${prefix}/gw-p/${t}`, "", { retain: true, qos: 1 });
  await c.endAsync();
  rmDir(dir);
});

/** A verdict as a buggy upstream might hand it over: PII smuggled in extra and code fields. */
function leakyEvent(seq: number): VerdictEvent {
  return {
    ...makeEvent("gw-p", "L1", seq),
    payloadHash: shortHash(PAYLOAD, "salt-for-test-only"),
    reason: seq === 2 ? `NAME ${NAME}` : "OK",
    ruleId: seq === 3 ? PAYLOAD : undefined,
    ...({ payload: PAYLOAD, holder: { name: NAME, dob: BIRTH }, text: PAYLOAD } as object),
  } as VerdictEvent;
}

describe("no payload or personal data leaves the gateway", () => {
  it("bus -> spool file -> stream -> ledger -> MQTT -> logs carry none of it", async () => {
    const { logger, lines } = captureLogger("trace");
    const bus = new GatewayBus();
    // Phase 1: Redis unreachable, so the events sit in the spool file where we can read them.
    const deadPort = await freePort();
    const dead = new Redis(deadPort, "127.0.0.1", { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 500 });
    dead.on("error", () => undefined);
    const spoolA = createEventSpool({ dir: join(dir, "spool"), fsync: "always", maxBytes: 1 << 20, redis: dead, stream, logger, gatewayId: "gw-p" });
    const ledger = createLedger({ dir: join(dir, "ledger"), gatewayId: "gw-p", logger });
    const mq = createMqttOutput({ config: mqttSection.parse({ url: SHARED_MQTT, topicPrefix: prefix })!, gatewayId: "gw-p", lanes: ["L1"], bus, logger });
    const sub = await mqtt.connectAsync(SHARED_MQTT);
    const mqttSeen: string[] = [];
    sub.on("message", (t, p) => mqttSeen.push(`${t} ${p.toString()}`));
    await sub.subscribeAsync(`${prefix}/#`, { qos: 1 });
    await spoolA.start();
    await mq.start();
    const offA = bus.on("verdict", (ev) => spoolA.append(ev));
    bus.on("verdict", (ev) => ledger.append(ev));
    for (let i = 1; i <= 3; i++) bus.emit("verdict", leakyEvent(i));
    const spoolText = readFileSync(join(dir, "spool", "spool.jsonl"), "utf8");
    expect(spoolText.split("\n").filter((l) => l.startsWith('{"n":'))).toHaveLength(3);
    await spoolA.close();
    dead.disconnect();
    offA();
    // Phase 2: Redis reachable; the spooled events and a new one reach the stream.
    const spoolB = createEventSpool({ dir: join(dir, "spool"), fsync: "always", maxBytes: 1 << 20, redis, stream, logger, gatewayId: "gw-p" });
    await spoolB.start();
    bus.on("verdict", (ev) => spoolB.append(ev));
    bus.emit("verdict", leakyEvent(4));
    await spoolB.flush();
    await waitFor(() => mqttSeen.filter((m) => m.includes("/verdict ")).length === 4, "4 MQTT verdicts");
    await spoolB.close();
    await ledger.close();
    await mq.close();
    await sub.endAsync();

    const streamText = JSON.stringify(await redis.xrange(stream, "-", "+"));
    const ledgerText = readdirSync(join(dir, "ledger")).map((f) => readFileSync(join(dir, "ledger", f), "utf8")).join("");
    const corpus = { spool: spoolText, stream: streamText, ledger: ledgerText, mqtt: mqttSeen.join("\n"), logs: lines.join("\n") };
    // The scan must be looking at real data, or it proves nothing.
    expect(streamText).toContain("gw-p:L1:4");
    expect(ledgerText.split("\n").filter((l) => l.includes('"prev"'))).toHaveLength(4);
    expect(lines.some((l) => l.includes("GW_REDIS_UNAVAILABLE"))).toBe(true);
    const needles = [PAYLOAD, PAYLOAD.slice(4, 24), NAME, "Bi Mat", BIRTH, "holder", '"payload"'];
    for (const [where, text] of Object.entries(corpus)) {
      for (const needle of needles) expect(text.toLowerCase().includes(needle.toLowerCase()), `${needle} in ${where}`).toBe(false);
    }
    expect(streamText).toContain("INVALID_CODE");
  });
});
