/**
 * `npm run bench:events`: verdict events through the local spool into Redis Streams.
 * 1. a bare sequential XADD loop (the reference, same Redis, same run);
 * 2. spool bursts per fsync policy: events/s and append->XADD-ack latency;
 * 3. spool at a steady 100 events/s (the latency a lane actually sees);
 * 4. catch-up after a 5-minute outage at 10 verdicts/s: the 3,000-event backlog is generated
 *    directly while our own redis-server is stopped (no 5-minute wait), live events keep
 *    arriving at 10/s, and the drain is timed from Redis being back to an empty spool.
 * Every phase checks XRANGE (count, order, no duplicates) before its numbers count.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { silentLogger } from "../src/core/logger.js";
import type { VerdictEvent } from "../src/core/types.js";
import { createEventSpool, type FsyncPolicy } from "../src/output/events/spool.js";
import { createRedisClient } from "../src/output/events/redis-client.js";
import { toWireEvent } from "../src/output/events/wire.js";
import { printTable, summarize, writeResults, type Summary } from "./lib/stats.js";
import { freePort } from "./lib/net.js";

const work = mkdtempSync(join(tmpdir(), "cpgw-bench-events-"));
let redisProc: ChildProcess | undefined;

async function startRedis(port: number): Promise<void> {
  redisProc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", work], { stdio: "ignore" });
  for (let i = 0; i < 200; i++) {
    const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === "PONG") return;
    } catch {
      /* not up yet */
    } finally {
      probe.disconnect();
    }
    await sleep(50);
  }
  throw new Error("redis-server did not start");
}

