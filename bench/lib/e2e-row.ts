import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { pino } from "pino";
import { parseConfig } from "../../src/config/load.js";
import { startGateway } from "../../src/app/gateway.js";
import type { LumaFrame, VerdictEvent } from "../../src/core/types.js";
import { readFrameClock, childProcesses, type RtspServer } from "../../test/support/rtsp/index.js";
import { idleProcessCpu, procTicks, ticksCpuPct, usageCpuPct } from "./cpu.js";
import type { Clip, Creds } from "./e2e-clips.js";
import { dist, showingStats, ShowingTracker, slotWaitEarlyLate, type Dist } from "./showings.js";
import { sleep } from "./wait.js";

/**
 * `bench:e2e`'s row runner: the whole gateway (product defaults) on the first `n` RTSP servers, one
 * lane per camera, measured for a window: showings -> verdicts, CPU of the gateway, its ffmpeg
 * processes and the harness, frames dropped by reason, decode-slot waits, event-loop lag.
 */

/** How long this process's harness-only CPU is measured before each row. */
const HARNESS_BASELINE_MS = 5000;

export interface RowOptions {
  /** Scratch folder: gateway state and log. */
  work: string;
  width: number;
  height: number;
  fps: number;
  /** decode.workers; 0 = the product default. */
  workers: number;
  transport: "auto" | "socket" | "pipe";
}

