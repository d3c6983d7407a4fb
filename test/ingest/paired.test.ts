/**
 * The main-stream policy of a camera with a substream, on a FakeClock with scripted ffmpegs: the
 * hold is tested in simulated minutes, not real ones. The real thing (two RTSP servers, real
 * ffmpeg) is test/ingest/paired.integration.test.ts.
 */
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import type { LumaFrame } from "../../src/core/types.js";
import { CAMERA_UP_STATES, PairedCamera, frameLayout, type CameraState } from "../../src/ingest/index.js";
import { collectingLogger, fakeSpawner, type FakeFfmpeg } from "./fake-ffmpeg.js";
import { testCamera } from "./helpers.js";

const HOLD = 60_000;

function setup() {
  const cam = testCamera({ url: "rtsp://admin:s3cretpw@10.0.0.9:554/main", width: 32, height: 32, subStream: { url: "rtsp://10.0.0.9:554/sub", width: 16, height: 16, fps: 10 }, warmHoldMs: HOLD });
  const clock = new FakeClock();
  // Both streams start delivering frames at once; which one a process is shows in its input.
  const isSub = (p: FakeFfmpeg) => p.args.includes("rtsp://10.0.0.9:554/sub");
  const ctl = { mainBroken: false, subBroken: false };
  // Main-stream processes deliver 32x32 frames by themselves (or exit at once when broken);
  // substream processes (16x16) are fed by subFrames() below.
  const fake = fakeSpawner(clock, frameLayout(32, 32, "yplane"), (p) => {
    if (isSub(p)) {
      if (ctl.subBroken) clock.setTimeout(() => p.exit(0), 10);
      return;
    }
    if (ctl.mainBroken) clock.setTimeout(() => p.exit(1), 10);
    else p.startFrames(100, 50);
  });
  const log = collectingLogger();
  const main: LumaFrame[] = [];
  const states: CameraState[] = [];
  let activityNext = false;
  const paired = new PairedCamera(cam, {
    clock,
    spawner: fake.spawner,
    logger: log.logger,
    onFrame: (f) => main.push(f),
    isActivity: () => {
      const a = activityNext;
      activityNext = false;
      return a;
    },
    random: () => 0.5,
    probe: () => true,
  });
  paired.on("state", (s: CameraState) => states.push(s));
  const subProcs = () => fake.procs.filter(isSub);
  const mainProcs = () => fake.procs.filter((p) => !isSub(p));
  const live = (ps: FakeFfmpeg[]) => ps.filter((p) => !p.exited);
  /** Substream frames (16x16 = 256 bytes) every 100 ms for `ms`; `active` marks the first as activity. */
  const subFrames = (ms: number, active = false) => {
    activityNext = active;
    for (let t = 0; t < ms; t += 100) {
      for (const p of live(subProcs())) p.write(new Uint8Array(256).fill(20));
      clock.advance(100);
    }
  };
  return { ctl, cam, clock, fake, log, main, states, paired, subProcs, mainProcs, live, subFrames };
}

