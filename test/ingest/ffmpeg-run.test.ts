import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import type { ExitHow } from "../../src/ingest/exit-policy.js";
import { FfmpegRun } from "../../src/ingest/ffmpeg-run.js";
import type { FrameTransport } from "../../src/ingest/transport.js";
import type { SpawnedProcess } from "../../src/ingest/types.js";
import { FakeFfmpeg } from "./fake-ffmpeg.js";

/** A transport that only records what the run does with it. */
function recordingTransport() {
  const seen = { attached: [] as SpawnedProcess[], closed: 0 };
  const transport: FrameTransport = {
    kind: "pipe",
    output: ["pipe:1"],
    attach: (p) => void seen.attached.push(p),
    close: () => void seen.closed++,
  };
  return { transport, seen };
}

/** After every promise reaction already queued. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A transport whose prepare() the test settles. */
function preparedTransport() {
  const { transport, seen } = recordingTransport();
  let settle!: { resolve: (s: Socket | undefined) => void; reject: (e: Error) => void };
  const ready = new Promise<Socket | undefined>((resolve, reject) => (settle = { resolve, reject }));
  return { transport: { ...transport, prepare: () => ready }, seen, settle };
}

function setup() {
  const clock = new FakeClock();
  let corrupt = 0;
  const run = new FfmpegRun(3, clock.monotonic(), clock, () => corrupt++);
  const { transport, seen } = recordingTransport();
  const proc = new FakeFfmpeg([], clock, 256, 256);
  const gone: ExitHow[] = [];
  return { clock, run, transport, seen, proc, gone, onGone: (h: ExitHow) => void gone.push(h), corrupt: () => corrupt };
}

describe("FfmpegRun", () => {
  it("start() without anything to prepare spawns at once, hands the process to the transport and reports its stderr, exit and error", () => {
    const t = setup();
    t.run.start(t.transport, () => true, () => t.proc, t.onGone);
    expect(t.run.proc).toBe(t.proc);
    expect(t.seen.attached).toEqual([t.proc]);
    t.proc.print("[h264 @ 0x1] error while decoding MB 1 2");
    t.proc.print("hello");
    expect(t.run.stderr.tail()).toEqual(["[h264 @ 0x1] error while decoding MB 1 2", "hello"]);
    expect(t.corrupt()).toBe(1);
    const err = new Error("EPIPE");
    t.proc.emit("error", err);
    t.proc.exit(1, null);
    expect(t.gone).toEqual([{ error: err }, { code: 1, signal: null }]);
  });

  it("a spawner that throws ends the run through onGone, with no process", () => {
    const t = setup();
    t.run.start(t.transport, () => true, () => { throw new Error("spawn ffmpeg ENOENT"); }, t.onGone);
    expect(t.run.proc).toBeUndefined();
    expect(t.seen.attached).toEqual([]);
    expect(t.gone.map((g) => g.error?.message)).toEqual(["spawn ffmpeg ENOENT"]);
  });

  it("re-arming the watchdog replaces the pending check", () => {
    const t = setup();
    const fired: number[] = [];
    t.run.armWatchdog(1000, () => fired.push(t.clock.monotonic()));
    t.clock.advance(600);
    t.run.armWatchdog(1000, () => fired.push(t.clock.monotonic()));
    expect(t.clock.pendingCount).toBe(1);
    t.clock.advance(5000);
    expect(fired).toEqual([1600]);
  });

  it("terminate() without a process reports that there is nothing to wait for", () => {
    const t = setup();
    expect(t.run.terminate(500, { sigkill: () => {}, abandon: () => {} })).toBe(false);
    expect(t.clock.pendingCount).toBe(0);
  });

  it("terminate() signals the process; finish() stops the kill steps, closes the transport once and clears every timer", () => {
    const t = setup();
    t.proc.ignoreAllSignals = true;
    t.run.start(t.transport, () => true, () => t.proc, t.onGone);
    t.run.armWatchdog(10_000, () => expect.unreachable("watchdog after finish"));
    const steps: string[] = [];
    expect(t.run.terminate(500, { sigkill: () => steps.push("sigkill"), abandon: () => steps.push("abandon") })).toBe(true);
    expect(t.proc.signals).toEqual(["SIGTERM"]);
    t.clock.advance(500);
    expect(steps).toEqual(["sigkill"]);
    expect(t.run.finish()).toBe(true);
    expect(t.run.gone).toBe(true);
    expect(t.run.finish()).toBe(false);
    expect(t.seen.closed).toBe(1);
    expect(t.clock.pendingCount).toBe(0);
    t.clock.advance(20_000);
    expect(steps).toEqual(["sigkill"]);
    expect(t.proc.signals).toEqual(["SIGTERM", "SIGKILL"]);
  });

  it("a process that reports its exit from within kill() gets no SIGKILL later", () => {
    const t = setup();
    t.proc.kill = (signal) => {
      t.proc.signals.push(signal);
      t.proc.exit(null, signal);
      return true;
    };
    t.run.start(t.transport, () => true, () => t.proc, (how) => {
      t.onGone(how);
      t.run.finish();
    });
    const steps: string[] = [];
    t.run.terminate(500, { sigkill: () => steps.push("sigkill"), abandon: () => steps.push("abandon") });
    t.clock.advance(5000);
    expect(t.gone).toEqual([{ code: null, signal: "SIGTERM" }]);
    expect(t.proc.signals).toEqual(["SIGTERM"]);
    expect(steps).toEqual([]);
  });

  it("start() spawns once the transport is ready, with the socket it prepared as stdout", async () => {
    const t = setup();
    const p = preparedTransport();
    const socket = {} as Socket;
    const spawned: Array<Socket | undefined> = [];
    t.run.start(p.transport, () => true, (stdout) => {
      spawned.push(stdout);
      return t.proc;
    }, t.onGone);
    expect(spawned).toEqual([]);
    p.settle.resolve(socket);
    await settled();
    expect(spawned).toHaveLength(1);
    expect(spawned[0]).toBe(socket);
    expect(p.seen.attached).toEqual([t.proc]);
    expect(t.run.transport).toBe(p.transport);
  });

  it("start() spawns nothing for a run replaced, killed or ended while its transport got ready", async () => {
    for (const end of ["replaced", "killing", "finished"] as const) {
      const t = setup();
      const p = preparedTransport();
      let current = true;
      let spawned = 0;
      t.run.start(p.transport, () => current, () => {
        spawned++;
        return t.proc;
      }, t.onGone);
      if (end === "replaced") current = false;
      if (end === "killing") t.run.killing = true;
      if (end === "finished") t.run.finish();
      p.settle.resolve(undefined);
      await settled();
      expect(spawned, end).toBe(0);
      expect(t.gone, end).toEqual([]);
    }
  });

  it("a transport that cannot be readied ends the run through onGone", async () => {
    const t = setup();
    const p = preparedTransport();
    let spawned = 0;
    t.run.start(p.transport, () => true, () => {
      spawned++;
      return t.proc;
    }, t.onGone);
    p.settle.reject(new Error("socketpair failed"));
    await settled();
    expect(spawned).toBe(0);
    expect(t.gone.map((g) => g.error?.message)).toEqual(["socketpair failed"]);
  });
});
