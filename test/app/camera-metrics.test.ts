/**
 * The ingest diagnostics travel supervisor.stats() -> CameraRig.info() -> metricsCollectors ->
 * /metrics: the real camera rig and supervisors on a FakeClock with scripted ffmpegs, and a real
 * TCP listener as the RTSP host (the rig probes it with the default TCP probe).
 */
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createCameraRig } from "../../src/app/cameras.js";
import { metricsCollectors, statsSnapshot, type Observed } from "../../src/app/observe.js";
import { cameraSchema } from "../../src/ingest/options.js";
import type { Spawner } from "../../src/ingest/index.js";
import { PROBE_INTERVAL_MS } from "../../src/ingest/supervisor.js";
import type { DecodePool } from "../../src/decode/index.js";
import { GatewayMetrics } from "../../src/output/metrics/index.js";
import { collectingLogger, fakeSpawner, type FakeFfmpeg } from "../ingest/fake-ffmpeg.js";
import { waitFor } from "../support/wait.js";

const p = "checkpoint_gateway_";
const sample = (text: string, name: string) => text.match(new RegExp(`^${p}${name} (\\S+)$`, "m"))?.[1];
const pool = { submit: () => Promise.resolve(undefined), stats: () => ({ workers: 1, busy: 0, restarts: 0, cameras: {} }) } as unknown as DecodePool;
const timings = { width: 16, height: 16, fps: 10, pixelFormat: "yplane", startupGraceMs: 5000, stallTimeoutMs: 1000, killGraceMs: 500, backoffInitialMs: 500, backoffMaxMs: 4000, restartBudget: 2, restartWindowMs: 60_000, failedRetryMs: 20_000 } as const;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
const listen = (port = 0) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer((c) => c.destroy());
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => {
      servers.push(s);
      resolve(s);
    });
  });
const portOf = (s: Server) => (s.address() as { port: number }).port;

function rig(cameras: Array<Record<string, unknown>>, spawner: Spawner, clock: FakeClock) {
  const metrics = new GatewayMetrics({ processMetrics: false });
  const r = createCameraRig({ cameras: cameras.map((c) => cameraSchema.parse({ ...timings, ...c })), lanes: new Map(), pool, metrics, logger: collectingLogger().logger, clock, spawner, changeGate: false });
  metrics.setCollectors({ cameras: metricsCollectors({ cameras: r } as unknown as Observed).cameras! });
  return { r, metrics };
}

