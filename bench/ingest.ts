/**
 * npm run bench:ingest: a supervised camera against the real GStreamer RTSP server, for 720p and
 * 1080p at 10 and 15 fps. Per row: CPU of the camera (its ffmpeg + this process's reader),
 * delivered fps, camera-to-frame delay (frame clock drawn into the stream), start-up to first
 * frame, recovery after a server restart. Reference in the same run: a bare decode of the same
 * stream (`ffmpeg -i URL -f null -`), so the ratio shows what scaling + pipe + reader add.
 * Plus the pixel-format choice (yplane vs yuv420p vs gray) as CPU per frame on the same clip,
 * read as fast as possible, interleaved runs: less noisy than a real-time window.
 */
import { spawn } from "node:child_process";
import { loadavg } from "node:os";
import { cameraSchema } from "../src/config/sections/cameras.js";
import { silentLogger } from "../src/core/logger.js";
import type { LumaFrame } from "../src/core/types.js";
import { CameraSupervisor, ffmpegArgs, FrameSlicer, frameLayout, nodeSpawner, type SpawnedProcess } from "../src/ingest/index.js";
import { readProcTicks, TICKS_PER_SECOND } from "../src/ingest/proc-cpu.js";
import { clipFrameAgeMs, clipFrameCount, makeQrClip, readFrameClock, startRtspServer, type ClipSegment, type RtspServer } from "../test/support/rtsp/index.js";
import { fmt, printTable, summarize, writeResults } from "./lib/stats.js";

const MEASURE_MS = Number(process.env.BENCH_INGEST_MEASURE_MS ?? 8000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  config: string;
  pixelFormat: string;
  ffmpegCpu: number;
  readerCpu: number;
  refCpu: number;
  fps: number;
  fpsRead: number;
  delay: ReturnType<typeof summarize>;
  startupMs: number;
  recoveryMs: number | undefined;
  burstDropped: number;
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(10);
  }
  return true;
}

/** CPU % (100 = one core) of a bare decode of the stream: the reference. */
async function referenceDecodeCpu(url: string, ms: number): Promise<number> {
  const p = spawn("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-fflags", "nobuffer", "-flags", "low_delay", "-i", url, "-an", "-f", "null", "-"], { stdio: "ignore" });
  await sleep(3000);
  const t0 = readProcTicks(p.pid!) ?? 0;
  const w0 = performance.now();
  await sleep(ms);
  const t1 = readProcTicks(p.pid!) ?? 0;
  const w1 = performance.now();
  p.kill("SIGKILL");
  await new Promise((r) => p.once("exit", r));
  return ((t1 - t0) / TICKS_PER_SECOND) * 100 * (1000 / (w1 - w0));
}

async function runConfig(width: number, height: number, fps: number, pixelFormat: "yplane" | "yuv420p" | "gray", withRestart: boolean): Promise<Row> {
  const segments: ClipSegment[] = [{ text: `BENCH-${width}x${height}`, seconds: 5 }, { seconds: 5 }];
  const frameCount = clipFrameCount(fps, segments);
  const clip = await makeQrClip({ width, height, fps, segments, noise: 6 });
  const server: RtspServer = await startRtspServer({ clip });
  let sup: CameraSupervisor | undefined;
  try {
    await waitFor(() => Number.isFinite(server.feedStartedAt), 5000);
    const cam = cameraSchema.parse({
      id: "bench", lane: "bench", url: server.url, width, height, fps, pixelFormat,
      startupGraceMs: 10000, stallTimeoutMs: 3000, backoffInitialMs: 250, backoffMaxMs: 1000, restartBudget: 100,
    });
    let proc: SpawnedProcess | undefined;
    const delays: number[] = [];
    let delivered = 0;
    let lastFrameAt = 0;
    let measuring = false;
    sup = new CameraSupervisor(cam, {
      logger: silentLogger,
      spawner: (cmd, args) => (proc = nodeSpawner(cmd, args)),
      onFrame: (f: LumaFrame) => {
        delivered++;
        lastFrameAt = f.receivedAt;
        if (!measuring) return;
        const index = readFrameClock(f);
        if (index !== undefined) delays.push(clipFrameAgeMs({ index, receivedAt: f.receivedAt, feedStartedAt: server.feedStartedAt, fps, frameCount }));
      },
    });
    const t0 = performance.now();
    sup.start();
    const startupMs = (await waitFor(() => delivered > 0, 20000)) ? lastFrameAt - t0 : NaN;
    await sleep(1000);

    // Steady state: CPU of ffmpeg (from /proc) and of this process (the reader), fps, delay.
    measuring = true;
    const pid = proc!.pid!;
    const f0 = readProcTicks(pid) ?? 0;
    const c0 = process.cpuUsage();
    const d0 = delivered;
    const r0 = sup.stats().framesIn;
    const w0 = performance.now();
    await sleep(MEASURE_MS);
    const f1 = readProcTicks(pid) ?? 0;
    const c1 = process.cpuUsage(c0);
    const w1 = performance.now();
    measuring = false;
    const secs = (w1 - w0) / 1000;
    const ffmpegCpu = ((f1 - f0) / TICKS_PER_SECOND / secs) * 100;
    const readerCpu = ((c1.user + c1.system) / 1e6 / secs) * 100;
    const fpsOut = (delivered - d0) / secs;
    const fpsRead = (sup.stats().framesIn - r0) / secs;

    let recoveryMs: number | undefined;
    if (withRestart) {
      await server.kill();
      await waitFor(() => sup!.state !== "online", 10000);
      await sleep(1000);
      const before = delivered;
      await server.restart();
      const back = performance.now();
      if (await waitFor(() => delivered > before, 30000)) recoveryMs = lastFrameAt - back;
    }
    const burstDropped = sup.stats().burstDropped;
    await sup.stop();
    sup = undefined;
    const refCpu = pixelFormat === "yplane" ? await referenceDecodeCpu(server.url, Math.min(MEASURE_MS, 5000)) : NaN;
    return { config: `${height}p ${fps}fps`, pixelFormat, ffmpegCpu, readerCpu, refCpu, fps: fpsOut, fpsRead, delay: summarize(delays), startupMs, recoveryMs, burstDropped };
  } finally {
    await sup?.stop();
    await server.stop();
  }
}