describe("PairedCamera (mainStream: on-activity)", () => {
  it("a substream sending more than its fps (25 against 10) goes online and shows the mismatch", () => {
    const t = setup();
    t.paired.start();
    for (let ms = 0; ms < 2000; ms += 40) {
      for (const p of t.live(t.subProcs())) p.write(new Uint8Array(256).fill(20));
      t.clock.advance(40);
    }
    expect(t.paired.stats().subStream).toMatchObject({ state: "online", fpsAboveConfig: 25 });
    expect(t.paired.stats().fpsAboveConfig).toBeUndefined();
  });

  it("runs the main stream warm at start, stops it after warmHoldMs without activity, and restarts it on activity", () => {
    const t = setup();
    t.paired.start();
    expect(t.live(t.subProcs())).toHaveLength(1);
    expect(t.live(t.mainProcs())).toHaveLength(1);
    t.subFrames(1000);
    expect(t.paired.state).toBe("online");
    const atOnline = t.main.length;
    expect(atOnline).toBeGreaterThan(0);

    // Quiet for the hold: the main stream stops, the substream keeps watching.
    t.subFrames(HOLD + 1000);
    expect(t.live(t.mainProcs())).toHaveLength(0);
    expect(t.live(t.subProcs())).toHaveLength(1);
    expect(t.paired.state).toBe("standby");
    expect(t.paired.stats()).toMatchObject({ state: "standby", mainActive: false, warmStarts: 0, subStream: { state: "online" } });

    // Quiet stays quiet: no main stream for minutes.
    const spawnsBefore = t.mainProcs().length;
    t.subFrames(5 * HOLD);
    expect(t.mainProcs()).toHaveLength(spawnsBefore);
    expect(t.paired.state).toBe("standby");

    // Activity: the main stream starts (warming: not up), then delivers (online).
    t.subFrames(100, true);
    expect(t.live(t.mainProcs())).toHaveLength(1);
    expect(t.paired.state).toBe("warming");
    t.subFrames(1000);
    expect(t.paired.state).toBe("online");
    expect(t.paired.stats().warmStarts).toBe(1);
    expect(t.main.length).toBeGreaterThan(atOnline);
    // At start the substream may be online before the main stream: that is warming too.
    expect(t.states.filter((s) => s !== "warming")).toEqual(["starting", "online", "standby", "online"]);
  });

  it("keeps the main stream up while activity goes on, counting the hold from the last activity", () => {
    const t = setup();
    t.paired.start();
    for (let i = 0; i < 4; i++) {
      t.subFrames(HOLD / 2);
      t.subFrames(100, true);
    }
    expect(t.mainProcs()).toHaveLength(1);
    expect(t.paired.state).toBe("online");
    t.subFrames(HOLD - 1000);
    expect(t.paired.state).toBe("online");
    t.subFrames(2000);
    expect(t.paired.state).toBe("standby");
  });

  it("runs the main stream while the substream cannot see, and stops it once the substream is back and quiet", () => {
    const t = setup();
    t.paired.start();
    t.subFrames(HOLD + 1000);
    expect(t.paired.state).toBe("standby");
    // The substream dies (its server gone: ffmpeg exits 0, and so does every restart): unknown counts as activity.
    t.ctl.subBroken = true;
    t.live(t.subProcs())[0]!.exit(0);
    expect(t.live(t.mainProcs())).toHaveLength(1);
    expect(t.paired.state).not.toBe("standby");
    // Minutes without a substream: the main stream stays, the lane reads.
    t.subFrames(3 * HOLD);
    expect(t.paired.state).toBe("online");
    expect(t.live(t.mainProcs())).toHaveLength(1);
    expect(t.paired.stats().subStream?.state).not.toBe("online");
    expect(t.paired.stats().warmStarts).toBe(0);
    // The substream comes back and sees nothing: the main stream stops one hold later.
    t.ctl.subBroken = false;
    t.subFrames(5000);
    expect(t.paired.stats().subStream?.state).toBe("online");
    expect(t.paired.state).toBe("online");
    t.subFrames(HOLD);
    expect(t.paired.state).toBe("standby");
  });

  it("is not up while the main stream cannot start, whatever the substream sees", () => {
    const t = setup();
    t.paired.start();
    t.subFrames(HOLD + 1000);
    expect(t.paired.state).toBe("standby");
    // From now on every main-stream ffmpeg exits without a frame (wrong path, camera refuses the second session).
    t.ctl.mainBroken = true;
    const from = t.states.length;
    t.subFrames(100, true);
    t.subFrames(20_000);
    const after = t.states.slice(from);
    expect(after[0]).toBe("warming");
    expect(after).toContain("backoff");
    expect(after.some((s) => CAMERA_UP_STATES.has(s))).toBe(false);
    expect(t.mainProcs().length).toBeGreaterThan(3);
    expect(t.paired.stats().subStream?.state).toBe("online");
  });

  it("never calls a main stream that has not delivered standby: it keeps being retried, and is stopped only once it has delivered", () => {
    const t = setup();
    t.ctl.mainBroken = true;
    t.paired.start();
    t.subFrames(3 * HOLD);
    expect(t.states).not.toContain("standby");
    expect(t.states.some((s) => CAMERA_UP_STATES.has(s))).toBe(false);
    expect(t.paired.stats().mainActive).toBe(true);
    // The main stream is repaired: it comes online, and only then does the hold stop it.
    t.ctl.mainBroken = false;
    t.subFrames(10_000);
    expect(t.paired.state).toBe("standby");
    expect(t.states.slice(-2)).toEqual(["online", "standby"]);
  });

  it("stops both streams", async () => {
    const t = setup();
    t.paired.start();
    t.subFrames(500);
    const stopped = t.paired.stop();
    t.clock.advance(100);
    await stopped;
    expect(t.live(t.fake.procs)).toHaveLength(0);
    expect(t.paired.state).toBe("stopped");
  });
});
