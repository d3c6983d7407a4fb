/**
 * `npm run bench:e2e`: the whole gateway under 1, 2, 4 and 8 RTSP cameras at 1080p 15 fps.
 * Each camera is a GStreamer RTSP server looping a pre-encoded clip (`-c copy`: the harness
 * costs little CPU) in which a signed pass appears three times per 8 s loop; each camera has its own
 * lane. A frame counter drawn in the clip tells which received frame first showed the code.
 *
 * Columns: frame->verdict (frame received -> verdict event published, as the lane measures it),
 * first appearance -> verdict (first received frame that carried the code -> verdict), CPU of the
 * gateway process (all threads) and of its ingest ffmpeg processes (100 = one core), frames
 * dropped (ingest bursts + superseded in the decode slot) and the decode-slot wait in the first
 * and last third of the run (equal = no queue grows).
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, createWriteStream } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { pino } from "pino";
import { summarize, printTable, writeResults, fmt } from "./lib/stats.js";
import { parseConfig } from "../src/config/load.js";
import { startGateway } from "../src/app/gateway.js";
import type { LumaFrame, VerdictEvent } from "../src/core/types.js";
import { makeDemoCredentials } from "../scripts/demo-kit.js";
import { makeQrClip, readFrameClock, startRtspServer, childProcesses, type ClipSegment, type RtspServer } from "../test/support/rtsp/index.js";

const W = 1920;
const H = 1080;
const FPS = 15;
const COUNTS = (process.env.BENCH_E2E_CAMERAS ?? "1,2,4,8").split(",").map(Number);
const MEASURE_S = Number(process.env.BENCH_E2E_SECONDS ?? 60);
const WORK = ".tmp/bench-e2e";
// What ingest asks ffmpeg for: yuv420p (default: no swscale pass) or gray (a third less pipe traffic).
// Default: what a camera gets by default (the cheapest measured in bench:ingest).
const PIXFMT = (["gray", "yuv420p", "yplane"] as const).find((p) => p === process.env.BENCH_E2E_PIXFMT) ?? "yplane";
// Decode settings under test (default: the product defaults), e.g. BENCH_E2E_DECODE='{"budgetMs":12}'.
const DECODE = JSON.parse(process.env.BENCH_E2E_DECODE ?? "{}") as Record<string, unknown>;

interface Creds {
  trustList: string;
  rootKey: string;
  pass: string;
}

/** Credentials are made once and kept (public material and a pass only), so the clip stays cached. */
async function credentials(): Promise<Creds> {
  mkdirSync(WORK, { recursive: true });
  const file = join(WORK, "creds.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as Creds;
  const c = await makeDemoCredentials();
  const trustList = join(WORK, "trust-list.jws");
  const rootKey = join(WORK, "root.pub.jwk.json");
  writeFileSync(trustList, c.trustListJws);
  writeFileSync(rootKey, JSON.stringify(c.rootPublicJwk));
  const creds = { trustList, rootKey, pass: c.passes.valid };
  writeFileSync(file, JSON.stringify(creds));
  return creds;
}

/** CPU ticks (user + system) of a process; 0 when it is gone. */
function ticks(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
const TICK_MS = 10; // CLK_TCK = 100 on Linux

interface RunResult {
  cameras: number;
  verdicts: number;
  frameToVerdict: ReturnType<typeof summarize>;
  firstToVerdict: ReturnType<typeof summarize>;
  gatewayCpu: number;
  ffmpegCpu: number;
  harnessCpu: number;
  framesIn: number;
  gated: number;
  dropped: number;
  queueEarlyMs: number;
  queueLateMs: number;
  decodeMs: ReturnType<typeof summarize>;
  split: { wait: number; decode: number; rest: number };
  loopLagP99Ms: number;
}

async function run(n: number, servers: RtspServer[], creds: Creds): Promise<RunResult> {
  const state = join(WORK, `state-${n}`);
  const cfg = parseConfig({
    gateway: { id: `bench-${n}`, stateDir: state, hashSalt: "bench-e2e-salt-0123456789" },
    log: { level: "warn" },
    server: { listen: { host: "127.0.0.1", port: 0 } },
    decode: DECODE,
    cameras: servers.slice(0, n).map((s, i) => ({ id: `cam-${i}`, lane: `lane-${i}`, url: s.url, width: W, height: H, fps: FPS, pixelFormat: PIXFMT })),
    lanes: servers.slice(0, n).map((_, i) => ({ id: `lane-${i}`, leaveMs: 800 })),
    display: { replayWindowS: 0 },
    trust: { lists: [{ source: creds.trustList, rootKey: creds.rootKey }] },
    events: { ledger: false },
  });
  const logger = pino({ level: "warn" }, createWriteStream(join(WORK, "gateway.log"), { flags: "a" }));
  // Per camera: receive time of the first frame of the current code showing (from the frame clock).
  const firstCodeFrame = new Map<string, number | undefined>();
  const inCode = new Map<string, boolean>();
  const frameToVerdict: number[] = [];
  const firstToVerdict: number[] = [];
  const queue: Array<{ at: number; ms: number }> = [];
  const decodeMs: number[] = [];
  // Breakdown of frame->verdict for the frame that gave each verdict: decode-slot wait, decode, rest (main thread).
  const lastRead = new Map<string, { queueMs: number; decodeMs: number }>();
  const split = { wait: [] as number[], decode: [] as number[], rest: [] as number[] };
  let measuring = false;
  const onFrame = (f: LumaFrame) => {
    const idx = readFrameClock(f);
    if (idx === undefined) return;
    const code = !isBlank(idx);
    if (code && !inCode.get(f.cameraId)) firstCodeFrame.set(f.cameraId, f.receivedAt);
    inCode.set(f.cameraId, code);
  };
  const gw = await startGateway(cfg, {
    logger,
    ...(process.env.BENCH_E2E_GATE === "off" ? { changeGate: false as const } : {}),
    onFrame,
    onDecoded: (r) => {
      if (!measuring) return;
      queue.push({ at: performance.now(), ms: r.timings.queueMs });
      if (!r.error) decodeMs.push(r.timings.decodeMs);
      if (r.codes.length > 0) lastRead.set(r.cameraId, { queueMs: r.timings.queueMs, decodeMs: r.timings.decodeMs });
    },
  });
  gw.bus.on("verdict", (ev: VerdictEvent) => {
    if (!measuring) return;
    frameToVerdict.push(ev.frameToVerdictMs);
    const lr = lastRead.get(ev.cameraId);
    if (lr) {
      split.wait.push(lr.queueMs);
      split.decode.push(lr.decodeMs);
      split.rest.push(Math.max(0, ev.frameToVerdictMs - lr.queueMs - lr.decodeMs));
    }
    const first = firstCodeFrame.get(ev.cameraId);
    if (first !== undefined) firstToVerdict.push(performance.now() - first);
  });
  // Wait until every camera delivers, then a few seconds to settle (ffmpeg start-up bursts).
  const t0 = performance.now();
  while (gw.cameras.info().some((c) => c.state !== "online")) {
    if (performance.now() - t0 > 60_000) throw new Error("cameras did not come online");
    await sleep(200);
  }
  await sleep(3000);
  const harness = servers.slice(0, n).flatMap((s) => s.pids());
  const ingestPids = () => childProcesses(process.pid).filter((p) => !harness.includes(p));
  const before = { cpu: process.cpuUsage(), wall: performance.now(), ff: new Map(ingestPids().map((p) => [p, ticks(p)])), h: new Map(harness.map((p) => [p, ticks(p)])), info: gw.cameras.info(), gated: sum(gw.cameras.gated()), pool: gw.pool.stats().cameras, sub: new Map(gw.cameras.submitted) };
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  measuring = true;
  await sleep(MEASURE_S * 1000);
  measuring = false;
  lag.disable();
  const wall = performance.now() - before.wall;
  const cpu = process.cpuUsage(before.cpu);
  const ffTicks = ingestPids().reduce((s, p) => s + ticks(p) - (before.ff.get(p) ?? 0), 0);
  const hTicks = harness.reduce((s, p) => s + ticks(p) - (before.h.get(p) ?? 0), 0);
  const info = gw.cameras.info();
  const framesIn = [...gw.cameras.submitted].reduce((s, [id, v]) => s + v - (before.sub.get(id) ?? 0), 0);
  const gated = sum(gw.cameras.gated()) - before.gated;
  const dropped = info.reduce((s, c) => s + c.framesDropped, 0) - before.info.reduce((s, c) => s + c.framesDropped, 0);
  await gw.close();
  const third = wall / 3;
  const startAt = before.wall;
  const early = queue.filter((q) => q.at < startAt + third).map((q) => q.ms);
  const late = queue.filter((q) => q.at >= startAt + 2 * third).map((q) => q.ms);
  return {
    cameras: n,
    verdicts: frameToVerdict.length,
    frameToVerdict: summarize(frameToVerdict),
    firstToVerdict: summarize(firstToVerdict),
    gatewayCpu: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    ffmpegCpu: ((ffTicks * TICK_MS) / wall) * 100,
    harnessCpu: ((hTicks * TICK_MS) / wall) * 100,
    framesIn,
    gated,
    dropped,
    queueEarlyMs: summarize(early).median,
    queueLateMs: summarize(late).median,
    decodeMs: summarize(decodeMs),
    loopLagP99Ms: lag.percentile(99) / 1e6,
    split: { wait: summarize(split.wait).median, decode: summarize(split.decode).median, rest: summarize(split.rest).median },
  };
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let isBlank: (idx: number) => boolean = () => true;

async function main(): Promise<void> {
  const creds = await credentials();
  // 8 s loop: the code shows three times for 1.2 s, with 1.2 s gaps (longer than the lane's leaveMs).
  const show: ClipSegment = { text: creds.pass, seconds: 1.2 };
  const gap: ClipSegment = { seconds: 1.2 };
  const segments: ClipSegment[] = [gap, show, gap, show, gap, show, { seconds: 0.8 }];
  const codeFrames: Array<[number, number]> = [];
  let idx = 0;
  for (const s of segments) {
    const n = Math.round(s.seconds * FPS);
    if (s.text) codeFrames.push([idx, idx + n]);
    idx += n;
  }
  isBlank = (i) => !codeFrames.some(([a, b]) => i >= a && i < b);
  const clip = await makeQrClip({ width: W, height: H, fps: FPS, segments });
  const max = Math.max(...COUNTS);
  const servers: RtspServer[] = [];
  try {
    for (let i = 0; i < max; i++) servers.push(await startRtspServer({ clip }));
    const results: RunResult[] = [];
    for (const n of COUNTS) {
      process.stderr.write(`bench:e2e ${n} camera(s), ${MEASURE_S} s...\n`);
      results.push(await run(n, servers, creds));
    }
    const ref = results[0]!.frameToVerdict.p99;
    printTable(
      `e2e: RTSP 1080p ${FPS} fps -> verdict event (${MEASURE_S} s per row, ${results[0]!.cameras}-camera row is the reference; decode ${JSON.stringify(DECODE)}, ${PIXFMT}, change gate ${process.env.BENCH_E2E_GATE === "off" ? "off" : "on"})`,
      ["cameras", "verdicts", "f->v p50 ms", "f->v p99 ms", "p99/ref", "wait+decode+rest p50 ms", "first->v p50 ms", "first->v p99 ms", "decode p50 ms", "loop lag p99 ms", "gw CPU %", "ffmpeg CPU %", "harness CPU %", "frames decoded", "gated %", "dropped %", "slot wait early/late ms"],
      results.map((r) => [
        String(r.cameras),
        String(r.verdicts),
        r.frameToVerdict.median,
        r.frameToVerdict.p99,
        r.frameToVerdict.p99 / ref,
        `${fmt(r.split.wait, 0)}+${fmt(r.split.decode, 0)}+${fmt(r.split.rest, 0)}`,
        r.firstToVerdict.median,
        r.firstToVerdict.p99,
        r.decodeMs.median,
        r.loopLagP99Ms,
        r.gatewayCpu,
        r.ffmpegCpu,
        r.harnessCpu,
        String(r.framesIn),
        (100 * r.gated) / Math.max(1, r.framesIn + r.gated),
        (100 * r.dropped) / Math.max(1, r.framesIn + r.dropped),
        `${fmt(r.queueEarlyMs)} / ${fmt(r.queueLateMs)}`,
      ]),
    );
    const four = results.find((r) => r.cameras === 4);
    if (four) {
      const ok = four.frameToVerdict.p99 < 150 && four.queueLateMs <= four.queueEarlyMs + 20;
      console.log(`\ntarget (4 cameras: frame->verdict p99 < 150 ms, no growing queue): ${ok ? "MET" : "NOT MET"} (p99 ${fmt(four.frameToVerdict.p99)} ms)`);
    }
    const load = loadavg().map((l) => l.toFixed(1)).join(" ");
    console.log(`load average at the end (1/5/15 min): ${load} (a shared machine inflates every number)`);
    console.log(`results: ${writeResults("e2e", { results, loadavg: loadavg() })}`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
