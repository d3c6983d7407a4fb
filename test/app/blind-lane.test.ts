/**
 * Finding 11 (issue #11): a lane that cannot see says so. Against the real gateway (generated-frame and
 * rtsp cameras, real decode workers): the frame consumer failing, decode workers dying, and ffmpeg
 * that cannot start each take the lane out of service, visible in /readyz, /metrics and the
 * display state, and the lane comes back when the cause goes away. One camera of two failing is
 * partial blindness: the lane stays in service, /readyz and /metrics name the camera.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/core/logger.js";
import type { Gateway } from "../../src/app/gateway.js";
import { SYNTHETIC, startGateway } from "../support/gateway.js";
import { laneHealth, FramePathHealth, PoolHealth, FRAME_PATH_FAILING_MS, POOL_DOWN_MS } from "../../src/app/lane-health.js";
import { readiness } from "../../src/output/http/readiness.js";
import { waitFor } from "../support/wait.js";
import { systemClock } from "../../src/core/clock.js";
import { fakeSpawner } from "../ingest/fake-ffmpeg.js";

const dir = mkdtempSync(join(tmpdir(), "cpgw-blind-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const until = (cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) => waitFor(cond, what, timeoutMs, 100);

const readyz = async (gw: Gateway) => (await (await fetch(`${gw.urls.public}/readyz`)).json()) as { ready: boolean; problems: Array<{ code: string; lane?: string }> };
const metrics = async (gw: Gateway) => (await fetch(`${gw.urls.public}/metrics`)).text();
const display = async (gw: Gateway, lane: string) => (await (await fetch(`${gw.urls.public}/lanes/${lane}/state`)).json()) as { state: string; problems: string[] };

describe("lane health (pure)", () => {
  it("a frame path fails only after 3 failures in a row over 2 s; one success clears it", () => {
    const h = new FramePathHealth();
    h.fail(0);
    h.fail(100);
    expect(h.failing(FRAME_PATH_FAILING_MS + 1)).toBe(false);
    h.fail(200);
    expect(h.failing(1000)).toBe(false);
    expect(h.failing(FRAME_PATH_FAILING_MS)).toBe(true);
    h.ok();
    expect(h.failing(10_000)).toBe(false);
    expect(h.errors).toBe(3);
  });

  it("the pool is down after POOL_DOWN_MS with no ready worker", () => {
    const p = new PoolHealth();
    expect(p.update(0, 0)).toBe(false);
    expect(p.update(0, POOL_DOWN_MS - 1)).toBe(false);
    expect(p.update(0, POOL_DOWN_MS)).toBe(true);
    expect(p.update(1, POOL_DOWN_MS + 1)).toBe(false);
  });

  it("DECODE_DOWN, INGEST_ERROR and CAMERAS_BLIND per lane", () => {
    const cams = [
      { lane: "A", online: true, framePathFailing: true, ingestError: false },
      { lane: "B", online: true, framePathFailing: true, ingestError: false },
      { lane: "B", online: true, framePathFailing: false, ingestError: false },
      { lane: "C", online: false, framePathFailing: false, ingestError: true },
      { lane: "D", online: false, framePathFailing: false, ingestError: false },
      // E: its only delivering camera shows a frozen or blank picture; the one that is down does not count.
      { lane: "E", online: true, framePathFailing: false, ingestError: false, pictureLost: true },
      { lane: "E", online: false, framePathFailing: false, ingestError: false, pictureLost: false },
      // F: one camera blind, the other sees: partly blind, in service.
      { lane: "F", online: true, framePathFailing: false, ingestError: false, pictureLost: true },
      { lane: "F", online: true, framePathFailing: false, ingestError: false, pictureLost: false },
    ];
    const h = laneHealth(["A", "B", "C", "D", "E", "F"], cams, false);
    expect(Object.fromEntries(h)).toEqual({
      A: { DECODE_DOWN: true, INGEST_ERROR: false, CAMERAS_BLIND: false },
      B: { DECODE_DOWN: false, INGEST_ERROR: false, CAMERAS_BLIND: false },
      C: { DECODE_DOWN: false, INGEST_ERROR: true, CAMERAS_BLIND: false },
      D: { DECODE_DOWN: false, INGEST_ERROR: false, CAMERAS_BLIND: false },
      E: { DECODE_DOWN: false, INGEST_ERROR: false, CAMERAS_BLIND: true },
      F: { DECODE_DOWN: false, INGEST_ERROR: false, CAMERAS_BLIND: false },
    });
    expect([...laneHealth(["B", "D"], cams, true).values()].every((x) => x.DECODE_DOWN)).toBe(true);
  });

  it("readiness lists lane problems other than the ones it reports from their source", () => {
    const r = readiness([{ id: "c1", state: "online" }], { stale: false } as never, [
      { lane: "A", problems: ["DECODE_DOWN"] },
      { lane: "B", problems: ["INGEST_ERROR", "CAMERAS_DOWN"] },
      { lane: "C", problems: ["EVENTS_SEQ_ERROR"] },
    ]);
    expect(r.ready).toBe(false);
    expect(r.problems).toEqual([
      { code: "DECODE_DOWN", lane: "A", detail: expect.any(String) },
      { code: "INGEST_ERROR", lane: "B", detail: expect.any(String) },
      { code: "LANE_PROBLEM", lane: "C", problem: "EVENTS_SEQ_ERROR", detail: expect.any(String) },
    ]);
  });

  it("readiness names a camera whose frame path fails while it is up, and not a camera that is down anyway", () => {
    const r = readiness(
      [
        { id: "c1", state: "online", framePathFailing: false },
        { id: "c2", state: "online", framePathFailing: true },
        { id: "c3", state: "standby", framePathFailing: true },
        { id: "c4", state: "backoff", framePathFailing: true },
      ],
      { stale: false } as never,
    );
    expect(r.ready).toBe(false);
    expect(r.problems.map((p) => [p.code, p.camera])).toEqual([
      ["FRAME_PATH_FAILING", "c2"],
      ["FRAME_PATH_FAILING", "c3"],
      ["CAMERA_DOWN", "c4"],
    ]);
    expect(readiness([{ id: "c1", state: "online", framePathFailing: false }], { stale: false } as never).ready).toBe(true);
  });

  it("readiness names a camera whose picture is frozen or blank, and an untrusted clock with its offset", () => {
    const r = readiness(
      [
        { id: "c1", state: "online", pictureProblem: "FROZEN" },
        { id: "c2", state: "online", pictureProblem: "BLANK" },
        { id: "c3", state: "online" },
      ],
      { stale: false, version: "1", sources: [], clockUntrusted: { basis: "signed-time", offsetMs: -86_400_000 } },
      [{ lane: "L1", problems: ["CAMERAS_BLIND", "CLOCK_UNTRUSTED"] }],
    );
    expect(r.ready).toBe(false);
    expect(r.problems).toEqual([
      { code: "CAMERA_PICTURE_LOST", camera: "c1", detail: "camera c1 delivers frames but its picture is frozen (the same picture over and over)" },
      { code: "CAMERA_PICTURE_LOST", camera: "c2", detail: "camera c2 delivers frames but its picture is blank (no structure: a covered lens?)" },
      { code: "CLOCK_UNTRUSTED", detail: "local clock is 86400 s behind a signed trust list's issue time" },
      // The lane's clock problem is the one above; its blindness is its own.
      { code: "LANE_PROBLEM", lane: "L1", problem: "CAMERAS_BLIND", detail: "lane L1: CAMERAS_BLIND" },
    ]);
  });
});

describe("a blind lane in the real gateway", () => {
  it("a camera whose frames keep coming but show one frozen picture -> CAMERAS_BLIND on the display, in /readyz and /metrics; back when the picture moves", async () => {
    let frozen = true;
    let n = 0;
    const W = 64, H = 36;
    const cfg = parseConfig({
      gateway: { id: "gw-blind5", stateDir: join(dir, "s5") },
      server: { listen: { host: "127.0.0.1", port: 0 } },
      decode: { workers: 1 },
      cameras: [{ id: "c1", lane: "L1", source: "file", file: "/nonexistent/frozen.mp4", width: W, height: H, fps: 10, pixelFormat: "yplane", pictureCheckS: 1 }],
      lanes: [{ id: "L1" }],
    });
    // A scripted ffmpeg on the real clock: a test card, the same every frame while `frozen`, then moving.
    const fake = fakeSpawner(systemClock, { frameBytes: W * H, lumaBytes: W * H }, (proc) => {
      const tick = () => {
        if (proc.exited) return;
        n++;
        proc.write(Uint8Array.from({ length: W * H }, (_, i) => ((i % W) * 4 + (frozen ? 0 : n)) & 0xff));
        systemClock.setTimeout(tick, 100);
      };
      systemClock.setTimeout(tick, 100);
    });
    const gw = await startGateway(cfg, { logger: silentLogger, spawner: fake.spawner });
    try {
      const lane = gw.lanes.get("L1")!;
      await until(() => lane.status().problems.includes("CAMERAS_BLIND"), "CAMERAS_BLIND");
      expect(lane.status().state).toBe("out-of-service");
      const r = await readyz(gw);
      expect(r.problems).toContainEqual(expect.objectContaining({ code: "CAMERA_PICTURE_LOST", camera: "c1" }));
      const m = await metrics(gw);
      expect(m).toMatch(/^checkpoint_gateway_camera_picture_lost\{camera="c1",lane="L1",problem="FROZEN"\} 1$/m);
      expect(m).toMatch(/^checkpoint_gateway_lane_problem\{lane="L1",problem="CAMERAS_BLIND"\} 1$/m);
      expect(await display(gw, "L1")).toMatchObject({ state: "out-of-service", problems: expect.arrayContaining(["CAMERAS_BLIND"]) });
      expect(gw.cameras.info()[0]!.state).toBe("online");
      frozen = false;
      await until(() => lane.status().state === "idle", "back in service");
      expect((await readyz(gw)).ready).toBe(true);
    } finally {
      await gw.close();
    }
  }, 90_000);

  it("frame consumer failing -> DECODE_DOWN in /readyz, /metrics and on the display; back in service when it stops", async () => {
    let broken = false;
    const cfg = parseConfig({
      gateway: { id: "gw-blind", stateDir: join(dir, "s1") },
      server: { listen: { host: "127.0.0.1", port: 0 } },
      decode: { workers: 1 },
      cameras: [{ id: "c1", lane: "L1", ...SYNTHETIC, width: 320, height: 240, fps: 10 }],
      lanes: [{ id: "L1" }],
    });
    // The bench's frame tap runs inside the consumer: throwing there is the consumer throwing.
    const gw = await startGateway(cfg, {
      logger: silentLogger,
      onFrame: () => {
        if (broken) throw new Error("consumer broke");
      },
    });
    try {
      const lane = gw.lanes.get("L1")!;
      await until(() => lane.status().state === "idle", "idle");
      expect((await readyz(gw)).ready).toBe(true);
      broken = true;
      await until(() => lane.status().problems.includes("DECODE_DOWN"), "DECODE_DOWN");
      const r = await readyz(gw);
      expect(r.ready).toBe(false);
      expect(r.problems).toContainEqual(expect.objectContaining({ code: "DECODE_DOWN", lane: "L1" }));
      const m = await metrics(gw);
      expect(m).toMatch(/checkpoint_gateway_lane_problem\{lane="L1",problem="DECODE_DOWN"\} 1/);
      const errs = Number(/checkpoint_gateway_frame_consumer_errors_total\{camera="c1"\} (\d+)/.exec(m)?.[1]);
      expect(errs).toBeGreaterThanOrEqual(3);
      expect(await display(gw, "L1")).toMatchObject({ state: "out-of-service", problems: expect.arrayContaining(["DECODE_DOWN"]) });
      expect(gw.cameras.info()[0]!.state).toBe("online");
      broken = false;
      await until(() => lane.status().state === "idle", "back in service");
      expect((await readyz(gw)).ready).toBe(true);
    } finally {
      await gw.close();
    }
  }, 90_000);

  it("one of two cameras failing its frame path: no DECODE_DOWN (the lane still sees), but FRAME_PATH_FAILING in /readyz and camera_frame_path_failing 1", async () => {
    let broken = false;
    const cfg = parseConfig({
      gateway: { id: "gw-blind4", stateDir: join(dir, "s4") },
      server: { listen: { host: "127.0.0.1", port: 0 } },
      decode: { workers: 1 },
      cameras: [
        { id: "c1", lane: "L1", ...SYNTHETIC, width: 320, height: 240, fps: 10 },
        { id: "c2", lane: "L1", ...SYNTHETIC, width: 320, height: 240, fps: 10 },
      ],
      lanes: [{ id: "L1" }],
    });
    const gw = await startGateway(cfg, {
      logger: silentLogger,
      onFrame: (f) => {
        if (broken && f.cameraId === "c2") throw new Error("consumer broke");
      },
    });
    try {
      const lane = gw.lanes.get("L1")!;
      await until(() => lane.status().state === "idle", "idle");
      expect((await readyz(gw)).ready).toBe(true);
      expect(await metrics(gw)).toMatch(/checkpoint_gateway_camera_frame_path_failing\{camera="c2",lane="L1"\} 0/);
      broken = true;
      await until(() => gw.cameras.info().some((c) => c.id === "c2" && c.framePathFailing === true), "c2 failing");
      const r = await readyz(gw);
      expect(r.ready).toBe(false);
      expect(r.problems).toEqual([expect.objectContaining({ code: "FRAME_PATH_FAILING", camera: "c2" })]);
      const m = await metrics(gw);
      expect(m).toMatch(/checkpoint_gateway_camera_frame_path_failing\{camera="c2",lane="L1"\} 1/);
      expect(m).toMatch(/checkpoint_gateway_camera_frame_path_failing\{camera="c1",lane="L1"\} 0/);
      // The lane-level rule is unchanged: one camera still delivers, so the lane stays in service.
      expect(lane.status()).toMatchObject({ state: "idle", problems: [] });
      broken = false;
      await until(async () => (await readyz(gw)).ready, "ready again");
      expect(await metrics(gw)).toMatch(/checkpoint_gateway_camera_frame_path_failing\{camera="c2",lane="L1"\} 0/);
    } finally {
      await gw.close();
    }
  }, 90_000);

  it("decode workers dying -> DECODE_DOWN (no live worker); restarts counted; back when they live", async () => {
    const cfg = parseConfig({
      gateway: { id: "gw-blind2", stateDir: join(dir, "s2") },
      server: { listen: { host: "127.0.0.1", port: 0 } },
      decode: { workers: 1 },
      cameras: [{ id: "c1", lane: "L1", ...SYNTHETIC, width: 320, height: 240, fps: 10 }],
      lanes: [{ id: "L1" }],
    });
    const gw = await startGateway(cfg, { logger: silentLogger });
    let killing = true;
    try {
      const lane = gw.lanes.get("L1")!;
      await until(() => lane.status().state === "idle", "idle");
      // Failure injection: every worker thread is terminated as soon as it exists (a worker that cannot live).
      const slots = (gw.pool as unknown as { slots: Array<{ worker: { terminate(): Promise<number> } } | undefined> }).slots;
      const killer = (async () => {
        while (killing) {
          for (const s of slots) void s?.worker.terminate();
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await until(() => lane.status().problems.includes("DECODE_DOWN"), "DECODE_DOWN");
      const r = await readyz(gw);
      expect(r.problems).toContainEqual(expect.objectContaining({ code: "DECODE_DOWN", lane: "L1" }));
      const m = await metrics(gw);
      expect(m).toMatch(/checkpoint_gateway_decode_workers_ready 0/);
      expect(Number(/checkpoint_gateway_decode_worker_restarts_total (\d+)/.exec(m)?.[1])).toBeGreaterThanOrEqual(2);
      expect(m).toMatch(/checkpoint_gateway_decode_deadline_timeouts_total \d+/);
      // Replacements that died before they were ready: the pool's "cannot start" path, backed off and now visible.
      expect(gw.pool.stats().startFailures).toBeGreaterThan(0);
      expect(await display(gw, "L1")).toMatchObject({ state: "out-of-service" });
      killing = false;
      await killer;
      await until(() => lane.status().state === "idle", "back in service", 60_000);
    } finally {
      killing = false;
      await gw.close();
    }
  }, 120_000);

  it("ffmpeg that cannot start -> INGEST_ERROR (with CAMERAS_DOWN once the start-up grace is over) in /readyz and /metrics", async () => {
    const cfg = parseConfig({
      gateway: { id: "gw-blind3", stateDir: join(dir, "s3") },
      server: { listen: { host: "127.0.0.1", port: 0 } },
      decode: { workers: 1 },
      // The lane's STARTING grace is twice startupGraceMs: 1 s.
      cameras: [{ id: "c1", lane: "L1", url: "rtsp://127.0.0.1:9/cam", ffmpegPath: "/nonexistent/ffmpeg", width: 320, height: 240, fps: 10, startupGraceMs: 500 }],
      lanes: [{ id: "L1" }],
    });
    const gw = await startGateway(cfg, { logger: silentLogger });
    try {
      const lane = gw.lanes.get("L1")!;
      await until(() => lane.status().problems.includes("INGEST_ERROR") && !lane.status().problems.includes("STARTING"), "INGEST_ERROR after the start-up grace");
      expect(lane.status().problems).toEqual(["CAMERAS_DOWN", "INGEST_ERROR"]);
      const r = await readyz(gw);
      expect(r.problems).toContainEqual(expect.objectContaining({ code: "INGEST_ERROR", lane: "L1" }));
      expect(await metrics(gw)).toMatch(/checkpoint_gateway_lane_problem\{lane="L1",problem="INGEST_ERROR"\} 1/);
    } finally {
      await gw.close();
    }
  }, 60_000);
});
