/**
 * `npm run bench:events`: verdict events through the local spool into Redis Streams.
 * 1. a bare sequential XADD loop (the reference, same Redis, same run), in the same two workloads
 *    as the spool: a burst of BURST events and a steady 100 events/s for STEADY events;
 * 2. spool bursts per fsync policy: events/s and append->XADD-ack latency;
 * 3. spool at a steady 100 events/s (the latency a lane actually sees);
 * 4. catch-up after a 5-minute outage at 10 verdicts/s: the 3,000-event backlog is generated
 *    directly while our own redis-server is stopped (no 5-minute wait), live events keep
 *    arriving at 10/s, and the drain is timed from Redis being back to an empty spool.
 * Every phase checks XRANGE (count, order, no duplicates) before its numbers count.
 * Targets (a miss exits 1; results are written first): the outage backlog drains within 5 s of
 * Redis being ready with nothing dropped; at a steady 100/s an event reaches the stream with p99
 * <= 100 ms (fsync interval) / <= 500 ms (fsync always); bursts sustain >= 1,000 events/s
 * (fsync interval) and >= 100 events/s (fsync always, one disk flush per event).
 * Results: bench/results/events.json with os.loadavg() at start and end.
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
import { exitOnMissed, loadNow, reportTargets, target } from "./lib/targets.js";

const BURST = Number(process.env.BENCH_EVENTS_BURST ?? 3000);
const STEADY = 500;
const STEADY_RATE = 100;
const BACKLOG = 3000;
// Unique per run, although the redis-server is our own: the names show up in its stream keys only.
const RUN = Math.random().toString(36).slice(2, 8);

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

/** Waits until event i of a paced run is due (rate per second from t0). */
async function pace(t0: number, i: number, ratePerS: number): Promise<void> {
  const wait = t0 + (i * 1000) / ratePerS - performance.now();
  if (wait > 0) await sleep(wait);
}

async function bareXadd(redis: Redis, name: string, n: number, ratePerS?: number): Promise<Row> {
  const stream = `bench:${RUN}:${name.replace(/\W+/g, "-")}`;
  const ids: string[] = [];
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if (ratePerS) await pace(t0, i, ratePerS);
    const ev = event();
    const w = toWireEvent(ev);
    const s = performance.now();
    await redis.xadd(stream, "*", "id", w.id, "lane", w.lane, "verdict", w.verdict, "reason", w.reason, "event", JSON.stringify(w));
    lat.push(performance.now() - s);
    ids.push(ev.id);
  }
  const secs = (performance.now() - t0) / 1000;
  await checkStream(redis, stream, ids);
  return { name, events: n, perSecond: n / secs, latency: summarize(lat) };
}

