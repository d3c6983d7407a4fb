import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import mqtt from "mqtt";
import { exportJWK, generateKeyPair } from "jose";
import { FakeClock, systemClock } from "../../src/core/clock.js";
import { GatewayBus } from "../../src/core/bus.js";
import { mqttSection } from "../../src/output/options.js";
import { createMqttOutput, type MqttOutput } from "../../src/output/mqtt/mqtt-output.js";
import { createLedger } from "../../src/output/ledger/ledger.js";
import { createHeadAnchor, ledgerHeadTopic, loadHeadSigner, mqttHeadSink, parseAnchoredHead, redisHeadSink, verifyAnchoredHead } from "../../src/output/ledger/anchor.js";
import ledgerCommand from "../../src/cli/commands/ledger.js";
import { captureLogger, makeEvent, rid, rmDir, SHARED_MQTT, SHARED_REDIS, tmpDir, waitFor } from "./helpers.js";
import { inProcess } from "../support/cli.js";

let redis: Redis;
const keys: string[] = [];
const dirs: string[] = [];
const outs: MqttOutput[] = [];
beforeAll(async () => {
  redis = new Redis(SHARED_REDIS);
  await redis.ping();
});
afterEach(async () => {
  for (const o of outs.splice(0)) await o.close();
  for (const d of dirs.splice(0)) rmDir(d);
});
afterAll(async () => {
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

async function keyFiles(dir: string): Promise<{ priv: string; pub: string }> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const priv = join(dir, "gw.key.jwk");
  const pub = join(dir, "gw.pub.jwk");
  writeFileSync(priv, JSON.stringify({ ...(await exportJWK(privateKey)), kid: "gw-a-1" }));
  writeFileSync(pub, JSON.stringify({ ...(await exportJWK(publicKey)), kid: "gw-a-1" }));
  return { priv, pub };
}

/** Runs the CLI and returns exit code and output. */
const cli = (args: string[]) => inProcess(() => ledgerCommand(args));

describe("ledger head anchored in Redis and MQTT, signed with the gateway key", () => {
  it("publishes the signed head; verify --redis / --head detects a cut tail and a forged head", async () => {
    expect.hasAssertions();
    const dir = tmpDir("anchor");
    dirs.push(dir);
    const { priv, pub } = await keyFiles(dir);
    const prefix = `test-${rid()}`;
    const redisKey = `cpgw-test:${rid()}:ledger:head:gw-a`;
    keys.push(redisKey);
    const { logger } = captureLogger();
    const out = createMqttOutput({ config: mqttSection.parse({ url: SHARED_MQTT, topicPrefix: prefix })!, gatewayId: "gw-a", lanes: ["L1"], bus: new GatewayBus(), logger });
    outs.push(out);
    await out.start();
    const topic = ledgerHeadTopic(prefix, "gw-a");
    const signer = await loadHeadSigner(priv);
    const anchor = createHeadAnchor({ gatewayId: "gw-a", sinks: () => [redisHeadSink(redis, redisKey), mqttHeadSink((t, p, o) => out.publish(t, p, o), topic)], signer, clock: systemClock, logger, intervalMs: 50 });
    const ledgerDir = join(dir, "ledger");
    const ledger = createLedger({ dir: ledgerDir, gatewayId: "gw-a", clock: new FakeClock(Date.UTC(2026, 0, 5, 8)), fsync: "always", onHead: (h) => anchor.update(h) });
    for (let i = 1; i <= 6; i++) ledger.append(makeEvent("gw-a", "L1", i));
    await ledger.close();
    await anchor.close();
    expect(anchor.stats()).toMatchObject({ lastPublishedSeq: 6, failures: 0 });

    // A fresh subscriber gets the retained head, and its signature checks with the public key.
    const sub = await mqtt.connectAsync(SHARED_MQTT);
    const got = new Promise<string>((resolve) => sub.on("message", (t, m) => t === topic && resolve(m.toString())));
    await sub.subscribeAsync(topic);
    const mqttHead = parseAnchoredHead(await got, "mqtt");
    // Clear the retained test message so the shared broker keeps nothing of ours.
    await sub.publishAsync(topic, "", { retain: true });
    await sub.endAsync();
    const pubJwk = JSON.parse(readFileSync(pub, "utf8")) as Parameters<typeof verifyAnchoredHead>[1];
    await expect(verifyAnchoredHead(mqttHead, pubJwk)).resolves.toBeUndefined();
    expect(mqttHead).toMatchObject({ gw: "gw-a", seq: 6, file: "ledger-2026-01-05.jsonl" });
    expect(JSON.parse((await redis.get(redisKey))!)).toEqual(mqttHead);

    const files = readdirSync(ledgerDir).filter((f) => f.endsWith(".jsonl")).map((f) => join(ledgerDir, f));
    const ok = await cli(["verify", "--redis", SHARED_REDIS, "--redis-key", redisKey, "--key", pub, ...files]);
    expect(ok).toMatchObject({ code: 0, out: expect.stringContaining("matches the anchored head at seq 6 (signature valid); 0 entries after it") });

    // Cut the tail and rewrite ledger.head.json to match: only the anchored head can tell.
    const lines = readFileSync(files[0]!, "utf8").split("\n").filter(Boolean);
    writeFileSync(files[0]!, lines.slice(0, 4).join("\n") + "\n");
    const e4 = JSON.parse(lines[3]!) as { seq: number; hash: string };
    writeFileSync(join(ledgerDir, "ledger.head.json"), JSON.stringify({ file: "ledger-2026-01-05.jsonl", seq: e4.seq, hash: e4.hash }));
    expect((await cli(["verify", ...files])).code).toBe(0);
    const cut = await cli(["verify", "--redis", SHARED_REDIS, "--redis-key", redisKey, "--key", pub, ...files]);
    expect(cut).toMatchObject({ code: 1, out: expect.stringContaining("cut from the end") });
    const headFile = join(dir, "head.json");
    writeFileSync(headFile, JSON.stringify(mqttHead));
    expect((await cli(["verify", "--head", headFile, ...files])).code).toBe(1);

    // Whoever can write Redis could also rewrite the head to match the cut; the signature stops that.
    await redis.set(redisKey, JSON.stringify({ ...mqttHead, seq: e4.seq, hash: e4.hash }));
    const forged = await cli(["verify", "--redis", SHARED_REDIS, "--redis-key", redisKey, "--key", pub, ...files]);
    expect(forged).toMatchObject({ code: 1, out: expect.stringContaining("signature check failed") });
    // A head without a signature is refused when a key is given.
    const { jws: _drop, ...unsigned } = mqttHead;
    writeFileSync(headFile, JSON.stringify({ ...unsigned, seq: e4.seq, hash: e4.hash }));
    expect(await cli(["verify", "--head", headFile, "--key", pub, ...files])).toMatchObject({ code: 1, out: expect.stringContaining("not signed") });
    expect((await cli(["verify", "--head", headFile, "--key", priv, ...files])).code).toBe(1);
  });

  it("an old head (a Redis rolled back or lagging after a failover, a replayed value) cannot vouch for entries written long after it", async () => {
    const dir = tmpDir("anchor-old");
    dirs.push(dir);
    const ledgerDir = join(dir, "ledger");
    const clock = new FakeClock(Date.UTC(2026, 0, 6, 8));
    const ledger = createLedger({ dir: ledgerDir, gatewayId: "gw-o", clock, fsync: "always" });
    // An entry's time is its verdict's.
    const at = () => ({ at: clock.now() });
    for (let i = 1; i <= 5; i++) ledger.append(makeEvent("gw-o", "L1", i, at()));
    // The head as the anchor published it after seq 5.
    const head = { gw: "gw-o", ...ledger.head()!, at: new Date(clock.now()).toISOString() };
    clock.advance(30_000);
    ledger.append(makeEvent("gw-o", "L1", 6, at()));
    clock.advance(3_600_000);
    for (let i = 7; i <= 10; i++) ledger.append(makeEvent("gw-o", "L1", i, at()));
    await ledger.close();
    const files = readdirSync(ledgerDir).filter((f) => f.endsWith(".jsonl")).map((f) => join(ledgerDir, f));
    const headFile = join(dir, "old-head.json");
    writeFileSync(headFile, JSON.stringify(head));
    const old = await cli(["verify", "--head", headFile, ...files]);
    expect(old).toMatchObject({ code: 1, out: expect.stringContaining("is older than the 5 entries after it (seq 7 written") });
    // Accepted on request, and said: the entries after the head are not covered.
    expect(await cli(["verify", "--allow-uncovered", "--head", headFile, ...files])).toMatchObject({ code: 0, out: expect.stringContaining("matches the anchored head at seq 5; 5 entries after it (not covered by that head)") });
    // A head from another gateway says nothing about these files.
    writeFileSync(headFile, JSON.stringify({ ...head, gw: "gw-other" }));
    expect(await cli(["verify", "--head", headFile, ...files])).toMatchObject({ code: 1, out: expect.stringContaining("gateway gw-other's") });
    // Entries within a minute of the head (published just before them) are fine without the flag.
    const recent = { ...head, at: new Date(clock.now()).toISOString() };
    writeFileSync(headFile, JSON.stringify(recent));
    expect((await cli(["verify", "--head", headFile, ...files])).code).toBe(0);
  });

  it("keeps retrying when a sink is down, and publishes the newest head once it is back", async () => {
    const { logger, lines } = captureLogger();
    let up = false;
    const seen: string[] = [];
    const clock = new FakeClock();
    const anchor = createHeadAnchor({
      gatewayId: "gw-a",
      sinks: () => [{ name: "flaky", put: (j) => (up ? (seen.push(j), Promise.resolve()) : Promise.reject(new Error("down"))) }],
      clock,
      logger,
      intervalMs: 100,
    });
    anchor.update({ file: "f", seq: 1, hash: "a".repeat(64) });
    clock.advance(100);
    await waitFor(() => anchor.stats().failures === 1, "a failed publish");
    anchor.update({ file: "f", seq: 2, hash: "b".repeat(64) });
    up = true;
    clock.advance(100);
    await waitFor(() => seen.length === 1, "the newest head published");
    expect(JSON.parse(seen[0]!)).toMatchObject({ seq: 2, gw: "gw-a" });
    expect(lines.filter((l) => l.includes("GW_LEDGER_ANCHOR")).length).toBe(1);
    await anchor.close();
  });
});

describe("ledger head anchor progress: only what a sink accepted counts", () => {
  const HEAD = { file: "f", seq: 1, hash: "a".repeat(64) };
  /** Sinks that record what they accepted and fail while their flag is down. */
  const sinks = (up: Record<string, boolean>) => {
    const got: Record<string, number[]> = {};
    const list = Object.keys(up).map((name) => ({
      name,
      put: (j: string) => (up[name] ? (void (got[name] ??= []).push((JSON.parse(j) as { seq: number }).seq), Promise.resolve()) : Promise.reject(new Error("down"))),
    }));
    return { got, list: () => list };
  };

  it("a head every sink refused is not anchored, and is retried at the next interval without a new head", async () => {
    const up = { redis: false, mqtt: false };
    const s = sinks(up);
    const clock = new FakeClock();
    const anchor = createHeadAnchor({ gatewayId: "gw-a", sinks: s.list, clock, logger: captureLogger().logger, intervalMs: 100 });
    anchor.update(HEAD);
    clock.advance(100);
    await waitFor(() => anchor.stats().failures === 2, "both sinks failed");
    expect(anchor.stats()).toEqual({ published: 0, failures: 2, signErrors: 0, lastPublishedSeq: undefined, sinks: { redis: { published: 0, failures: 1 }, mqtt: { published: 0, failures: 1 } } });
    await waitFor(() => clock.pendingCount === 1, "a retry armed");
    up.redis = up.mqtt = true;
    clock.advance(100);
    await waitFor(() => anchor.stats().published === 1, "the head published on retry");
    expect(s.got).toEqual({ redis: [1], mqtt: [1] });
    expect(anchor.stats()).toMatchObject({ lastPublishedSeq: 1, sinks: { redis: { anchoredSeq: 1, published: 1 }, mqtt: { anchoredSeq: 1, published: 1 } } });
    // Nothing is left to retry once every sink holds the head.
    expect(clock.pendingCount).toBe(0);
    await anchor.close();
  });

  it("tracks each sink: a retry goes only to the sink that missed the head; sign errors are counted", async () => {
    const up = { redis: true, mqtt: false };
    const s = sinks(up);
    const clock = new FakeClock();
    const signer = { sign: () => Promise.reject(new Error("hsm gone")) };
    const anchor = createHeadAnchor({ gatewayId: "gw-a", sinks: s.list, signer, clock, logger: captureLogger().logger, intervalMs: 100 });
    anchor.update(HEAD);
    clock.advance(100);
    await waitFor(() => anchor.stats().sinks.mqtt?.failures === 1, "mqtt failed");
    expect(anchor.stats()).toEqual({
      published: 1,
      failures: 2,
      signErrors: 1,
      lastPublishedSeq: 1,
      sinks: { redis: { published: 1, failures: 0, anchoredSeq: 1 }, mqtt: { published: 0, failures: 1 } },
    });
    up.mqtt = true;
    clock.advance(100);
    await waitFor(() => anchor.stats().sinks.mqtt?.anchoredSeq === 1, "mqtt caught up");
    expect(s.got).toEqual({ redis: [1], mqtt: [1] });
    await anchor.close();
  });

  it("close makes a last attempt and leaves no retry timer behind", async () => {
    const s = sinks({ redis: false });
    const clock = new FakeClock();
    const anchor = createHeadAnchor({ gatewayId: "gw-a", sinks: s.list, clock, logger: captureLogger().logger, intervalMs: 100 });
    anchor.update(HEAD);
    await anchor.close();
    expect(anchor.stats()).toMatchObject({ published: 0, lastPublishedSeq: undefined, sinks: { redis: { failures: 1 } } });
    expect(clock.pendingCount).toBe(0);
  });
});
