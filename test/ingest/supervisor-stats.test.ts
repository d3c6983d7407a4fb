/**
 * The ingest diagnostics that used to reach only the log, read through stats() (and from there
 * /metrics): processes given up after SIGKILL, and whether the camera's host answers. On a
 * FakeClock with scripted ffmpegs and an injected probe.
 */
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { CameraSupervisor, PairedCamera, frameLayout } from "../../src/ingest/index.js";
import { PROBE_INTERVAL_MS } from "../../src/ingest/supervisor.js";
import { collectingLogger, fakeSpawner, type FakeFfmpeg } from "./fake-ffmpeg.js";
import { testCamera } from "./helpers.js";

function setup(over: Parameters<typeof testCamera>[0] = {}, onSpawn?: (p: FakeFfmpeg, i: number) => void) {
  const cam = testCamera(over);
  const clock = new FakeClock();
  const fake = fakeSpawner(clock, frameLayout(cam.width, cam.height, cam.pixelFormat), onSpawn);
  const log = collectingLogger();
  const host = { up: true };
  const sup = new CameraSupervisor(cam, { clock, spawner: fake.spawner, logger: log.logger, onFrame: () => {}, random: () => 0.5, probe: () => host.up });
  return { clock, fake, log, sup, host };
}

describe("CameraSupervisor stats: abandoned processes", () => {
  it("counts each process given up after SIGKILL, once, and not the ones that exit", () => {
    // Every process delivers, then stalls; the first two ignore every signal, the third dies on SIGTERM.
    const t = setup({}, (p, i) => {
      p.ignoreAllSignals = i < 2;
      p.startFrames(100);
      t.clock.setTimeout(() => p.stopFrames(), 500);
    });
    t.sup.start();
    expect(t.sup.stats().ffmpegAbandoned).toBe(0);
    // 500 ms of frames, the 1 s stall timeout, then SIGTERM, SIGKILL after 500 ms, given up 500 ms later.
    t.clock.advance(500 + 1000 + 500 + 500 + 10);
    expect(t.log.lines().filter((l) => l.event === "ffmpeg_unkillable")).toHaveLength(1);
    expect(t.sup.stats().ffmpegAbandoned).toBe(1);
    // The late exit of the abandoned process changes nothing.
    t.fake.procs[0]!.exit(null, "SIGKILL");
    expect(t.sup.stats().ffmpegAbandoned).toBe(1);
    t.clock.advance(20_000);
    expect(t.fake.procs.length).toBeGreaterThanOrEqual(3);
    expect(t.log.lines().filter((l) => l.event === "ffmpeg_unkillable")).toHaveLength(2);
    expect(t.sup.stats().ffmpegAbandoned).toBe(2);
  });
});

describe("CameraSupervisor stats: host reachability", () => {
  it("is false from the probe that finds the host gone until one finds it back", () => {
    const t = setup({}, (p) => {
      if (t.host.up) p.startFrames(100);
      else t.clock.setTimeout(() => p.exit(1), 50);
    });
    t.sup.start();
    t.clock.advance(1000);
    expect(t.sup.stats().hostReachable).toBe(true);
    t.host.up = false;
    t.fake.last().exit(0);
    expect(t.sup.stats().hostReachable).toBe(false);
    t.clock.advance(10 * PROBE_INTERVAL_MS);
    expect(t.sup.stats().hostReachable).toBe(false);
    expect(t.sup.state).toBe("backoff");
    t.host.up = true;
    t.clock.advance(PROBE_INTERVAL_MS);
    expect(t.sup.stats().hostReachable).toBe(true);
    t.clock.advance(1000);
    expect(t.sup.state).toBe("online");
  });

  it("an exit while the host answers leaves it reachable; stop() during an outage ends it", async () => {
    const t = setup({ backoffInitialMs: 500 }, (p) => t.clock.setTimeout(() => p.exit(1), 50));
    t.sup.start();
    t.clock.advance(60);
    expect(t.sup.state).toBe("backoff");
    expect(t.sup.stats().hostReachable).toBe(true);
    t.host.up = false;
    t.clock.advance(1000);
    expect(t.sup.stats().hostReachable).toBe(false);
    await t.sup.stop();
    expect(t.sup.stats().hostReachable).toBe(true);
  });

  it("is absent for a source without a host to probe", () => {
    const t = setup({ source: "file", file: "/tmp/clip.mp4" }, (p) => p.startFrames(100));
    t.sup.start();
    t.clock.advance(500);
    expect(t.sup.stats()).not.toHaveProperty("hostReachable");
  });
});

describe("PairedCamera stats", () => {
  function paired() {
    const cam = testCamera({ url: "rtsp://10.0.0.9:554/main", subStream: { url: "rtsp://10.0.0.8:554/sub", width: 16, height: 16, fps: 10 }, warmHoldMs: 60_000 });
    const clock = new FakeClock();
    const isSub = (p: FakeFfmpeg) => p.args.includes("rtsp://10.0.0.8:554/sub");
    const up = new Map([["10.0.0.9", true], ["10.0.0.8", true]]);
    const fake = fakeSpawner(clock, frameLayout(16, 16, "yuv420p"), (p) => {
      const host = isSub(p) ? "10.0.0.8" : "10.0.0.9";
      if (!up.get(host)) clock.setTimeout(() => p.exit(1), 50);
      else p.startFrames(100);
    });
    const cam2 = new PairedCamera(cam, { clock, spawner: fake.spawner, logger: collectingLogger().logger, onFrame: () => {}, isActivity: () => false, random: () => 0.5, probe: (t) => up.get(t.host) ?? false });
    return { clock, fake, up, cam: cam2, isSub };
  }

  it("is unreachable while either stream's host is gone", () => {
    const t = paired();
    t.cam.start();
    t.clock.advance(1000);
    expect(t.cam.stats().hostReachable).toBe(true);
    t.up.set("10.0.0.8", false);
    t.fake.procs.filter(t.isSub).at(-1)!.exit(0);
    expect(t.cam.sub.stats().hostReachable).toBe(false);
    expect(t.cam.main.stats().hostReachable).toBe(true);
    expect(t.cam.stats().hostReachable).toBe(false);
    t.up.set("10.0.0.8", true);
    t.clock.advance(PROBE_INTERVAL_MS);
    expect(t.cam.stats().hostReachable).toBe(true);
  });

  it("counts both streams' abandoned processes", () => {
    const t = paired();
    t.cam.start();
    t.clock.advance(1000);
    for (const p of t.fake.procs) {
      p.ignoreAllSignals = true;
      p.stopFrames();
    }
    // Both stall (1 s), SIGTERM, SIGKILL after 500 ms, given up 500 ms later.
    t.clock.advance(1000 + 500 + 500 + 10);
    expect(t.cam.main.stats().ffmpegAbandoned).toBe(1);
    expect(t.cam.sub.stats().ffmpegAbandoned).toBe(1);
    expect(t.cam.stats().ffmpegAbandoned).toBe(2);
  });
});
