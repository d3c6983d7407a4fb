/**
 * npm run bench:substream: what a camera substream (mainStream: on-activity) saves on an idle
 * camera, and what it costs when someone arrives. Real GStreamer RTSP servers on 127.0.0.1: one
 * serves a 1080p15 main stream, another a 640x360 substream of the same scene (two servers, as a
 * camera's two encoders).
 *
 * 1. Idle CPU: a scene with no code and no motion (sensor-like noise, as a camera), for a while.
 *    Contenders, same clips, interleaved windows (A B A B ...):
 *    - always: one CameraSupervisor on the main stream, every frame through the change gate (what
 *      a camera without a substream costs before any decode);
 *    - on-activity: the PairedCamera as the gateway builds it (substream + the app's activity
 *      detector), measured once it is in standby (main stream stopped by policy).
 *    CPU = this process (reader, gate) + our ffmpeg processes (/proc ticks), % of one core. This is
 *    a lower bound of the saving: with a main stream the gateway also prefilters admitted frames and
 *    runs a full decode per second on an idle camera (bench:e2e "idle"), which standby skips too.
 * 2. Activity -> main stream's first frame: a substream clip in which a code appears every 10 s
 *    after a quiet stretch of 8 s; warmHoldMs is 4 s, so each appearance finds the
 *    main stream stopped. Per appearance: ms from the substream frame that showed activity to the
 *    first main-stream frame delivered (the camera turns online with that frame).
 * Flags: --seconds 10 (per idle window) --rounds 2 --warm-samples 6 --no-idle (warm-up only) --out substream.
 * Exits 1 when on-activity does not save CPU on the idle camera, or no warm-up sample completed.
 */
import { loadavg } from "node:os";
import { cameraSchema, type CameraConfig } from "../src/ingest/options.js";
import { silentLogger } from "../src/core/logger.js";
import type { LumaFrame } from "../src/core/types.js";
import { activityDetector, ChangeGate, DEFAULT_GATE } from "../src/app/change-gate.js";
import { CameraSupervisor, nodeSpawner, PairedCamera, type Spawner } from "../src/ingest/index.js";
import { readProcTicks, TICKS_PER_SECOND } from "../src/ingest/proc-cpu.js";
import { makeQrClip, startRtspServer, type ClipSegment, type RtspServer } from "../test/support/rtsp/index.js";
import { fmt, printTable, summarize, writeResults } from "./lib/stats.js";

const argv = process.argv.slice(2);
const flag = (name: string, def: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
};
const WINDOW_MS = Number(flag("seconds", "10")) * 1000;
const ROUNDS = Number(flag("rounds", "2"));
const WARM_SAMPLES = Number(flag("warm-samples", "6"));
const OUT = flag("out", "substream");
const MAIN = { width: 1920, height: 1080, fps: 15 };
const SUB = { width: 640, height: 360, fps: 10 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Our ffmpeg processes, sampled often enough that one that exits within a window is counted up to its last sample. */
class FfmpegCpu {
  private readonly procs = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  readonly spawner: Spawner = (cmd, args, stdin) => {
    const p = nodeSpawner(cmd, args, stdin);
    if (p.pid !== undefined) this.procs.set(p.pid, readProcTicks(p.pid) ?? 0);
    return p;
  };
  start(): void {
    this.timer = setInterval(() => this.sample(), 250);
  }
  stop(): void {
    clearInterval(this.timer);
  }
  sample(): void {
    for (const pid of this.procs.keys()) {
      const t = readProcTicks(pid);
      if (t !== undefined) this.procs.set(pid, t);
    }
  }
  /** Ticks of every process spawned so far (last known for the ones gone). */
  total(): number {
    this.sample();
    let n = 0;
    for (const t of this.procs.values()) n += t;
    return n;
  }
}

function camera(id: string, main: RtspServer, sub: RtspServer | undefined, warmHoldMs: number): CameraConfig {
  return cameraSchema.parse({
    id, lane: "l1", url: main.url, ...MAIN,
    ...(sub ? { subStream: { url: sub.url, ...SUB }, mainStream: "on-activity", warmHoldMs } : {}),
  });
}

async function until(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** CPU (% of one core) of this process + our ffmpegs over `ms`. */
async function window(cpu: FfmpegCpu, ms: number): Promise<{ total: number; ffmpeg: number; node: number }> {
  const n0 = process.cpuUsage();
  const f0 = cpu.total();
  const t0 = performance.now();
  await sleep(ms);
  const n = process.cpuUsage(n0);
  const f = cpu.total() - f0;
  const dt = performance.now() - t0;
  const node = ((n.user + n.system) / 1000 / dt) * 100;
  const ffmpeg = ((f / TICKS_PER_SECOND) * 1000 * 100) / dt;
  return { total: node + ffmpeg, ffmpeg, node };
}

async function idleCpu(main: RtspServer, sub: RtspServer) {
  const rows: Array<{ policy: string; round: number; total: number; ffmpeg: number; node: number; state: string; warmStarts: number }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const policy of ["always", "on-activity"] as const) {
      const cpu = new FfmpegCpu();
      cpu.start();
      let cam: CameraSupervisor | PairedCamera;
      if (policy === "always") {
        // Every main-stream frame through the decode change gate, as the camera path does before decoding.
        const gate = new ChangeGate(DEFAULT_GATE);
        cam = new CameraSupervisor(camera("always", main, undefined, 0), { logger: silentLogger, spawner: cpu.spawner, onFrame: (f) => void gate.admit(f, "none") });
        cam.start();
        await until(() => cam.state === "online", "main stream online", 30_000);
        await sleep(2000);
      } else {
        const gate = new ChangeGate(DEFAULT_GATE);
        cam = new PairedCamera(camera("paired", main, sub, 1000), { logger: silentLogger, spawner: cpu.spawner, onFrame: (f) => void gate.admit(f, "none"), isActivity: activityDetector() });
        cam.start();
        await until(() => cam.state === "standby", "standby", 60_000);
        // Let the stopped main stream's process be gone and the substream settle.
        await sleep(2000);
      }
      const before = cam instanceof PairedCamera ? cam.warmStarts : 0;
      const w = await window(cpu, WINDOW_MS);
      const warmStarts = cam instanceof PairedCamera ? cam.warmStarts - before : 0;
      rows.push({ policy, round, ...w, state: cam.state, warmStarts });
      console.error(`idle ${policy} round ${round}: ${fmt(w.total)}% (ffmpeg ${fmt(w.ffmpeg)}, node ${fmt(w.node)}), state ${cam.state}, false activations ${warmStarts}`);
      await cam.stop();
      cpu.stop();
    }
  }
  return rows;
}

