import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import type { LumaFrame } from "../../src/core/types.js";
import { CameraSupervisor, frameLayout, type CameraState, type ProbeTarget } from "../../src/ingest/index.js";
import { PROBE_INTERVAL_MS } from "../../src/ingest/supervisor.js";
import { collectingLogger, fakeSpawner, type FakeFfmpeg } from "./fake-ffmpeg.js";
import { testCamera } from "./helpers.js";
import { SYNTHETIC_FILE, syntheticCameras } from "../../src/ingest/testing/synthetic.js";

function setup(over: Parameters<typeof testCamera>[0] = {}, onSpawn?: (p: FakeFfmpeg, i: number) => void) {
  const cam = testCamera(over);
  const clock = new FakeClock();
  const fake = fakeSpawner(clock, frameLayout(cam.width, cam.height, cam.pixelFormat), onSpawn);
  const log = collectingLogger();
  const frames: LumaFrame[] = [];
  const states: CameraState[] = [];
  // The camera's host answers unless a test takes it away (host.up = false: refused, like a server that is gone).
  const host = { up: true, probes: [] as ProbeTarget[] };
  const probe = (t: ProbeTarget) => {
    host.probes.push(t);
    return host.up;
  };
  const sup = new CameraSupervisor(cam, { clock, spawner: fake.spawner, logger: log.logger, onFrame: (f) => frames.push(f), random: () => 0.5, probe });
  sup.on("state", (s: CameraState) => states.push(s));
  return { cam, clock, fake, log, frames, states, sup, host };
}

