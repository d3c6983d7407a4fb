/**
 * The supervisor with the transport that ships on Linux (the Unix socket), against the real
 * ffmpeg on a generated clip: whole frames in order, nothing left behind after stop, and a socket
 * that cannot be read is a restart, never a crash. No timed assertions.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LumaFrame } from "../../src/core/types.js";
import { CameraSupervisor, nodeSpawner } from "../../src/ingest/index.js";
import { childProcesses, clipFrameCount, makeQrClip, readFrameClock } from "../support/rtsp/index.js";
import { waitFor } from "../support/wait.js";
import { collectingLogger } from "./fake-ffmpeg.js";
import { testCamera } from "./helpers.js";

const W = 320;
const H = 240;
const FPS = 10;
const SEGMENTS = [{ text: "GW-SOCKET", seconds: 2 }, { seconds: 2 }];
const FRAMES = clipFrameCount(FPS, SEGMENTS);
let clip: string;
const running: CameraSupervisor[] = [];

const until = (cond: () => boolean, what: string, timeoutMs = 30_000) => waitFor(cond, what, timeoutMs, 20);
const socketPathOf = (args: readonly string[]): string | undefined => args.find((a) => a.startsWith("unix:"))?.slice("unix:".length);

function fileCamera(id: string) {
  return testCamera({ id, source: "file", file: clip, url: undefined, width: W, height: H, fps: FPS, startupGraceMs: 15000, stallTimeoutMs: 3000, killGraceMs: 1000, backoffInitialMs: 100, backoffMaxMs: 400, restartBudget: 20 });
}

beforeAll(async () => {
  clip = await makeQrClip({ width: W, height: H, fps: FPS, segments: SEGMENTS, keyint: 5 });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  expect(childProcesses(process.pid, "ffmpeg")).toEqual([]);
});

describe("CameraSupervisor over the Unix socket", () => {
  it("is the default with the real spawner on Linux: exact frames in clip order, socket directory gone after stop", async () => {
    const log = collectingLogger();
    const frames: LumaFrame[] = [];
    const clocks: Array<number | undefined> = [];
    const sup = new CameraSupervisor(fileCamera("s1"), { logger: log.logger, onFrame: (f) => (frames.push(f), clocks.push(readFrameClock(f))) });
    running.push(sup);
    sup.start();
    await until(() => frames.length >= 15, "15 frames");
    // What runs is the shipped command line: ffmpeg listens on a socket in a private directory.
    const [pid] = childProcesses(process.pid, "ffmpeg");
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const path = socketPathOf(args);
    expect(path).toMatch(/\/cpgw-[^/]+\/ffmpeg\.sock$/);
    expect(args).toContain("-listen");
    expect(existsSync(dirname(path!))).toBe(true);
    await sup.stop();
    expect(existsSync(dirname(path!))).toBe(false);
    // Whole frames only: every frame's clock stripe reads, and consecutive frames are consecutive clip frames.
    expect(frames.every((f) => f.data.length === W * H && f.stride === W)).toBe(true);
    const idx = clocks.filter((c): c is number => c !== undefined);
    expect(idx.length).toBe(frames.length);
    const steps = idx.slice(1).map((v, i) => (v - idx[i]! + FRAMES) % FRAMES);
    // (The burst guard may drop a frame or two if this busy test machine stalls the event loop.)
    expect(steps.filter((s) => s === 1).length).toBeGreaterThanOrEqual(steps.length - 2);
    expect(log.lines().some((l) => l.event === "transport_error" || l.event === "socket_unavailable")).toBe(false);
  });

  it("a socket that cannot be connected is a transport error: ffmpeg is killed, restarted and the camera comes online", async () => {
    const log = collectingLogger();
    const frames: LumaFrame[] = [];
    const spawned: string[] = [];
    const sup = new CameraSupervisor(fileCamera("s2"), {
      logger: log.logger,
      onFrame: (f) => frames.push(f),
      transport: "socket",
      spawner: (cmd, args, stdin) => {
        const path = socketPathOf(args)!;
        spawned.push(path);
        if (spawned.length === 1) {
          // Sabotage the first process: its socket directory becomes a file, so connect() fails with ENOTDIR.
          rmSync(dirname(path), { recursive: true });
          writeFileSync(dirname(path), "");
        }
        return nodeSpawner(cmd, args, stdin);
      },
    });
    running.push(sup);
    sup.start();
    await until(() => sup.state === "online" && frames.length >= 5, "online after the restart");
    const err = log.lines().find((l) => l.event === "transport_error");
    expect(String(err?.error)).toContain("ENOTDIR");
    const exit = log.lines().find((l) => l.event === "ffmpeg_exit");
    expect(String(exit?.error)).toContain("ENOTDIR");
    // A failure of ours, not an outage: it spends the restart budget.
    expect(sup.stats().restartsInWindow).toBe(1);
    expect(spawned).toHaveLength(2);
    expect(spawned[0]).not.toBe(spawned[1]);
    await sup.stop();
    // Both directories (the sabotaged one was a file by then) are gone.
    expect(spawned.map((p) => existsSync(dirname(p)))).toEqual([false, false]);
  });

  it("an injected spawner gets the pipe unless it asks for the socket", async () => {
    const frames: LumaFrame[] = [];
    let args: readonly string[] = [];
    const sup = new CameraSupervisor(fileCamera("s3"), {
      logger: collectingLogger().logger,
      onFrame: (f) => frames.push(f),
      spawner: (cmd, a, stdin) => ((args = a), nodeSpawner(cmd, a, stdin)),
    });
    running.push(sup);
    sup.start();
    await until(() => frames.length >= 3, "frames over the pipe");
    expect(args.slice(-3)).toEqual(["-f", "rawvideo", "pipe:1"]);
  });
});