async function warmUp(main: RtspServer, sub: RtspServer) {
  const samples: Array<{ firstFrameMs: number }> = [];
  let activityAt: number | undefined;
  const detect = activityDetector();
  const cam: PairedCamera = new PairedCamera(camera("warm", main, sub, 4000), {
    logger: silentLogger,
    onFrame: (f: LumaFrame) => {
      if (activityAt === undefined) return;
      samples.push({ firstFrameMs: f.receivedAt - activityAt });
      console.error(`warm-up ${samples.length}: first main frame ${fmt(f.receivedAt - activityAt, 0)} ms after activity`);
      activityAt = undefined;
    },
    isActivity: (f) => {
      const a = detect(f);
      // Only an activity that finds the main stream stopped is a warm-up.
      if (a && cam.state === "standby") {
        activityAt = f.receivedAt;
      }
      return a;
    },
  });
  cam.start();
  const end = performance.now() + WARM_SAMPLES * 10_000 + 60_000;
  while (samples.length < WARM_SAMPLES && performance.now() < end) await sleep(200);
  await cam.stop();
  return samples;
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadStart = loadavg();
  // Idle: nothing but sensor-like noise. Activity: a code appears after 8 s of quiet, every 10 s.
  const idle: ClipSegment[] = [{ seconds: 10 }];
  const active: ClipSegment[] = [{ text: "GW-SUBSTREAM-1", seconds: 2 }, { seconds: 8 }];
  const clip = (size: { width: number; height: number; fps: number }, segments: ClipSegment[]) => makeQrClip({ ...size, segments, clock: false, noise: 6 });
  const servers: RtspServer[] = [];
  try {
    const [idleMain, idleSub] = [await startRtspServer({ clip: await clip(MAIN, idle) }), await startRtspServer({ clip: await clip(SUB, idle) })];
    servers.push(idleMain, idleSub);
    const idleRows = argv.includes("--no-idle") ? [] : await idleCpu(idleMain, idleSub);
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    const [actMain, actSub] = [await startRtspServer({ clip: await clip(MAIN, active) }), await startRtspServer({ clip: await clip(SUB, active) })];
    servers.push(actMain, actSub);
    const warm = await warmUp(actMain, actSub);

    // The mean of the windows: with 2-3 rounds a median is just one of them.
    const med = (policy: string, k: "total" | "ffmpeg" | "node") => summarize(idleRows.filter((r) => r.policy === policy).map((r) => r[k])).mean;
    const always = med("always", "total");
    const onActivity = med("on-activity", "total");
    printTable(
      `substream: idle 1080p15 camera, CPU % of one core (mean of ${ROUNDS} interleaved ${WINDOW_MS / 1000} s windows; load avg ${loadavg().map((l) => l.toFixed(1)).join(" ")})`,
      ["policy", "total", "ffmpeg", "gateway", "false activations"],
      ["always", "on-activity"].map((p) => [p, med(p, "total"), med(p, "ffmpeg"), med(p, "node"), String(idleRows.filter((r) => r.policy === p).reduce((a, r) => a + r.warmStarts, 0))]),
    );
    const ff = summarize(warm.map((w) => w.firstFrameMs));
    printTable("activity on the substream -> main stream (ms; main stream stopped before each)", ["measure", "n", "median", "p95", "max"], [
      ["first main frame delivered", String(ff.n), ff.median, ff.p95, ff.max],
    ]);
    const misses: string[] = [];
    if (!(onActivity < always)) misses.push(`on-activity ${fmt(onActivity)}% >= always ${fmt(always)}% on an idle camera`);
    if (warm.length === 0) misses.push("no warm-up sample completed");
    const f = writeResults(OUT, {
      windowMs: WINDOW_MS, rounds: ROUNDS, main: MAIN, sub: SUB, loadavgStart: loadStart, loadavg: loadavg(),
      idle: { rows: idleRows, meanTotal: { always, onActivity }, ratio: onActivity / always },
      warmUp: { samples: warm, firstFrameMs: ff },
      targetsMissed: misses,
    });
    console.log(`\nresults: ${f} (total ${((performance.now() - started) / 1000).toFixed(0)} s)`);
    if (misses.length) {
      console.log(`TARGET MISSED: ${misses.join("; ")}`);
      process.exitCode = 1;
    } else console.log(`saves CPU: idle camera ${fmt(onActivity)}% with the substream vs ${fmt(always)}% without (${fmt(onActivity / always)}x)`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