describe("ingest diagnostics on /metrics through the camera rig", () => {
  it("abandoned ffmpegs, corrupt frames, burst drops and an ingest error, per camera", async () => {
    const clock = new FakeClock();
    const fake = fakeSpawner(clock, { frameBytes: 256, lumaBytes: 256 }, (proc) => {
      if (proc.args.includes("/tmp/stuck.mp4")) {
        // Delivers, prints two corrupt-frame lines, stalls, and survives every signal.
        proc.ignoreAllSignals = true;
        proc.startFrames(100);
        clock.setTimeout(() => {
          proc.print("[h264 @ 0x1] error while decoding MB 3 4");
          proc.print("[h264 @ 0x1] concealing 12 DC errors");
          proc.stopFrames();
        }, 500);
      } else clock.setTimeout(() => proc.exit(null, "SIGSEGV"), 10);
    });
    const spawner: Spawner = (cmd, args, stdin, stdout) => {
      if (args.includes("/tmp/missing.mp4")) throw Object.assign(new Error("spawn ffmpeg ENOENT"), { code: "ENOENT" });
      return fake.spawner(cmd, args, stdin, stdout);
    };
    const { r, metrics } = rig(
      [
        { id: "c-stuck", lane: "L1", source: "file", file: "/tmp/stuck.mp4" },
        { id: "c-missing", lane: "L2", source: "file", file: "/tmp/missing.mp4", restartBudget: 10 },
        { id: "c-crash", lane: "L2", source: "file", file: "/tmp/crash.mp4" },
      ],
      spawner,
      clock,
    );
    r.start();
    try {
      clock.advance(500 + 1000 + 500 + 500 + 10);
      const t = await metrics.render();
      expect(sample(t, 'camera_ffmpeg_abandoned_total\\{camera="c-stuck",lane="L1"\\}')).toBe("1");
      expect(sample(t, 'camera_ffmpeg_abandoned_total\\{camera="c-crash",lane="L2"\\}')).toBe("0");
      expect(sample(t, 'camera_corrupt_frames_total\\{camera="c-stuck",lane="L1"\\}')).toBe("2");
      // The first frames of each process are held by the burst guard and counted.
      expect(Number(sample(t, 'camera_burst_dropped_total\\{camera="c-stuck",lane="L1"\\}'))).toBeGreaterThanOrEqual(1);
      expect(sample(t, 'camera_ingest_error\\{camera="c-missing",lane="L2",code="GW_CAMERA_SPAWN"\\}')).toBe("1");
      // Three crashes within the window exceed a budget of 2: failed, with its own code.
      expect(sample(t, 'camera_ingest_error\\{camera="c-crash",lane="L2",code="GW_CAMERA_FAILED"\\}')).toBe("1");
      expect(t).not.toMatch(new RegExp(`^${p}camera_ingest_error\\{camera="c-stuck"`, "m"));
      // File sources have no host to probe.
      expect(t).not.toMatch(new RegExp(`^${p}camera_host_reachable\\{`, "m"));
    } finally {
      const stopping = r.stop();
      clock.advance(2000);
      await stopping;
    }
  });

  it("a frozen picture and a covered lens are reported after pictureCheckS of frames (camera_picture_lost, health), a live picture never", async () => {
    const clock = new FakeClock();
    // 16x16 frames: a still test card repeated exactly, a uniform dark frame with a little noise
    // (a cap on the lens), and the same test card with sensor noise (a live camera on a still scene).
    const card = Uint8Array.from({ length: 256 }, (_, i) => ((i % 16) * 16 + (i >> 4) * 3) & 0xff);
    let seed = 1;
    const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 5) - 2;
    const fake = fakeSpawner(clock, { frameBytes: 256, lumaBytes: 256 }, (proc) => {
      const kind = proc.args.find((a) => a.startsWith("/tmp/pic-"))!;
      const tick = () => {
        if (proc.exited) return;
        if (kind === "/tmp/pic-frozen.mp4") proc.write(card.slice());
        else if (kind === "/tmp/pic-covered.mp4") proc.write(Uint8Array.from({ length: 256 }, () => 12 + noise()));
        else proc.write(card.map((v) => Math.max(0, Math.min(255, v + noise()))));
        clock.setTimeout(tick, 100);
      };
      clock.setTimeout(tick, 100);
    });
    const { r, metrics } = rig(
      [
        { id: "c-frozen", lane: "L1", source: "file", file: "/tmp/pic-frozen.mp4" },
        { id: "c-covered", lane: "L2", source: "file", file: "/tmp/pic-covered.mp4" },
        { id: "c-live", lane: "L3", source: "file", file: "/tmp/pic-live.mp4", pictureCheckS: 5 },
      ],
      fake.spawner,
      clock,
    );
    const lost = async (cam: string, lane: string, problem: string) => sample(await metrics.render(), `camera_picture_lost\\{camera="${cam}",lane="${lane}",problem="${problem}"\\}`);
    r.start();
    try {
      clock.advance(19_000);
      // Not yet: the default is 20 s of frames.
      expect(await lost("c-frozen", "L1", "FROZEN")).toBe("0");
      expect(r.health().map((h) => h.pictureLost)).toEqual([false, false, false]);
      clock.advance(2_000);
      expect(await lost("c-frozen", "L1", "FROZEN")).toBe("1");
      expect(await lost("c-frozen", "L1", "BLANK")).toBe("0");
      expect(await lost("c-covered", "L2", "BLANK")).toBe("1");
      expect(await lost("c-covered", "L2", "FROZEN")).toBe("0");
      // Its check is 5 s, and 21 s of a noisy still scene is neither frozen nor blank.
      expect(await lost("c-live", "L3", "FROZEN")).toBe("0");
      expect(await lost("c-live", "L3", "BLANK")).toBe("0");
      expect(r.health().map((h) => h.pictureLost)).toEqual([true, true, false]);
      expect(r.info().map((c) => c.pictureProblem)).toEqual(["FROZEN", "BLANK", undefined]);
    } finally {
      const stopping = r.stop();
      clock.advance(2000);
      await stopping;
    }
  });

  it("a camera with a substream and a covered lens stays blind in standby, watched through its substream", async () => {
    const server = await listen();
    const port = portOf(server);
    const clock = new FakeClock();
    let seed = 7;
    const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 5) - 2;
    // Main stream and substream alike (16x16 here) show a cap on the lens: dark, a little noise.
    const fake = fakeSpawner(clock, { frameBytes: 256, lumaBytes: 256 }, (proc) => {
      const tick = () => {
        if (proc.exited) return;
        proc.write(Uint8Array.from({ length: 256 }, () => 12 + noise()));
        clock.setTimeout(tick, 100);
      };
      clock.setTimeout(tick, 100);
    });
    const sub = { url: `rtsp://127.0.0.1:${port}/sub`, width: 16, height: 16, fps: 10 };
    const { r, metrics } = rig([{ id: "c-paired", lane: "L1", url: `rtsp://127.0.0.1:${port}/main`, subStream: sub, warmHoldMs: 20_000, pictureCheckS: 10 }], fake.spawner, clock);
    const lost = async () => sample(await metrics.render(), 'camera_picture_lost\\{camera="c-paired",lane="L1",problem="BLANK"\\}');
    const run = async (ms: number) => {
      for (let t = 0; t < ms; t += 100) {
        clock.advance(100);
        // The host probe is a real TCP connect: let it answer.
        if (t % 1000 === 0) await new Promise((res) => setImmediate(res));
      }
    };
    r.start();
    try {
      await waitFor(async () => {
        await run(100);
        return fake.procs.length === 2;
      }, "main stream and substream started", 10_000);
      await run(12_000);
      expect([r.info()[0]!.state, r.info()[0]!.pictureProblem, r.health()[0]!.pictureLost]).toEqual(["online", "BLANK", true]);
      // No activity for the hold: the main stream stops. The substream still sees nothing.
      await run(30_000);
      expect(fake.procs.filter((p) => !p.exited)).toHaveLength(1);
      expect([r.info()[0]!.state, r.info()[0]!.pictureProblem, r.health()[0]!.pictureLost]).toEqual(["standby", "BLANK", true]);
      expect(await lost()).toBe("1");
    } finally {
      const stopping = r.stop();
      clock.advance(2000);
      await stopping;
    }
  });

  it("camera_fps_above_config: 0 for every stream from the start, 1 for a stream that settles above 1.3 x its fps", async () => {
    const server = await listen();
    const port = portOf(server);
    const clock = new FakeClock();
    // 25 fps (40 ms) against a configured 10 for c-fast and for c-paired's substream; 10 fps for the rest.
    const fake = fakeSpawner(clock, { frameBytes: 256, lumaBytes: 256 }, (proc) => proc.startFrames(proc.args.includes("/tmp/fast.mp4") || proc.args.some((a) => a.endsWith("/sub")) ? 40 : 100));
    const sub = { url: `rtsp://127.0.0.1:${port}/sub`, width: 16, height: 16, fps: 10 };
    const { r, metrics } = rig(
      [
        { id: "c-fast", lane: "L1", source: "file", file: "/tmp/fast.mp4" },
        { id: "c-ok", lane: "L1", source: "file", file: "/tmp/ok.mp4" },
        { id: "c-paired", lane: "L2", url: `rtsp://127.0.0.1:${port}/main`, subStream: sub, warmHoldMs: 20_000 },
      ],
      fake.spawner,
      clock,
    );
    const above = async (cam: string, lane: string, stream: string) => sample(await metrics.render(), `camera_fps_above_config\\{camera="${cam}",lane="${lane}",stream="${stream}"\\}`);
    const all = async () => [await above("c-fast", "L1", "main"), await above("c-ok", "L1", "main"), await above("c-paired", "L2", "main"), await above("c-paired", "L2", "sub")];
    // Before any process runs: every stream at 0 (no series for a substream a camera does not have).
    expect(await all()).toEqual(["0", "0", "0", "0"]);
    expect(await above("c-ok", "L1", "sub")).toBeUndefined();
    r.start();
    try {
      await waitFor(async () => {
        clock.advance(100);
        await new Promise((res) => setImmediate(res));
        return r.info().every((c) => c.state === "online");
      }, "every camera online", 10_000);
      clock.advance(1000);
      expect(await all()).toEqual(["1", "0", "0", "1"]);
    } finally {
      const stopping = r.stop();
      clock.advance(2000);
      await stopping;
    }
  });

  it("camera_host_reachable is 0 while the RTSP host refuses and 1 once it answers again", async () => {
    const server = await listen();
    const port = portOf(server);
    const clock = new FakeClock();
    let running: FakeFfmpeg | undefined;
    const fake = fakeSpawner(clock, { frameBytes: 256, lumaBytes: 256 }, (proc) => {
      running = proc;
      proc.startFrames(100);
    });
    const { r, metrics } = rig([{ id: "c-rtsp", lane: "L1", url: `rtsp://127.0.0.1:${port}/stream` }], fake.spawner, clock);
    const reachable = async () => sample(await metrics.render(), 'camera_host_reachable\\{camera="c-rtsp",lane="L1"\\}');
    r.start();
    try {
      clock.advance(1000);
      expect(await reachable()).toBe("1");
      // The server goes away: ffmpeg exits, the probe (a real TCP connect) is refused.
      await new Promise((res) => server.close(res));
      servers.splice(servers.indexOf(server), 1);
      running!.exit(0);
      await waitFor(async () => (await reachable()) === "0", "host seen unreachable", 10_000);
      expect(fake.procs).toHaveLength(1);
      await listen(port);
      clock.advance(PROBE_INTERVAL_MS);
      await waitFor(async () => (await reachable()) === "1", "host seen reachable again", 10_000);
      expect(fake.procs).toHaveLength(2);
    } finally {
      const stopping = r.stop();
      clock.advance(2000);
      await stopping;
    }
  });
});