async function stopRedis(): Promise<void> {
  const p = redisProc;
  redisProc = undefined;
  if (!p || p.exitCode !== null) return;
  await new Promise<void>((r) => {
    p.once("exit", () => r());
    p.kill("SIGKILL");
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let counter = 0;
function event(lane = "L1"): VerdictEvent {
  const seq = ++counter;
  return {
    id: `gw-b:${lane}:${seq}`, gatewayId: "gw-b", lane, cameraId: "cam-1", seq, at: Date.now(), verdict: "PASS", reason: "OK", format: "dcc",
    kid: "a1b2c3d4e5f6a7b8", issuer: "VN", trustVersion: "v12", credentialHash: "0011223344556677", payloadHash: "8899aabbccddeeff",
    frameToVerdictMs: 10, firstSeenToVerdictMs: 30,
  };
}

async function checkStream(redis: Redis, stream: string, expected: string[]): Promise<void> {
  const got = (await redis.xrange(stream, "-", "+")).map(([, f]) => f[f.indexOf("id") + 1]);
  if (got.length !== expected.length || got.some((id, i) => id !== expected[i])) {
    throw new Error(`stream ${stream}: ${got.length} entries, expected ${expected.length} in order (first mismatch at ${got.findIndex((id, i) => id !== expected[i])})`);
  }
}

interface Row {
  name: string;
  events: number;
  perSecond: number;
  latency: Summary;
}

async function bareXadd(redis: Redis, n: number): Promise<Row> {
  const stream = "bench:bare";
  const ids: string[] = [];
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const ev = event();
    const w = toWireEvent(ev);
    const s = performance.now();
    await redis.xadd(stream, "*", "id", w.id, "lane", w.lane, "verdict", w.verdict, "reason", w.reason, "event", JSON.stringify(w));
    lat.push(performance.now() - s);
    ids.push(ev.id);
  }
  const secs = (performance.now() - t0) / 1000;
  await checkStream(redis, stream, ids);
  return { name: "bare XADD loop (reference)", events: n, perSecond: n / secs, latency: summarize(lat) };
}

async function spoolRun(redis: Redis, name: string, fsync: FsyncPolicy, n: number, ratePerS?: number): Promise<Row> {
  const stream = `bench:${name.replace(/\W+/g, "-")}`;
  const lat: number[] = [];
  let done = 0;
  const spool = createEventSpool({
    dir: join(work, stream), fsync, maxBytes: 256 << 20, redis, stream, logger: silentLogger, gatewayId: "gw-b",
    onForwarded: (recs) => {
      const now = performance.now();
      for (const r of recs) lat.push(now - r.appendedAt);
      done += recs.length;
    },
  });
  await spool.start();
  const ids: string[] = [];
  const t0 = performance.now();
  if (ratePerS) {
    const period = 1000 / ratePerS;
    for (let i = 0; i < n; i++) {
      const due = t0 + i * period;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const ev = event();
      ids.push(ev.id);
      spool.append(ev);
    }
  } else {
    // Bursts of 100 with a turn of the event loop between them, as a busy bus would deliver them.
    for (let i = 0; i < n; i += 100) {
      for (let k = i; k < Math.min(n, i + 100); k++) {
        const ev = event();
        ids.push(ev.id);
        spool.append(ev);
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  await spool.flush();
  const secs = (performance.now() - t0) / 1000;
  await spool.close();
  if (done !== n) throw new Error(`${name}: forwarded ${done} of ${n}`);
  await checkStream(redis, stream, ids);
  return { name, events: n, perSecond: n / secs, latency: summarize(lat) };
}

async function catchUp(port: number): Promise<Record<string, number | string>> {
  const stream = "bench:catchup";
  const client = createRedisClient({ url: `redis://127.0.0.1:${port}`, keyPrefix: "cpgw:", stream, streamMaxLen: 0 }) as Redis;
  client.on("error", () => undefined);
  await stopRedis();
  const spool = createEventSpool({ dir: join(work, "catchup"), fsync: "interval", maxBytes: 64 << 20, redis: client, stream, logger: silentLogger, gatewayId: "gw-b" });
  await spool.start();
  const ids: string[] = [];
  const outageMs = 5 * 60_000;
  const backlog = 3000;
  for (let i = 0; i < backlog; i++) {
    const ev = { ...event(i % 2 ? "L1" : "L2"), at: Date.now() - outageMs + i * 100 };
    ids.push(ev.id);
    spool.append(ev);
  }
  const spoolBytes = spool.stats().pendingBytes;
  let tReady = 0;
  client.once("ready", () => (tReady = performance.now()));
  await startRedis(port);
  const tBack = performance.now();
  let live = 0;
  const liveTimer = setInterval(() => {
    const ev = event("L1");
    ids.push(ev.id);
    spool.append(ev);
    live++;
  }, 100);
  while (spool.stats().pending > 0 || client.status !== "ready") await sleep(5);
  const tEmpty = performance.now();
  const reconnectMs = tReady - tBack;
  const drainMs = tEmpty - tReady;
  clearInterval(liveTimer);
  await spool.flush();
  const st = spool.stats();
  await spool.close();
  const check = new Redis(port, "127.0.0.1");
  await checkStream(check, stream, ids);
  const total = (await check.xlen(stream)) as number;
  check.disconnect();
  client.disconnect();
  return { method: "backlog generated directly (3,000 events = 5 min x 10/s), redis-server stopped meanwhile", backlog, spoolBytes, liveDuringDrain: live, reconnectMs, drainMs, drainPerSecond: (backlog + live) / (drainMs / 1000), streamEntries: total, forwarded: st.forwarded, dropped: st.dropped };
}

async function main(): Promise<void> {
  const port = await freePort();
  await startRedis(port);
  const redis = new Redis(port, "127.0.0.1");
  try {
    for (let i = 0; i < 200; i++) await redis.xadd("bench:warm", "*", "k", "v");
    const rows: Row[] = [];
    const bare = await bareXadd(redis, 3000);
    rows.push(bare);
    rows.push(await spoolRun(redis, "spool burst, fsync never", "never", 10_000));
    rows.push(await spoolRun(redis, "spool burst, fsync interval", "interval", 10_000));
    rows.push(await spoolRun(redis, "spool burst, fsync always", "always", 2000));
    rows.push(await spoolRun(redis, "spool 100/s, fsync interval", "interval", 500, 100));
    rows.push(await spoolRun(redis, "spool 100/s, fsync always", "always", 500, 100));
    printTable(
      "verdict events: spool -> Redis Streams (latency = append -> XADD acknowledged, ms)",
      ["run", "events", "events/s", "x bare", "median", "p95", "p99", "median x bare", "p99 x bare"],
      rows.map((r) => [r.name, String(r.events), r.perSecond.toFixed(0), (r.perSecond / bare.perSecond).toFixed(2), r.latency.median, r.latency.p95, r.latency.p99, (r.latency.median / bare.latency.median).toFixed(1), (r.latency.p99 / bare.latency.p99).toFixed(1)]),
    );
    redis.disconnect();
    const cu = await catchUp(port);
    printTable(
      "catch-up after a 5-minute Redis outage at 10 verdicts/s (reconnect = redis answering -> client ready; drain = ready -> spool empty)",
      ["backlog", "spool bytes", "live during drain", "reconnect ms", "drain ms", "drain events/s", "stream entries", "dropped"],
      [[String(cu.backlog), String(cu.spoolBytes), String(cu.liveDuringDrain), Number(cu.reconnectMs), Number(cu.drainMs), Number(cu.drainPerSecond).toFixed(0), String(cu.streamEntries), String(cu.dropped)]],
    );
    console.log(`(${String(cu.method)}; in a real 5-minute outage ioredis's backoff is at its 5 s cap, so add up to 5 s of reconnect)`);
    const file = writeResults("events", { rows, catchUp: cu });
    console.log(`\nresults: ${file}`);
  } finally {
    redis.disconnect();
    await stopRedis();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