async function spoolRun(redis: Redis, name: string, fsync: FsyncPolicy, n: number, ratePerS?: number): Promise<Row> {
  const stream = `bench:${RUN}:${name.replace(/\W+/g, "-")}`;
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
    for (let i = 0; i < n; i++) {
      await pace(t0, i, ratePerS);
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
  const stream = `bench:${RUN}:catchup`;
  const client = createRedisClient({ url: `redis://127.0.0.1:${port}`, keyPrefix: "cpgw:", stream, streamMaxLen: 0 }) as Redis;
  client.on("error", () => undefined);
  await stopRedis();
  const spool = createEventSpool({ dir: join(work, "catchup"), fsync: "interval", maxBytes: 64 << 20, redis: client, stream, logger: silentLogger, gatewayId: "gw-b" });
  await spool.start();
  const ids: string[] = [];
  const outageMs = 5 * 60_000;
  const backlog = BACKLOG;
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
  // Bounded, so a spool that never drains fails the run instead of hanging it.
  const giveUp = tBack + 120_000;
  while (spool.stats().pending > 0 || client.status !== "ready") {
    if (performance.now() > giveUp) throw new Error(`catch-up: spool still holds ${spool.stats().pending} events 120 s after Redis came back`);
    await sleep(5);
  }
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
  const loadStart = loadNow();
  const port = await freePort();
  await startRedis(port);
  const redis = new Redis(port, "127.0.0.1");
  try {
    for (let i = 0; i < 200; i++) await redis.xadd("bench:warm", "*", "k", "v");
    const rows: Row[] = [];
    const bare = await bareXadd(redis, "bare XADD burst (reference)", BURST);
    rows.push(bare);
    rows.push(await spoolRun(redis, "spool burst, fsync never", "never", BURST));
    rows.push(await spoolRun(redis, "spool burst, fsync interval", "interval", BURST));
    rows.push(await spoolRun(redis, "spool burst, fsync always", "always", BURST));
    const bareSteady = await bareXadd(redis, `bare XADD ${STEADY_RATE}/s (reference)`, STEADY, STEADY_RATE);
    rows.push(bareSteady);
    const steadyInterval = await spoolRun(redis, `spool ${STEADY_RATE}/s, fsync interval`, "interval", STEADY, STEADY_RATE);
    rows.push(steadyInterval);
    const steadyAlways = await spoolRun(redis, `spool ${STEADY_RATE}/s, fsync always`, "always", STEADY, STEADY_RATE);
    rows.push(steadyAlways);
    printTable(
      "verdict events: spool -> Redis Streams (latency = append -> XADD acknowledged, ms)",
      ["run", "events", "events/s", "x bare", "median", "p95", "p99", "median x bare", "p99 x bare"],
      rows.map((r) => {
        const ref = r.events === STEADY ? bareSteady : bare; // each run against the reference of its own workload
        return [r.name, String(r.events), r.perSecond.toFixed(0), (r.perSecond / ref.perSecond).toFixed(2), r.latency.median, r.latency.p95, r.latency.p99, (r.latency.median / ref.latency.median).toFixed(1), (r.latency.p99 / ref.latency.p99).toFixed(1)];
      }),
    );
    redis.disconnect();
    const cu = await catchUp(port);
    printTable(
      "catch-up after a 5-minute Redis outage at 10 verdicts/s (reconnect = redis answering -> client ready; drain = ready -> spool empty)",
      ["backlog", "spool bytes", "live during drain", "reconnect ms", "drain ms", "drain events/s", "stream entries", "dropped"],
      [[String(cu.backlog), String(cu.spoolBytes), String(cu.liveDuringDrain), Number(cu.reconnectMs), Number(cu.drainMs), Number(cu.drainPerSecond).toFixed(0), String(cu.streamEntries), String(cu.dropped)]],
    );
    console.log(`(${String(cu.method)}; in a real 5-minute outage ioredis's backoff is at its 5 s cap, so add up to 5 s of reconnect)`);
    const burstOf = (policy: string) => rows.find((r) => r.name === `spool burst, fsync ${policy}`)!;
    const targets = {
      drain: target("outage backlog drain ms (client ready -> spool empty)", Number(cu.drainMs), "<=", 5000, "a 5-minute outage's backlog is in the stream within seconds of Redis coming back"),
      dropped: target("events dropped in the outage", Number(cu.dropped), "<=", 0, "no lost events (issue #11)"),
      steadyIntervalP99: target(`spool ${STEADY_RATE}/s fsync interval p99 ms`, steadyInterval.latency.p99, "<=", 100, "a verdict reaches the stream well within a second"),
      steadyAlwaysP99: target(`spool ${STEADY_RATE}/s fsync always p99 ms`, steadyAlways.latency.p99, "<=", 500, "even with one disk flush per verdict"),
      burstInterval: target("spool burst fsync interval events/s", burstOf("interval").perSecond, ">=", 1000, "tens of busy lanes with headroom"),
      burstAlways: target("spool burst fsync always events/s", burstOf("always").perSecond, ">=", 100, "ten lanes at 10 verdicts/s with a flush per verdict"),
    };
    const missed = reportTargets(targets);
    const file = writeResults("events", {
      workload: { burst: BURST, steady: STEADY, steadyRatePerS: STEADY_RATE, backlog: BACKLOG, note: "bare XADD and every spool policy: the same burst and the same paced run" },
      loadavg: { start: loadStart, end: loadNow() },
      targets,
      rows,
      catchUp: cu,
    });
    console.log(`\nresults: ${file}`);
    exitOnMissed(missed);
  } finally {
    redis.disconnect();
    await stopRedis();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