/** CPU ms per frame (ffmpeg from /proc + this process) reading `frames` frames of a looped clip. */
async function formatCost(clip: string, width: number, height: number, pixelFormat: "yplane" | "yuv420p" | "gray", frames: number): Promise<{ ffmpegMs: number; readerMs: number }> {
  const args = ffmpegArgs({ source: "file", file: clip, width, height, transport: "tcp", pixelFormat }, "").filter((a) => a !== "-re");
  const p = spawn("ffmpeg", args, { stdio: ["ignore", "pipe", "ignore"] });
  const { frameBytes, lumaBytes } = frameLayout(width, height, pixelFormat);
  const warm = 30;
  let n = 0;
  let f0 = 0;
  let f1 = 0;
  let c0 = process.cpuUsage();
  let c1 = c0;
  const done = new Promise<void>((resolve) => {
    const slicer = new FrameSlicer(frameBytes, lumaBytes, () => {
      n++;
      if (n === warm) {
        f0 = readProcTicks(p.pid!) ?? 0;
        c0 = process.cpuUsage();
      } else if (n === warm + frames) {
        f1 = readProcTicks(p.pid!) ?? 0;
        c1 = process.cpuUsage(c0);
        resolve();
      }
    });
    p.stdout.on("data", (c: Buffer) => slicer.push(c));
  });
  await done;
  p.kill("SIGKILL");
  await new Promise((r) => p.once("exit", r));
  return { ffmpegMs: ((f1 - f0) * 1000) / TICKS_PER_SECOND / frames, readerMs: (c1.user + c1.system) / 1000 / frames };
}

async function pixelFormatTable(): Promise<Array<{ pixelFormat: string; ffmpegMs: number; readerMs: number; totalMs: number }>> {
  const clip = await makeQrClip({ width: 1920, height: 1080, fps: 15, segments: [{ text: "BENCH-1920x1080", seconds: 5 }, { seconds: 5 }], noise: 6 });
  const formats = ["yplane", "yuv420p", "gray"] as const;
  const samples = new Map<string, Array<{ ffmpegMs: number; readerMs: number }>>(formats.map((f) => [f, []]));
  for (let round = 0; round < 3; round++) for (const f of formats) samples.get(f)!.push(await formatCost(clip, 1920, 1080, f, 300));
  return formats.map((f) => {
    const s = samples.get(f)!;
    const ffmpegMs = summarize(s.map((x) => x.ffmpegMs)).median;
    const readerMs = summarize(s.map((x) => x.readerMs)).median;
    return { pixelFormat: f, ffmpegMs, readerMs, totalMs: summarize(s.map((x) => x.ffmpegMs + x.readerMs)).median };
  });
}

interface Observation {
  scenario: string;
  outcome: string;
}

