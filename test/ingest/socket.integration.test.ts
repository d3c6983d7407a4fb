/**
 * The supervisor with the transport that ships on Linux (the Unix socket), against the real
 * ffmpeg on a generated clip: whole frames in order over the socket we hand ffmpeg as stdout, a
 * restart over a fresh socket, and a stop while the socket is being readied. No timed assertions.
 */
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import type { Socket } from "node:net";
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
/** The path a Unix socket was bound under (kept in /proc/net/unix after unlink), for the socket behind `pid`'s fd 1. */
function stdoutSocketPath(pid: number): string | undefined {
  const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/1`))?.[1];
  if (inode === undefined) return undefined;
  const row = readFileSync("/proc/net/unix", "utf8").split("\n").map((l) => l.trim().split(/\s+/)).find((f) => f[6] === inode);
  return row?.[7];
}

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
  it("is the default with the real spawner on Linux: exact frames in clip order, ffmpeg's stdout our private socket", async () => {
    const log = collectingLogger();
    const frames: LumaFrame[] = [];
    const clocks: Array<number | undefined> = [];
    const sup = new CameraSupervisor(fileCamera("s1"), { logger: log.logger, onFrame: (f) => (frames.push(f), clocks.push(readFrameClock(f))) });
    running.push(sup);
    sup.start();
    await until(() => frames.length >= 15, "15 frames");
    // What runs is the shipped command line, writing to stdout; that stdout is the socket we listened on
    // in a private directory (a pipe from the spawner would have no bound path), and the directory is gone.
    const [pid] = childProcesses(process.pid, "ffmpeg");
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    expect(args.slice(-3)).toEqual(["-f", "rawvideo", "pipe:1"]);
    const path = stdoutSocketPath(pid!);
    expect(path).toMatch(/\/cpgw-[^/]+\/frames\.sock$/);
    expect(existsSync(dirname(path!))).toBe(false);
    await sup.stop();
    // Whole frames only: every frame's clock stripe reads, and consecutive frames are consecutive clip frames.
    expect(frames.every((f) => f.data.length === W * H && f.stride === W)).toBe(true);
    const idx = clocks.filter((c): c is number => c !== undefined);
    expect(idx.length).toBe(frames.length);
    const steps = idx.slice(1).map((v, i) => (v - idx[i]! + FRAMES) % FRAMES);
    // (The burst guard may drop a frame or two if this busy test machine stalls the event loop.)
    expect(steps.filter((s) => s === 1).length).toBeGreaterThanOrEqual(steps.length - 2);
    expect(log.lines().some((l) => l.event === "transport_error" || l.event === "socket_unavailable")).toBe(false);
  });

  it("a process killed under it is restarted over a fresh socket, and frames flow again", async () => {
    const log = collectingLogger();
    const frames: LumaFrame[] = [];
    const stdouts: Array<Socket | undefined> = [];
    const pids: number[] = [];
    const sup = new CameraSupervisor(fileCamera("s2"), {
      logger: log.logger,
      onFrame: (f) => frames.push(f),
      transport: "socket",
      spawner: (cmd, args, stdin, stdout) => {
        stdouts.push(stdout);
        const p = nodeSpawner(cmd, args, stdin, stdout);
        pids.push(p.pid!);
        return p;
      },
    });
    running.push(sup);
    sup.start();
    await until(() => frames.length >= 5, "frames over the socket");
    process.kill(pids[0]!, "SIGKILL");
    await until(() => pids.length === 2, "a second process");
    const before = frames.length;
    await until(() => sup.state === "online" && frames.length >= before + 5, "frames from the second process");
    // Each process got a socket of its own as stdout; none came through a spawner pipe.
    expect(stdouts).toHaveLength(2);
    expect(stdouts.every((s) => s !== undefined)).toBe(true);
    expect(stdouts[0]).not.toBe(stdouts[1]);
    expect(stdoutSocketPath(pids[1]!)).toMatch(/frames\.sock$/);
    expect(log.lines().some((l) => l.event === "transport_error" || l.event === "socket_unavailable")).toBe(false);
  });

  it("stopped while its transport is being readied: no ffmpeg is started and stop() resolves at once", async () => {
    const spawned: string[] = [];
    const sup = new CameraSupervisor(fileCamera("s4"), {
      logger: collectingLogger().logger,
      onFrame: () => {},
      transport: "socket",
      spawner: (cmd, args, stdin, stdout) => (spawned.push(cmd), nodeSpawner(cmd, args, stdin, stdout)),
    });
    sup.start();
    // start() only began preparing the socket (listen, connect, accept take event-loop turns).
    expect(sup.state).toBe("starting");
    await sup.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect(spawned).toEqual([]);
    expect(sup.state).toBe("stopped");
  });

  it("a spawner that ignores the frame socket is a transport error that says so, not a silent stall", async () => {
    const log = collectingLogger();
    let spawns = 0;
    const sup = new CameraSupervisor(fileCamera("s5"), {
      logger: log.logger,
      onFrame: () => {},
      transport: "socket",
      // Drops `stdout`: the process gets a pipe of the spawner's own, which nobody reads.
      spawner: (cmd, args, stdin) => (spawns++, nodeSpawner(cmd, args, stdin)),
    });
    running.push(sup);
    sup.start();
    await until(() => log.lines().some((l) => l.event === "transport_error"), "the transport error");
    const err = log.lines().find((l) => l.event === "transport_error");
    expect(String(err?.error)).toMatch(/did not give the process the frame socket/);
    expect(spawns).toBeGreaterThanOrEqual(1);
  });

  it("a spawner that throws after the socket was readied: the socket is closed, the camera reports GW_CAMERA_SPAWN, nothing throws", async () => {
    const log = collectingLogger();
    const given: Socket[] = [];
    const sup = new CameraSupervisor(fileCamera("s6"), {
      logger: log.logger,
      onFrame: () => {},
      transport: "socket",
      spawner: (_cmd, _args, _stdin, stdout) => {
        if (stdout) given.push(stdout);
        throw Object.assign(new Error("spawn ffmpeg ENOENT"), { code: "ENOENT" });
      },
    });
    running.push(sup);
    sup.start();
    await until(() => sup.stats().ingestError === "GW_CAMERA_SPAWN", "the spawn error reported");
    expect(given.length).toBeGreaterThanOrEqual(1);
    // The parent's end of the prepared socket is not left open.
    expect(given[0]!.destroyed).toBe(true);
    expect(log.lines().some((l) => l.event === "ffmpeg_exit" && String(l.error).includes("ENOENT"))).toBe(true);
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