describe("CameraSupervisor with a scripted fake ffmpeg", () => {
  it("delivers the Y plane of yuv420p frames with stride = width, increasing seq and monotonic receive time", () => {
    const t = setup({ pixelFormat: "yuv420p" }, (p) => p.startFrames(100, 42));
    t.sup.start();
    expect(t.sup.state).toBe("starting");
    t.clock.advance(1000);
    expect(t.sup.state).toBe("online");
    // The first frames of a process are held back until two paced spacings (they may be buffered): 10 read, 8 delivered.
    expect(t.frames).toHaveLength(8);
    const f = t.frames[0]!;
    expect(f).toMatchObject({ cameraId: "cam1", width: 16, height: 16, stride: 16 });
    expect(f.data).toHaveLength(256);
    expect([...f.data].every((v) => v === 42)).toBe(true);
    expect(t.frames.map((x) => x.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(t.frames[1]!.receivedAt - t.frames[0]!.receivedAt).toBe(100);
    const s = t.sup.stats();
    expect(s).toMatchObject({ framesIn: 10, framesDropped: 2, burstDropped: 2, state: "online", generation: 1 });
    expect(s.fpsIn).toBeCloseTo(10, 0);
    expect(s.url).toBe("rtsp://***:***@10.0.0.9:554/stream1");
    expect(t.states).toEqual(["starting", "online"]);
  });

  it("passes low-delay flags to ffmpeg, and the URL with its credentials on stdin, not the command line", () => {
    const t = setup();
    t.sup.start();
    const args = t.fake.last().args;
    expect(args).toEqual(expect.arrayContaining(["-fflags", "nobuffer", "-flags", "low_delay", "-fps_mode", "passthrough"]));
    expect(args.join(" ")).not.toContain("s3cretpw");
    expect(t.fake.last().stdin).toContain("file 'rtsp://admin:s3cretpw@10.0.0.9:554/stream1'");
    expect(t.fake.last().stdin).toContain("option rtsp_transport tcp");
  });

  it("kills a stalled process in steady state, backs off and restarts with a new generation", () => {
    const t = setup({}, (p) => p.startFrames(100));
    t.sup.start();
    t.clock.advance(500);
    const first = t.fake.last();
    first.stopFrames();
    t.clock.advance(999);
    expect(t.sup.state).toBe("online");
    t.clock.advance(2);
    expect(t.sup.state).toBe("stalled");
    expect(first.signals).toEqual(["SIGTERM"]);
    t.clock.advance(5);
    expect(t.sup.state).toBe("backoff");
    expect(t.fake.procs).toHaveLength(1);
    t.clock.advance(500);
    expect(t.fake.procs).toHaveLength(2);
    t.clock.advance(300);
    expect(t.sup.state).toBe("online");
    const s = t.sup.stats();
    expect(s.stallsLastHour).toBe(1);
    expect(s.reconnectsLastHour).toBe(1);
    expect(s.generation).toBe(2);
    expect(t.states).toEqual(["starting", "online", "stalled", "backoff", "starting", "online"]);
  });

  it("gives a longer grace at start-up than in steady state", () => {
    const t = setup({ startupGraceMs: 5000, stallTimeoutMs: 1000 });
    t.sup.start();
    t.clock.advance(4999);
    expect(t.sup.state).toBe("starting");
    expect(t.fake.last().signals).toEqual([]);
    t.clock.advance(1);
    expect(t.sup.state).toBe("stalled");
    expect(t.fake.last().signals).toEqual(["SIGTERM"]);
    expect(t.log.lines().some((l) => l.event === "camera_stalled" && l.phase === "startup")).toBe(true);
  });

  it("treats exit code 0 as a failure and logs the masked stderr tail", () => {
    const t = setup({}, (p) => p.startFrames(100));
    t.sup.start();
    t.clock.advance(500);
    t.fake.last().print("[rtsp @ 0x1] method DESCRIBE failed for rtsp://admin:s3cretpw@10.0.0.9:554/stream1");
    t.fake.last().exit(0);
    expect(t.sup.state).toBe("backoff");
    const exitLine = t.log.lines().find((l) => l.event === "ffmpeg_exit")!;
    expect(exitLine).toMatchObject({ code: 0, level: "error" });
    expect(JSON.stringify(exitLine.stderr)).toContain("rtsp://***:***@10.0.0.9");
    expect(t.log.text()).not.toContain("s3cretpw");
    t.clock.advance(500);
    expect(t.fake.procs).toHaveLength(2);
  });

  it("sends SIGKILL when ffmpeg ignores SIGTERM", () => {
    const t = setup({}, (p) => {
      p.ignoreSigterm = true;
      p.startFrames(100);
    });
    t.sup.start();
    t.clock.advance(500);
    t.fake.last().stopFrames();
    t.clock.advance(1000);
    expect(t.fake.last().signals).toEqual(["SIGTERM"]);
    t.clock.advance(499);
    expect(t.fake.last().signals).toEqual(["SIGTERM"]);
    t.clock.advance(1);
    expect(t.fake.last().signals).toEqual(["SIGTERM", "SIGKILL"]);
    t.clock.advance(5);
    expect(t.sup.state).toBe("backoff");
    expect(t.log.lines().some((l) => l.event === "ffmpeg_sigkill")).toBe(true);
  });

  it("a late first frame while killing a start-up stall does not cancel the SIGKILL", () => {
    const t = setup({ startupGraceMs: 5000 }, (p) => (p.ignoreSigterm = true));
    t.sup.start();
    t.clock.advance(5000);
    expect(t.sup.state).toBe("stalled");
    const p = t.fake.last();
    t.clock.advance(100);
    p.frame();
    t.clock.advance(100);
    p.frame();
    t.clock.advance(300);
    expect(p.signals).toEqual(["SIGTERM", "SIGKILL"]);
    t.clock.advance(5);
    expect(t.sup.state).toBe("backoff");
    expect(t.frames).toHaveLength(0);
  });

  it("abandons a process that never reports its exit, and ignores its late events", () => {
    const t = setup({}, (p, i) => {
      if (i === 0) p.ignoreAllSignals = true;
      p.startFrames(100, i === 0 ? 1 : 2);
    });
    t.sup.start();
    t.clock.advance(500);
    const old = t.fake.procs[0]!;
    old.stopFrames();
    t.clock.advance(1000 + 500 + 500);
    expect(t.log.lines().some((l) => l.event === "ffmpeg_unkillable")).toBe(true);
    expect(t.sup.state).toBe("backoff");
    t.clock.advance(500);
    expect(t.fake.procs).toHaveLength(2);
    t.clock.advance(300);
    const before = t.frames.length;
    const oldDelivered = t.frames.filter((f) => f.data[0] === 1).length;
    const stateBefore = t.sup.state;
    old.frame(1);
    old.frame(1);
    old.exit(1);
    expect(t.frames.length).toBe(before);
    expect(t.frames.filter((f) => f.data[0] === 1)).toHaveLength(oldDelivered);
    expect(t.sup.state).toBe(stateBefore);
    expect(t.sup.state).toBe("online");
  });

  it("backs off exponentially with jitter, capped, and resets after the first good frame", () => {
    const delays: number[] = [];
    let lastExit = 0;
    const t = setup({ backoffInitialMs: 500, backoffMaxMs: 4000, restartBudget: 100 }, (p, i) => {
      if (lastExit) delays.push(t.clock.monotonic() - lastExit);
      if (i < 6) {
        t.clock.setTimeout(() => {
          lastExit = t.clock.monotonic();
          p.exit(1);
        }, 10);
      } else p.startFrames(100);
    });
    t.sup.start();
    t.clock.advance(30_000);
    expect(delays.slice(0, 6)).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    expect(t.sup.state).toBe("online");
    // After good frames the next failure starts again from the initial delay.
    lastExit = t.clock.monotonic();
    t.fake.last().exit(0);
    t.clock.advance(499);
    expect(t.fake.procs).toHaveLength(7);
    t.clock.advance(1);
    expect(t.fake.procs).toHaveLength(8);
  });

  it("applies jitter within the configured fraction", () => {
    const cam = testCamera();
    for (const r of [0, 0.999]) {
      const clock = new FakeClock();
      const fake = fakeSpawner(clock, frameLayout(cam.width, cam.height, cam.pixelFormat), (p) => clock.setTimeout(() => p.exit(1), 0));
      const sup = new CameraSupervisor(cam, { clock, spawner: fake.spawner, logger: collectingLogger().logger, onFrame: () => {}, random: () => r, probe: () => true });
      sup.start();
      clock.advance(0);
      clock.advance(r === 0 ? 399 : 599);
      expect(fake.procs).toHaveLength(1);
      clock.advance(1);
      expect(fake.procs).toHaveLength(2);
    }
  });

  it("marks a crash-looping camera failed loudly after the restart budget, keeps retrying slowly, and recovers", () => {
    let healthy = false;
    // A crash: ffmpeg killed by a signal nobody sent (segfault), while the camera's host answers.
    const t = setup({ restartBudget: 3, restartWindowMs: 60_000, failedRetryMs: 20_000 }, (p) => {
      if (healthy) p.startFrames(100);
      else t.clock.setTimeout(() => p.exit(null, "SIGSEGV"), 10);
    });
    t.sup.start();
    t.clock.advance(10_000);
    expect(t.sup.state).toBe("failed");
    const failedLines = t.log.lines().filter((l) => l.code === "GW_CAMERA_FAILED");
    expect(failedLines).toHaveLength(1);
    expect(failedLines[0]!.level).toBe("error");
    const n = t.fake.procs.length;
    expect(n).toBe(4);
    // Failed at 3.54 s: the next try comes failedRetryMs later, at 23.54 s.
    t.clock.advance(13_000);
    expect(t.fake.procs.length).toBe(n);
    t.clock.advance(1_000);
    expect(t.fake.procs.length).toBe(n + 1);
    expect(t.sup.state).toBe("failed");
    healthy = true;
    t.clock.advance(21_000);
    expect(t.sup.state).toBe("online");
    expect(t.log.lines().filter((l) => l.code === "GW_CAMERA_FAILED")).toHaveLength(1);
    expect(t.log.lines().some((l) => l.event === "camera_recovered")).toBe(true);
  });

  it("does not busy-loop against an unreachable camera: no ffmpeg while its host refuses, only cheap probes", () => {
    const t = setup({ restartBudget: 5, failedRetryMs: 20_000 }, (p) => t.clock.setTimeout(() => p.exit(1), 50));
    t.host.up = false;
    t.sup.start();
    t.clock.advance(10 * 60_000);
    expect(t.fake.procs).toHaveLength(1);
    // One probe per interval, against the RTSP host and port of the URL.
    expect(t.host.probes.length).toBeGreaterThan((10 * 60_000) / PROBE_INTERVAL_MS - 5);
    expect(t.host.probes.length).toBeLessThanOrEqual((10 * 60_000) / PROBE_INTERVAL_MS + 1);
    expect(t.host.probes[0]).toEqual({ host: "10.0.0.9", port: 554 });
    expect(t.clock.pendingCount).toBeLessThanOrEqual(1);
    expect(t.sup.state).toBe("backoff");
    expect(t.log.lines().filter((l) => l.event === "camera_unreachable")).toHaveLength(1);
    expect(t.log.lines().some((l) => l.code === "GW_CAMERA_FAILED")).toBe(false);
  });

  it("repeated short outages are not a crash loop: 30 outages under the default budget, each back within one probe interval", () => {
    // Default budget (10 per 5 min), outages every ~6 s: the 4th outage used to trip it (finding 9).
    const t = setup({ restartBudget: 10, restartWindowMs: 300_000, failedRetryMs: 15_000, backoffInitialMs: 500, backoffMaxMs: 3000 }, (p) => {
      if (t.host.up) p.startFrames(100);
      else t.clock.setTimeout(() => p.exit(1), 300);
    });
    t.sup.start();
    t.clock.advance(3000);
    const recoveries: number[] = [];
    for (let i = 0; i < 30; i++) {
      // The server goes away: ffmpeg exits 0 and the port refuses.
      t.host.up = false;
      t.fake.last().exit(0);
      t.clock.advance(2000 + (i % 3) * 500);
      t.host.up = true;
      const back = t.clock.monotonic();
      const before = t.frames.length;
      while (t.frames.length === before && t.clock.monotonic() - back < 30_000) t.clock.advance(10);
      recoveries.push(t.clock.monotonic() - back);
      t.clock.advance(3000);
    }
    expect(t.log.lines().some((l) => l.code === "GW_CAMERA_FAILED")).toBe(false);
    expect(t.states).not.toContain("failed");
    // Probe interval + the fake's 3 frames (2 held by the burst guard, 100 ms apart).
    expect(Math.max(...recoveries)).toBeLessThanOrEqual(PROBE_INTERVAL_MS + 300);
    expect(t.sup.stats().restartsInWindow).toBe(0);
    // No ffmpeg was started while the host refused: one process per outage plus the first.
    expect(t.fake.procs).toHaveLength(31);
  });

  it("exits after frames flowed while the host answers spend the budget", () => {
    const t = setup({ restartBudget: 3, restartWindowMs: 600_000, failedRetryMs: 20_000 }, (p) => {
      p.startFrames(100);
      t.clock.setTimeout(() => p.exit(0), 600);
    });
    t.sup.start();
    t.clock.advance(20_000);
    expect(t.log.lines().filter((l) => l.code === "GW_CAMERA_FAILED")).toHaveLength(1);
    expect(t.sup.stats().ingestError).toBe("GW_CAMERA_FAILED");
  });

  it("exits without frames while the host answers (e.g. 401, not ready) back off but do not mark the camera failed", () => {
    const t = setup({ restartBudget: 3, backoffMaxMs: 1000 }, (p) => t.clock.setTimeout(() => p.exit(1), 50));
    t.sup.start();
    t.clock.advance(60_000);
    expect(t.fake.procs.length).toBeGreaterThan(30);
    expect(t.sup.state).not.toBe("failed");
    expect(t.log.lines().some((l) => l.code === "GW_CAMERA_FAILED")).toBe(false);
    expect(t.sup.stats().restartsInWindow).toBe(0);
  });

  it("fpsIn is the new process's rate right after a recovery (no 5 s under-report)", () => {
    const t = setup({ stallTimeoutMs: 3000 }, (p) => (t.host.up ? p.startFrames(100) : undefined));
    t.sup.start();
    t.clock.advance(6000);
    expect(t.sup.stats().fpsIn).toBeCloseTo(10, 0);
    t.host.up = false;
    t.fake.last().exit(0);
    t.clock.advance(3000);
    expect(t.sup.stats().fpsIn).toBe(0);
    t.host.up = true;
    t.clock.advance(PROBE_INTERVAL_MS + 1000);
    expect(t.sup.state).toBe("online");
    // Old behaviour: frames of the last 5 s / 5 s = ~2 fps here.
    expect(t.sup.stats().fpsIn).toBeGreaterThan(9);
    expect(t.sup.stats().fpsIn).toBeLessThan(11);
  });

  it("fpsIn decays when frames stop", () => {
    const t = setup({ stallTimeoutMs: 5000 }, (p) => p.startFrames(100));
    t.sup.start();
    t.clock.advance(3000);
    t.fake.last().stopFrames();
    t.clock.advance(2000);
    // 30 frames over the 4.8 s since the first: the 2 s of silence count.
    expect(t.sup.stats().fpsIn).toBeLessThan(6.5);
    t.clock.advance(1000);
    expect(t.sup.stats().fpsIn).toBeLessThan(5.2);
    t.clock.advance(2100);
    expect(t.sup.stats().fpsIn).toBe(0);
  });

  it("a camera sending 25 fps at the default fps 15 goes online, and the mismatch is logged once and shown", () => {
    const t = setup({ fps: 15 }, (p) => p.startFrames(40));
    t.sup.start();
    t.clock.advance(1000);
    expect(t.sup.state).toBe("online");
    expect(t.frames.length).toBeGreaterThanOrEqual(20);
    expect(t.sup.stats().fpsAboveConfig).toBeCloseTo(25, 0);
    const warn = t.log.lines().filter((l) => l.event === "camera_fps_above_config");
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({ fps: 15, observedFps: 25 });
    // A restart settles again: still one log line.
    t.fake.last().exit(1);
    t.clock.advance(3000);
    expect(t.sup.state).toBe("online");
    expect(t.fake.procs).toHaveLength(2);
    expect(t.log.lines().filter((l) => l.event === "camera_fps_above_config")).toHaveLength(1);
  });

  it("a camera at its configured fps shows no mismatch", () => {
    const t = setup({ fps: 10 }, (p) => p.startFrames(100));
    t.sup.start();
    t.clock.advance(1000);
    expect(t.sup.state).toBe("online");
    expect(t.sup.stats().fpsAboveConfig).toBeUndefined();
    expect(t.log.lines().some((l) => l.event === "camera_fps_above_config")).toBe(false);
  });

  it("drops frames that arrive in a burst after a gap and counts them", () => {
    const t = setup({ stallTimeoutMs: 3000 }, (p) => p.startFrames(100));
    t.sup.start();
    t.clock.advance(1000);
    const p = t.fake.last();
    p.stopFrames();
    t.clock.advance(1500);
    const before = t.frames.length;
    for (let i = 0; i < 15; i++) p.frame(99);
    expect(t.frames.length).toBe(before);
    p.startFrames(100, 5);
    t.clock.advance(1000);
    expect(t.frames.length).toBe(before + 9);
    expect(t.frames.slice(before).every((f) => f.data[0] === 5)).toBe(true);
    // 2 at start, the 15 of the burst, and the first paced frame after it.
    expect(t.sup.stats().burstDropped).toBe(2 + 15 + 1);
    expect(t.sup.state).toBe("online");
  });

  it("counts corrupt-frame warnings and keeps other noise out of the count", () => {
    const t = setup({}, (p) => p.startFrames(100));
    t.sup.start();
    t.clock.advance(300);
    const p = t.fake.last();
    p.print("[h264 @ 0x55] error while decoding MB 10 20, bytestream -5");
    p.print("[h264 @ 0x55] concealing 200 DC, 200 AC, 200 MV errors in P frame");
    p.print("[rtsp @ 0x55] RTP: missed 3 packets");
    p.print("frame=  100 fps= 15 q=-0.0 size=N/A");
    p.print("x".repeat(10_000));
    p.stderr.emit("data", new TextEncoder().encode("[h264 @ 0x1] corrupt"));
    p.stderr.emit("data", new TextEncoder().encode("ed frame\n"));
    expect(t.sup.stats().corruptWarnings).toBe(4);
    expect(t.sup.state).toBe("online");
  });

  it("stop(): SIGTERM, resolves after exit, no restart afterwards", async () => {
    const t = setup({}, (p) => p.startFrames(100));
    t.sup.start();
    t.clock.advance(500);
    const p = t.fake.last();
    const done = t.sup.stop();
    expect(t.sup.state).toBe("stopped");
    t.clock.advance(5);
    await done;
    expect(p.signals).toEqual(["SIGTERM"]);
    t.clock.advance(60_000);
    expect(t.fake.procs).toHaveLength(1);
    expect(t.sup.state).toBe("stopped");
    expect(t.clock.pendingCount).toBe(0);
  });

  it("stop() during backoff cancels the restart; start() again works", async () => {
    const t = setup({}, (p, i) => (i === 0 ? t.clock.setTimeout(() => p.exit(0), 10) : p.startFrames(100)));
    t.sup.start();
    t.clock.advance(20);
    expect(t.sup.state).toBe("backoff");
    await t.sup.stop();
    t.clock.advance(10_000);
    expect(t.fake.procs).toHaveLength(1);
    t.sup.start();
    t.clock.advance(500);
    expect(t.sup.state).toBe("online");
  });

  it("start() during a stop waits for the old process to exit before spawning a new one", async () => {
    const t = setup({}, (p) => {
      p.ignoreSigterm = true;
      p.startFrames(100, 1);
    });
    t.sup.start();
    t.clock.advance(500);
    const old = t.fake.last();
    const done = t.sup.stop();
    t.sup.start();
    expect(t.sup.state).toBe("starting");
    expect(t.fake.procs).toHaveLength(1);
    t.clock.advance(499);
    expect(t.fake.procs).toHaveLength(1);
    t.clock.advance(6);
    await done;
    expect(old.signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(t.fake.procs).toHaveLength(2);
    t.clock.advance(500);
    expect(t.sup.state).toBe("online");
    expect(t.log.lines().some((l) => l.event === "ffmpeg_exit")).toBe(false);
  });

  it("stop() escalates to SIGKILL when SIGTERM is ignored", async () => {
    const t = setup({}, (p) => {
      p.ignoreSigterm = true;
      p.startFrames(100);
    });
    t.sup.start();
    t.clock.advance(300);
    const done = t.sup.stop();
    t.clock.advance(505);
    await done;
    expect(t.fake.last().signals).toEqual(["SIGTERM", "SIGKILL"]);
  });

  it("a camera answering 401 Unauthorized: GW_CAMERA_AUTH, logged once, retried every failedRetryMs, budget untouched; a good frame clears it", () => {
    let refuse = true;
    const t = setup({ failedRetryMs: 20_000, backoffMaxMs: 3000 }, (p) => {
      if (!refuse) return p.startFrames(100);
      t.clock.setTimeout(() => {
        p.print("[rtsp @ 0x55d0a1aa8300] method DESCRIBE failed: 401 Unauthorized");
        p.print("pipe:0: Server returned 401 Unauthorized (authorization failed)");
        p.exit(1);
      }, 100);
    });
    t.sup.start();
    t.clock.advance(100);
    expect(t.sup.stats()).toMatchObject({ state: "backoff", ingestError: "GW_CAMERA_AUTH", restartsInWindow: 0 });
    // Not the short backoff (500 ms, then up to 3 s): the next try comes after failedRetryMs.
    t.clock.advance(19_999);
    expect(t.fake.procs).toHaveLength(1);
    t.clock.advance(1);
    expect(t.fake.procs).toHaveLength(2);
    t.clock.advance(100);
    expect(t.sup.stats()).toMatchObject({ state: "backoff", ingestError: "GW_CAMERA_AUTH", restartsInWindow: 0 });
    expect(t.log.lines().filter((l) => l.code === "GW_CAMERA_AUTH")).toHaveLength(1);
    expect(t.host.probes).toHaveLength(0);
    // The password is fixed on the camera: frames flow and the reason is gone.
    refuse = false;
    t.clock.advance(20_000 + 1000);
    expect(t.sup.state).toBe("online");
    expect(t.sup.stats().ingestError).toBeUndefined();
  });

  it("survives a spawner that throws (ffmpeg missing) and an 'error' event", () => {
    let n = 0;
    const cam = testCamera();
    const clock = new FakeClock();
    const log = collectingLogger();
    const sup = new CameraSupervisor(cam, {
      clock,
      logger: log.logger,
      onFrame: () => {},
      random: () => 0.5,
      spawner: () => {
        n++;
        throw Object.assign(new Error("spawn ffmpeg ENOENT"), { code: "ENOENT" });
      },
    });
    sup.start();
    expect(sup.state).toBe("backoff");
    expect(sup.stats().ingestError).toBe("GW_CAMERA_SPAWN");
    clock.advance(500);
    expect(n).toBe(2);
    expect(log.lines().some((l) => l.event === "ffmpeg_exit" && String(l.error).includes("ENOENT"))).toBe(true);
  });

  it("keeps running when the frame consumer throws", () => {
    const cam = testCamera();
    const clock = new FakeClock();
    const fake = fakeSpawner(clock, frameLayout(cam.width, cam.height, cam.pixelFormat), (p) => p.startFrames(100));
    const log = collectingLogger();
    let calls = 0;
    const sup = new CameraSupervisor(cam, { clock, spawner: fake.spawner, logger: log.logger, onFrame: () => { calls++; throw new Error("boom"); } });
    sup.start();
    clock.advance(1000);
    expect(calls).toBe(8);
    expect(sup.state).toBe("online");
    expect(log.lines().filter((l) => l.event === "on_frame_threw")).toHaveLength(1);
    expect(sup.stats().consumerErrors).toBe(8);
  });

  it("slices frames split across arbitrary chunk boundaries exactly (gray)", () => {
    const t = setup({ pixelFormat: "gray" });
    t.sup.start();
    const p = t.fake.last();
    const bytes = new Uint8Array(256 * 5).map((_, i) => Math.floor(i / 256) + 1);
    const cuts = [3, 255, 256, 700, 1279, 1280];
    let from = 0;
    for (const c of cuts) {
      t.clock.advance(100);
      p.write(bytes.subarray(from, c));
      from = c;
    }
    expect(t.sup.stats().framesIn).toBe(5);
    expect(t.frames.map((f) => f.data[0])).toEqual(t.frames.map((f) => f.data[255]));
    expect(t.frames.map((f) => f.data[0])).toEqual([3, 4, 5]);
  });
});

describe("the generated-frame test source (src/ingest/testing)", () => {
  it("delivers paced frames through the same supervisor path, and only to the cameras marked for it", async () => {
    const cam = testCamera({ source: "file", file: SYNTHETIC_FILE, url: undefined, fps: 5 });
    const clock = new FakeClock();
    expect(syntheticCameras(clock)(testCamera({ source: "file", file: "/clips/lane.ts", url: undefined }))).toBeUndefined();
    const frames: LumaFrame[] = [];
    const sup = new CameraSupervisor(cam, { clock, logger: collectingLogger().logger, onFrame: (f) => frames.push(f), spawner: syntheticCameras(clock)(cam)! });
    sup.start();
    clock.advance(2000);
    expect(frames).toHaveLength(8);
    expect(frames[0]!.data).toHaveLength(256);
    expect(sup.stats().url).toBe(`file:${SYNTHETIC_FILE}`);
    const done = sup.stop();
    clock.advance(1);
    await done;
    expect(sup.state).toBe("stopped");
  });
});