/** Bare ffmpeg (no supervisor) against the server: how it really fails. */
async function observeFailures(): Promise<Observation[]> {
  const clip = await makeQrClip({ width: 640, height: 360, fps: 10, segments: [{ text: "OBSERVE", seconds: 4 }] });
  const server = await startRtspServer({ clip });
  const out: Observation[] = [];
  const args = (url: string) => ["-hide_banner", "-nostdin", "-loglevel", "warning", "-rtsp_transport", "tcp", "-timeout", "5000000", "-fflags", "nobuffer", "-flags", "low_delay", "-i", url, "-an", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"];
  const run = async (url: string) => {
    const p = spawn("ffmpeg", args(url), { stdio: ["ignore", "pipe", "ignore"] });
    let bytes = 0;
    p.stdout.on("data", (c: Buffer) => (bytes += c.length));
    const exit = new Promise<{ code: number | null; signal: string | null; at: number }>((r) => p.once("exit", (code, signal) => r({ code, signal, at: performance.now() })));
    await waitFor(() => bytes > 0, 15000);
    return { p, exit };
  };
  const race = async (exit: Promise<{ code: number | null; signal: string | null; at: number }>, ms: number) =>
    Promise.race([exit, sleep(ms).then(() => undefined)]);
  try {
    {
      const { exit } = await run(server.url);
      const t = performance.now();
      await server.kill();
      const e = await race(exit, 15000);
      out.push({ scenario: "server killed", outcome: e ? `exit code ${e.code} after ${fmt(e.at - t, 0)} ms` : "no exit within 15 s" });
      await server.restart();
    }
    {
      const { p, exit } = await run(server.url);
      server.freeze();
      const e = await race(exit, 12000);
      out.push({ scenario: "feed frozen, session up", outcome: e ? `exit code ${e.code} after freeze` : "still running after 12 s (no exit)" });
      if (!e) {
        const t = performance.now();
        p.kill("SIGTERM");
        const e2 = await race(exit, 3000);
        out.push({ scenario: "SIGTERM while frozen", outcome: e2 ? `exited after ${fmt(e2.at - t, 0)} ms (code ${e2.code}, signal ${e2.signal})` : "ignored for 3 s; SIGKILL needed" });
        if (!e2) {
          p.kill("SIGKILL");
          await exit;
        }
      }
      server.unfreeze();
    }
    {
      const t = performance.now();
      const p = spawn("ffmpeg", args("rtsp://127.0.0.1:9/none"), { stdio: "ignore" });
      const e = await new Promise<{ code: number | null }>((r) => p.once("exit", (code) => r({ code })));
      out.push({ scenario: "unreachable port", outcome: `exit code ${e.code} after ${fmt(performance.now() - t, 0)} ms` });
    }
  } finally {
    await server.stop();
  }
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  const rows: Row[] = [];
  for (const [w, h] of [[1280, 720], [1920, 1080]] as const) {
    for (const fps of [10, 15]) {
      rows.push(await runConfig(w, h, fps, "yplane", true));
      console.error(`done ${h}p${fps} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
  }

  printTable(
    `ingest: one camera via GStreamer RTSP on 127.0.0.1 (load avg ${loadavg().map((l) => l.toFixed(1)).join(" ")}; CPU 100 = one core; delay = camera frame clock -> frame delivered)`,
    ["config", "pix_fmt", "ffmpeg CPU%", "reader CPU%", "camera CPU%", "ref decode CPU%", "ratio", "fps read", "fps out", "delay med ms", "p95", "p99", "start-up ms", "recovery ms", "burst dropped"],
    rows.map((r) => [
      r.config, r.pixelFormat, r.ffmpegCpu, r.readerCpu, r.ffmpegCpu + r.readerCpu, r.refCpu,
      Number.isNaN(r.refCpu) ? "-" : fmt((r.ffmpegCpu + r.readerCpu) / r.refCpu), r.fpsRead, r.fps,
      r.delay.median, r.delay.p95, r.delay.p99, r.startupMs, r.recoveryMs ?? "-", String(r.burstDropped),
    ]),
  );
  const formats = await pixelFormatTable();
  const ref = formats.find((f) => f.pixelFormat === "yuv420p")!.totalMs;
  printTable(
    "pixel format: CPU ms per 1080p frame, same noisy clip read as fast as possible (median of 3 interleaved runs of 300 frames; ratio to yuv420p)",
    ["pix_fmt", "ffmpeg ms", "reader ms", "total ms", "ratio", "= % of a core at 15 fps"],
    formats.map((f) => [f.pixelFormat, f.ffmpegMs, f.readerMs, f.totalMs, f.totalMs / ref, (f.totalMs * 15) / 10]),
  );
  const observations = await observeFailures();
  printTable("ffmpeg 5.1 failure behaviour (bare process, no supervisor)", ["scenario", "outcome"], observations.map((o) => [o.scenario, o.outcome]));
  const f = writeResults("ingest", { measureMs: MEASURE_MS, loadavg: loadavg(), rows, formats, observations });
  console.log(`\nresults: ${f} (total ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
