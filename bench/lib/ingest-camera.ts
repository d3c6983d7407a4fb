import { spawn } from "node:child_process";
import { cameraSchema } from "../../src/ingest/options.js";
import { silentLogger } from "../../src/core/logger.js";
import type { LumaFrame } from "../../src/core/types.js";
import { FrameBuffers } from "../../src/core/frame-buffers.js";
import { CameraSupervisor, nodeSpawner, type SpawnedProcess, type TransportKind } from "../../src/ingest/index.js";
import { clipFrameAgeMs, clipFrameCount, makeQrClip, readFrameClock, startRtspServer, type ClipSegment, type RtspServer } from "../../test/support/rtsp/index.js";
import { idleProcessCpu, procTicks, ticksCpuPct, usageCpuPct } from "./cpu.js";
import { combineRounds, lessHarness, type IngestRow, type PixelFormat } from "./ingest-rows.js";
import { summarize } from "./stats.js";
import { sleep, waitFor } from "./wait.js";

/**
 * `bench:ingest`'s camera rows: a supervised camera (ffmpeg + this process's frame reader) against
 * the real GStreamer RTSP server, and the reference it is held to, a bare decode of the same stream.
 */

export interface ConfigRun {
  width: number;
  height: number;
  fps: number;
  pixelFormat: PixelFormat;
  transports: TransportKind[];
  /** Time a server restart (once: the shipped transport, last round, after its CPU window). */
  withRestart: boolean;
  shipped: TransportKind;
  rounds: number;
  measureMs: number;
}

/** CPU % (100 = one core) of a bare decode of the stream with ffmpeg's default decoder settings: the reference. */
export async function referenceDecodeCpu(url: string, ms: number): Promise<number> {
  const p = spawn("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-fflags", "nobuffer", "-flags", "low_delay", "-i", url, "-an", "-f", "null", "-"], { stdio: "ignore" });
  await sleep(3000);
  const t0 = procTicks(p.pid!);
  const w0 = performance.now();
  await sleep(ms);
  const t1 = procTicks(p.pid!);
  const w1 = performance.now();
  p.kill("SIGKILL");
  await new Promise((r) => p.once("exit", r));
  return ticksCpuPct(t1 - t0, w1 - w0);
}

/**
 * The camera over each transport and the bare reference decode, against one server (same stream),
 * in `rounds` interleaved rounds (the order rotates each round), so every contender gets the same
 * windows and one noisy window decides nothing; each CPU figure is the median of its rounds.
 */
export async function runConfig(c: ConfigRun): Promise<IngestRow[]> {
  const { width, height, fps, pixelFormat, transports } = c;
  const segments: ClipSegment[] = [{ text: `BENCH-${width}x${height}`, seconds: 5 }, { seconds: 5 }];
  const frameCount = clipFrameCount(fps, segments);
  const clip = await makeQrClip({ width, height, fps, segments, noise: 6 });
  const server: RtspServer = await startRtspServer({ clip });
  try {
    await waitFor(() => Number.isFinite(server.feedStartedAt), 5000);
    const contenders: Array<TransportKind | "ref"> = [...transports, "ref"];
    const samples = new Map<string, IngestRow[]>(transports.map((t) => [t, []]));
    const refs: number[] = [];
    const harness: number[] = [];
    for (let round = 0; round < c.rounds; round++) {
      // This process's CPU with the server up and no camera: the harness (the feed's 10 Hz
      // progress reports, parsed here for the camera clock) is not the reader's cost.
      const base = await idleProcessCpu(c.measureMs);
      harness.push(base);
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
      for (const t of order) {
        if (t === "ref") refs.push(await referenceDecodeCpu(server.url, c.measureMs));
        else {
          // The restart is timed once, in the last round, after the CPU windows.
          const r = await runCamera(server, { width, height, fps, frameCount, pixelFormat, transport: t }, c.measureMs, c.withRestart && t === c.shipped && round === c.rounds - 1);
          samples.get(t)!.push(lessHarness(r, base));
        }
      }
    }
    return combineRounds(transports, samples, refs, harness, pixelFormat);
  } finally {
    await server.stop();
  }
}

/** One supervised camera: start-up to first frame, then one steady-state window of `measureMs`, then (optionally) recovery after a server restart. */
async function runCamera(
  server: RtspServer,
  c: { width: number; height: number; fps: number; frameCount: number; pixelFormat: PixelFormat; transport: TransportKind },
  measureMs: number,
  withRestart: boolean,
): Promise<IngestRow> {
  const { width, height, fps, frameCount, pixelFormat, transport } = c;
  let sup: CameraSupervisor | undefined;
  try {
    const cam = cameraSchema.parse({
      id: "bench", lane: "bench", url: server.url, width, height, fps, pixelFormat,
      startupGraceMs: 10000, stallTimeoutMs: 3000, backoffInitialMs: 250, backoffMaxMs: 1000, restartBudget: 100,
    });
    let proc: SpawnedProcess | undefined;
    const delays: number[] = [];
    let delivered = 0;
    let lastFrameAt = 0;
    let measuring = false;
    // Frame buffers are recycled, as in the gateway (src/core/frame-buffers.ts).
    const buffers = new FrameBuffers();
    sup = new CameraSupervisor(cam, {
      logger: silentLogger,
      spawner: (cmd, args, stdin, stdout) => (proc = nodeSpawner(cmd, args, stdin, stdout)),
      transport,
      allocFrame: (n) => buffers.take(n),
      onFrame: (f: LumaFrame) => {
        delivered++;
        lastFrameAt = f.receivedAt;
        if (measuring) {
          const index = readFrameClock(f);
          if (index !== undefined) delays.push(clipFrameAgeMs({ index, receivedAt: f.receivedAt, feedStartedAt: server.feedStartedAt, fps, frameCount }));
        }
        buffers.give(f.data);
      },
    });
    const t0 = performance.now();
    sup.start();
    const startupMs = (await waitFor(() => delivered > 0, 20000)) ? lastFrameAt - t0 : NaN;
    await sleep(1000);

    // Steady state: CPU of ffmpeg (from /proc) and of this process (the reader), fps, delay.
    measuring = true;
    const pid = proc!.pid!;
    const f0 = procTicks(pid);
    const c0 = process.cpuUsage();
    const d0 = delivered;
    const r0 = sup.stats().framesIn;
    const w0 = performance.now();
    await sleep(measureMs);
    const f1 = procTicks(pid);
    const c1 = process.cpuUsage(c0);
    const w1 = performance.now();
    measuring = false;
    const secs = (w1 - w0) / 1000;
    const ffmpegCpu = ticksCpuPct(f1 - f0, w1 - w0);
    const readerCpu = usageCpuPct(c1, w1 - w0);
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
    return { config: `${height}p ${fps}fps`, pixelFormat, transport, ffmpegCpu, readerCpu, cameraCpu: ffmpegCpu + readerCpu, refCpu: NaN, fps: fpsOut, fpsRead, delay: summarize(delays), delaySamples: delays, startupMs, recoveryMs, burstDropped };
  } finally {
    await sup?.stop();
  }
}