export interface RunResult {
  cameras: number;
  clips: Record<string, number>;
  seconds: number;
  loadavgStart: number[];
  loadavgEnd: number[];
  firstToVerdict: Dist;
  firstToVerdictByKind: Record<string, Dist>;
  frameToVerdict: Dist;
  photoLatencyByShow: Record<string, Array<number | null>>;
  slowest: Array<{ camera: string; kind: string; show: number; firstToVerdictMs: number; frameToVerdictMs: number | undefined; readQueueMs?: number; readDecodeMs?: number; decodedToVerdictMs?: number }>;
  showings: number;
  read: number;
  readByKind: Record<string, { showings: number; read: number }>;
  /** This process's CPU in the window, less the harness baseline below. */
  gatewayCpu: number;
  /** This process's CPU with the RTSP servers up and no gateway (the feeds' progress parsing), measured before the row. */
  harnessInProcessCpu: number;
  ffmpegCpu: number;
  harnessCpu: number;
  framesIn: number;
  dropped: { ingest: number; gated: number; prefiltered: number; superseded: number; supersededInView: number; queuedInView: number };
  slowScheduled: number;
  /** Decodes whose cascade stopped escalating for a more urgent waiting frame (early-stop.ts). */
  stoppedEarly: number;
  prefilterMsPerFrame: number;
  queueEarlyMs: number;
  queueLateMs: number;
  decodeMs: Dist;
  loopLagP99Ms: number;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

export async function runRow(n: number, servers: Array<{ server: RtspServer; clip: Clip }>, creds: Creds, seconds: number, o: RowOptions): Promise<RunResult> {
  const state = join(o.work, `state-${n}-${Date.now()}`);
  const used = servers.slice(0, n);
  const cfg = parseConfig({
    gateway: { id: `bench-${n}`, stateDir: state, hashSalt: "bench-e2e-salt-0123456789" },
    log: { level: "warn" },
    ...(o.workers > 0 ? { decode: { workers: o.workers } } : {}),
    server: { listen: { host: "127.0.0.1", port: 0 } },
    cameras: used.map((s, i) => ({ id: `cam-${i}`, lane: `lane-${i}`, url: s.server.url, width: o.width, height: o.height, fps: o.fps, frameTransport: o.transport })),
    lanes: used.map((_, i) => ({ id: `lane-${i}` })),
    trust: { lists: [{ source: creds.trustList, rootKey: creds.rootKey }] },
  });
  const logger = pino({ level: "warn" }, createWriteStream(join(o.work, "gateway.log"), { flags: "a" }));
  // This process also runs the harness (it parses every RTSP feed's progress reports for the
  // camera clock): its CPU with the servers up and no gateway is taken off the gateway's share.
  const harnessInProcess = await idleProcessCpu(HARNESS_BASELINE_MS);
  const tracker = new ShowingTracker(new Map(used.map((s, i) => [`cam-${i}`, s.clip])));
  const frameToVerdict: number[] = [];
  const queue: Array<{ at: number; ms: number }> = [];
  const decodeMs: number[] = [];
  let measuring = false;
  let framesIn = 0;
  const onFrame = (f: LumaFrame) => {
    if (measuring) framesIn++;
    // Frames dropped by ingest never reach this tap: they are counted from the camera stats.
    tracker.frame(f.cameraId, readFrameClock(f), f.receivedAt, measuring);
  };
  const gw = await startGateway(cfg, {
    logger,
    onFrame,
    onDecoded: (r) => {
      if (!measuring) return;
      queue.push({ at: performance.now(), ms: r.timings.queueMs });
      if (!r.error) decodeMs.push(r.timings.decodeMs);
      const cur = tracker.inView(r.cameraId);
      if (cur && cur.readDecode === undefined && r.codes.length > 0) cur.readDecode = { queueMs: Math.round(r.timings.queueMs), decodeMs: Math.round(r.timings.decodeMs), doneAt: performance.now() };
    },
  });
  gw.bus.on("verdict", (ev: VerdictEvent) => {
    const at = performance.now();
    const cur = tracker.inView(ev.cameraId);
    if (!measuring || !cur || cur.verdictAt !== undefined) return;
    cur.verdictAt = at;
    cur.frameToVerdictMs = ev.frameToVerdictMs;
    frameToVerdict.push(ev.frameToVerdictMs);
  });
  const t0 = performance.now();
  while (gw.cameras.info().some((c) => c.state !== "online")) {
    if (performance.now() - t0 > 60_000) throw new Error("cameras did not come online");
    await sleep(200);
  }
  await sleep(3000);
  const harness = used.flatMap((s) => s.server.pids());
  const ingestPids = () => childProcesses(process.pid).filter((p) => !harness.includes(p));
  const poolStats = () => Object.values(gw.pool.stats().cameras);
  const sumPool = (k: "dropped" | "droppedInView" | "queuedInView" | "prefiltered" | "slowScheduled" | "stoppedEarly" | "prefilterMs") => poolStats().reduce((s, c) => s + c[k], 0);
  const ingestDropped = () => gw.cameras.info().reduce((s, c) => s + c.framesDropped, 0) - sumPool("dropped");
  const before = {
    cpu: process.cpuUsage(), wall: performance.now(), ff: new Map(ingestPids().map((p) => [p, procTicks(p)])), h: new Map(harness.map((p) => [p, procTicks(p)])),
    gated: sum(gw.cameras.gated()), ingest: ingestDropped(), dropped: sumPool("dropped"), droppedInView: sumPool("droppedInView"), queuedInView: sumPool("queuedInView"),
    prefiltered: sumPool("prefiltered"), slow: sumPool("slowScheduled"), stopped: sumPool("stoppedEarly"), preMs: sumPool("prefilterMs"), submitted: [...gw.cameras.submitted.values()].reduce((a, b) => a + b, 0),
  };
  const loadavgStart = loadavg();
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  measuring = true;
  await sleep(seconds * 1000);
  measuring = false;
  const end = performance.now();
  const wall = end - before.wall;
  const cpu = process.cpuUsage(before.cpu);
  const ffTicks = ingestPids().reduce((s, p) => s + procTicks(p) - (before.ff.get(p) ?? 0), 0);
  const hTicks = harness.reduce((s, p) => s + procTicks(p) - (before.h.get(p) ?? 0), 0);
  const submitted = [...gw.cameras.submitted.values()].reduce((a, b) => a + b, 0) - before.submitted;
  const r = {
    gated: sum(gw.cameras.gated()) - before.gated,
    ingest: ingestDropped() - before.ingest,
    superseded: sumPool("dropped") - before.dropped,
    supersededInView: sumPool("droppedInView") - before.droppedInView,
    queuedInView: sumPool("queuedInView") - before.queuedInView,
    prefiltered: sumPool("prefiltered") - before.prefiltered,
    slow: sumPool("slowScheduled") - before.slow,
    stopped: sumPool("stoppedEarly") - before.stopped,
    preMs: sumPool("prefilterMs") - before.preMs,
  };
  lag.disable();
  // Verdicts of showings that began in the window still count if they come within 2 s.
  await sleep(2000);
  const loadavgEnd = loadavg();
  await gw.close();
  const slotWait = slotWaitEarlyLate(queue, before.wall, wall);
  const st = showingStats(tracker.showings.filter((s) => s.firstAt <= end));
  return {
    cameras: n,
    clips: Object.fromEntries(st.kinds.map((k) => [k, used.filter((u) => u.clip.kind === k).length])),
    seconds,
    loadavgStart,
    loadavgEnd,
    firstToVerdict: st.firstToVerdict,
    firstToVerdictByKind: st.firstToVerdictByKind,
    frameToVerdict: dist(frameToVerdict),
    photoLatencyByShow: st.photoLatencyByShow,
    slowest: st.slowest,
    showings: st.showings,
    read: st.read,
    readByKind: st.readByKind,
    gatewayCpu: Math.max(0, usageCpuPct(cpu, wall) - harnessInProcess),
    harnessInProcessCpu: harnessInProcess,
    ffmpegCpu: ticksCpuPct(ffTicks, wall),
    harnessCpu: ticksCpuPct(hTicks, wall),
    framesIn,
    dropped: { ingest: r.ingest, gated: r.gated, prefiltered: r.prefiltered, superseded: r.superseded, supersededInView: r.supersededInView, queuedInView: r.queuedInView },
    slowScheduled: r.slow,
    stoppedEarly: r.stopped,
    prefilterMsPerFrame: r.preMs / Math.max(1, submitted),
    queueEarlyMs: slotWait.early,
    queueLateMs: slotWait.late,
    decodeMs: dist(decodeMs),
    loopLagP99Ms: lag.percentile(99) / 1e6,
  };
}