describe("the MQTT stats snapshot", () => {
  it("carries each camera's frame path state and the spool's write, fsync errors and degraded flag", () => {
    const cams = [
      { id: "c1", lane: "L1", state: "online", fpsIn: 10, framesIn: 100, framesDropped: 0, reconnectsLastHour: 0, stallsLastHour: 0, framePathFailing: true, url: "rtsp://x" },
      { id: "c2", lane: "L1", state: "online", fpsIn: 10, framesIn: 100, framesDropped: 0, reconnectsLastHour: 0, stallsLastHour: 0, url: "rtsp://y" },
    ];
    const spool = { pending: 1, dropped: 0, forwarded: 9, alreadyForwarded: 0, skippedIds: 0, problems: [], writeErrors: 4, fsyncErrors: 2, degraded: true };
    const observed = {
      lanes: new Map(),
      cameras: { info: () => cams },
      pool: { stats: () => ({ workers: 1, busy: 0, restarts: 0, cameras: {} }) },
      trust: { status: () => ({ stale: false }), stats: () => ({ revocationDeltasApplied: 0, revocationDeltasRefused: 0, cacheCopiesRefused: 0 }) },
      clock: new FakeClock(),
      outputs: () => ({ spool: { stats: () => spool } }),
    } as unknown as Observed;
    const snap = statsSnapshot(observed);
    expect(snap.cameras.map((c) => c.framePathFailing)).toEqual([true, undefined]);
    expect(snap.cameras[1]).not.toHaveProperty("framePathFailing");
    expect(snap.events).toEqual(spool);
  });

  it("carries a camera's lost picture and an untrusted clock, and leaves both out while all is well", () => {
    const cams = [
      { id: "c1", lane: "L1", state: "online", fpsIn: 10, framesDropped: 0, reconnectsLastHour: 0, stallsLastHour: 0, pictureProblem: "BLANK", url: "rtsp://x" },
      { id: "c2", lane: "L1", state: "online", fpsIn: 10, framesDropped: 0, reconnectsLastHour: 0, stallsLastHour: 0, url: "rtsp://y" },
    ];
    let status: Record<string, unknown> = { stale: false, clockUntrusted: { basis: "server-date", offsetMs: 9_000_000 } };
    const observed = {
      lanes: new Map(),
      cameras: { info: () => cams },
      pool: { stats: () => ({ workers: 1, busy: 0, restarts: 0, cameras: {} }) },
      trust: { status: () => status, stats: () => ({ revocationDeltasApplied: 0, revocationDeltasRefused: 0, cacheCopiesRefused: 0 }) },
      clock: new FakeClock(),
      outputs: () => ({}),
    } as unknown as Observed;
    const snap = statsSnapshot(observed);
    expect(snap.cameras.map((c) => c.pictureProblem)).toEqual(["BLANK", undefined]);
    expect(snap.cameras[1]).not.toHaveProperty("pictureProblem");
    expect(snap.trust).toMatchObject({ stale: false, clockUntrusted: true });
    status = { stale: false };
    expect(statsSnapshot(observed).trust).not.toHaveProperty("clockUntrusted");
  });
});
