/**
 * npm run bench:recovery: issue #11 finding 9. One camera under the DEFAULT supervisor config
 * (only id, size and rate set to match the clip) against the real GStreamer RTSP server, which is
 * killed (SIGKILL, like a power cut) and restarted CYCLES times, down 2-3 s each.
 * Per cycle: server back (restart() resolved: listening, feed started) -> first frame whose clip
 * clock is fresh (< 1.5 s old); ffmpeg processes of ours while down and after recovery; camera fps
 * 1 s after recovery; RSS of this process.
 * Targets: every cycle back within 5 s, 0 GW_CAMERA_FAILED, at most one ffmpeg of ours at any
 * check and none after stop, RSS growth over the run under 20 MB, fps 1 s after recovery >= 70 %
 * of the configured rate. A missed target exits 1. Results: bench/results/recovery.json.
 */
import { loadavg } from "node:os";
import { cameraSchema } from "../src/ingest/options.js";
import { createLogger } from "../src/core/logger.js";
import { CameraSupervisor } from "../src/ingest/index.js";
import { childProcesses, clipFrameAgeMs, clipFrameCount, makeQrClip, readFrameClock, startRtspServer } from "../test/support/rtsp/index.js";
import { fmt, printTable, summarize, writeResults } from "./lib/stats.js";

const CYCLES = Number(process.env.RECOVERY_CYCLES ?? 50);
const W = 640;
const H = 360;
const FPS = 10;
const SEGMENTS = [{ text: "GW-RECOVERY", seconds: 3 }, { seconds: 2 }];
const FRAMES = clipFrameCount(FPS, SEGMENTS);
const TARGET_MS = 5000;
const FRESH_MS = 1500;
const RSS_GROWTH_MAX_MB = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(20);
  }
  return true;
}

async function main(): Promise<number> {
  const loadBefore = loadavg();
  const clip = await makeQrClip({ width: W, height: H, fps: FPS, segments: SEGMENTS, keyint: 5 });
  const server = await startRtspServer({ clip });
  const own = () => {
    const feed = new Set(server.pids());
    return childProcesses(process.pid, "ffmpeg").filter((p) => !feed.has(p));
  };
  const cfg = cameraSchema.parse({ id: "bench-r", lane: "lane1", url: server.url, width: W, height: H, fps: FPS });
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: "info", destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  const frames: Array<{ at: number; fresh: boolean }> = [];
  const sup = new CameraSupervisor(cfg, {
    logger,
    onFrame: (f) => {
      const at = performance.now();
      const index = readFrameClock(f);
      const fresh = index !== undefined && clipFrameAgeMs({ index, receivedAt: f.receivedAt, feedStartedAt: server.feedStartedAt, fps: FPS, frameCount: FRAMES }) < FRESH_MS;
      frames.push({ at, fresh });
      if (frames.length > 2000) frames.splice(0, 1000);
    },
  });
  sup.start();
  if (!(await until(() => sup.state === "online", 30_000))) throw new Error("camera never came online");
  await sleep(3000);

  const cycles: Array<{ cycle: number; downMs: number; recoveryMs: number | null; ffmpegWhileDown: number; ffmpegAfter: number; fps1s: number; rssMb: number }> = [];
  for (let i = 0; i < CYCLES; i++) {
    await server.kill();
    const downMs = 2000 + Math.round(Math.random() * 1000);
    await sleep(downMs);
    const ffmpegWhileDown = own().length;
    await server.restart();
    const back = performance.now();
    const ok = await until(() => frames.some((f) => f.at > back && f.fresh), 30_000);
    const recoveryMs = ok ? Math.round(frames.find((f) => f.at > back && f.fresh)!.at - back) : null;
    await sleep(1000);
    const fps1s = sup.stats().fpsIn;
    const ffmpegAfter = own().length;
    const rssMb = process.memoryUsage().rss / 1e6;
    cycles.push({ cycle: i + 1, downMs, recoveryMs, ffmpegWhileDown, ffmpegAfter, fps1s: Math.round(fps1s * 100) / 100, rssMb: Math.round(rssMb * 10) / 10 });
    process.stdout.write(`cycle ${i + 1}/${CYCLES}: down ${downMs} ms, back in ${recoveryMs ?? "never"} ms, fps ${fmt(fps1s)}, ffmpeg ${ffmpegWhileDown}/${ffmpegAfter}, rss ${fmt(rssMb, 1)} MB\n`);
    await sleep(1000 + Math.round(Math.random() * 1000));
  }
  const stats = sup.stats();
  await sup.stop();
  const orphansAfterStop = own().length;
  await server.stop();

  const rec = cycles.map((c) => c.recoveryMs).filter((x): x is number => x !== null);
  const within = cycles.filter((c) => c.recoveryMs !== null && c.recoveryMs <= TARGET_MS).length;
  const failedLines = lines.filter((l) => l.code === "GW_CAMERA_FAILED").length;
  const rssFirst = summarize(cycles.slice(0, 5).map((c) => c.rssMb)).median;
  const rssLast = summarize(cycles.slice(-5).map((c) => c.rssMb)).median;
  const maxOwn = Math.max(...cycles.map((c) => Math.max(c.ffmpegWhileDown, c.ffmpegAfter)));
  const minFps = Math.min(...cycles.map((c) => c.fps1s));
  const targets = {
    backWithin5s: { ok: within === CYCLES, value: `${within}/${CYCLES}` },
    cameraFailed: { ok: failedLines === 0, value: failedLines },
    orphanFfmpeg: { ok: maxOwn <= 1 && orphansAfterStop === 0 && cycles.every((c) => c.ffmpegWhileDown === 0), value: { maxOwnAtChecks: maxOwn, afterStop: orphansAfterStop } },
    rssFlat: { ok: rssLast - rssFirst < RSS_GROWTH_MAX_MB, value: { firstMb: rssFirst, lastMb: rssLast } },
    fpsAfterRecovery: { ok: minFps >= 0.7 * FPS, value: minFps },
  };
  const s = summarize(rec);
  printTable(`recovery: ${CYCLES} kills of the RTSP server, default supervisor config (load ${loadBefore.map((x) => x.toFixed(1)).join(" ")})`, ["cycles", "within 5 s", "p50 ms", "p95 ms", "max ms", "GW_CAMERA_FAILED", "rss first/last MB", "min fps 1 s after"], [
    [CYCLES, `${within}/${CYCLES}`, fmt(s.median, 0), fmt(s.p95, 0), fmt(s.max, 0), failedLines, `${fmt(rssFirst, 1)}/${fmt(rssLast, 1)}`, fmt(minFps)],
  ]);
  const file = writeResults("recovery", {
    workload: { cycles: CYCLES, downMs: "2000-3000", clip: `${W}x${H} ${FPS} fps`, camera: "cameraSchema defaults (restartBudget 10 per 300 s, backoff 500-3000 ms, failedRetryMs 15000)", freshMs: FRESH_MS },
    loadavg: { before: loadBefore, after: loadavg() },
    recoveryMs: s,
    targets,
    supervisor: { reconnectsLastHour: stats.reconnectsLastHour, restartsInWindow: stats.restartsInWindow, generation: stats.generation },
    cycles,
  });
  console.log(`results: ${file}`);
  const missed = Object.entries(targets).filter(([, t]) => !t.ok).map(([k]) => k);
  if (missed.length > 0) {
    console.error(`targets missed: ${missed.join(", ")}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
