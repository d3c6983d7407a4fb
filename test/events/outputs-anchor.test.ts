import { afterAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import mqtt from "mqtt";
import { configSchema } from "../../src/config/schema.js";
import { GatewayBus } from "../../src/core/bus.js";
import { startOutputs } from "../../src/app/outputs.js";
import { createRedisClient } from "../../src/output/events/redis-client.js";
import { ledgerHeadKey, parseAnchoredHead, verifyAnchoredHead } from "../../src/output/ledger/anchor.js";
import { captureLogger, makeEvent, rid, rmDir, SHARED_MQTT, SHARED_REDIS, tmpDir, waitFor } from "./helpers.js";
import { redisScratch } from "../support/redis.js";

const dir = tmpDir("outputs");
const { redis, prefix } = redisScratch(SHARED_REDIS);
afterAll(() => rmDir(dir));

describe("gateway outputs wiring: the ledger head is anchored and signed", () => {
  it("publishes the signed head to Redis under redis.keyPrefix when a verdict is written", async () => {
    const topicPrefix = `t-${rid()}`;
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
    writeFileSync(join(dir, "gw.key.jwk"), JSON.stringify(await exportJWK(privateKey)));
    const cfg = configSchema.parse({
      gateway: { id: "gw-w", stateDir: dir, signingKey: join(dir, "gw.key.jwk") },
      cameras: [],
      lanes: [{ id: "L1" }],
      redis: { url: SHARED_REDIS, keyPrefix: prefix, stream: `${prefix}verdicts` },
      mqtt: { url: SHARED_MQTT, topicPrefix },
    });
    const { logger } = captureLogger();
    const client = createRedisClient(cfg.redis!);
    const bus = new GatewayBus();
    // No offline queue: a head published before the connection is up is only retried at the next
    // interval, after close. Under load the connection can take longer than start-up.
    await waitFor(() => client.status === "ready", "redis ready");
    const out = await startOutputs(cfg, bus, logger, client);
    for (let i = 1; i <= 3; i++) bus.emit("verdict", makeEvent("gw-w", "L1", i));
    await out.close();
    client.disconnect();
    // What /metrics would read: each sink holds the last head.
    expect(out.anchorStats!()).toMatchObject({ lastPublishedSeq: 3, signErrors: 0, sinks: { redis: { anchoredSeq: 3 }, mqtt: { anchoredSeq: 3 } } });
    const head = parseAnchoredHead((await redis.get(ledgerHeadKey(prefix, "gw-w")))!, "redis");
    expect(head).toMatchObject({ gw: "gw-w", seq: 3 });
    await expect(verifyAnchoredHead(head, await exportJWK(publicKey))).resolves.toBeUndefined();
    const local = JSON.parse(readFileSync(join(dir, "ledger", "ledger.head.json"), "utf8")) as { hash: string };
    expect(head.hash).toBe(local.hash);
    // The same head was retained on the broker; clear it so the shared broker keeps nothing of ours.
    const sub = await mqtt.connectAsync(SHARED_MQTT);
    const topic = `${topicPrefix}/gw-w/ledger/head`;
    const got = new Promise<string>((resolve) => sub.on("message", (t, m) => t === topic && resolve(m.toString())));
    await sub.subscribeAsync(topic);
    expect(parseAnchoredHead(await got, "mqtt")).toEqual(head);
    await sub.publishAsync(topic, "", { retain: true });
    await sub.endAsync();
  });
});
