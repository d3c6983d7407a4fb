/**
 * The frame transports on their own: FrameFiller (pure), and the socket transport against a real
 * ffmpeg writing a deterministic lavfi test pattern, checked byte for byte against the same
 * ffmpeg command writing to stdout.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chooseTransport, defaultTransport, FrameFiller, frameLayout, nodeSpawner, openTransport, pipeTransport, socketTransport, type FrameSink, type FrameTransport } from "../../src/ingest/index.js";
import { waitFor } from "../support/wait.js";

/** Plays the kernel: copies `bytes` into the filler's targets in reads of the given sizes (cycled), each capped by the target. */
function feed(f: FrameFiller, bytes: Uint8Array, sizes: number[]): void {
  let off = 0;
  for (let i = 0; off < bytes.length; i++) {
    const t = f.target();
    const n = Math.min(t.length, sizes[i % sizes.length]!, bytes.length - off);
    t.set(bytes.subarray(off, off + n));
    f.advance(n);
    off += n;
  }
}

/** Frame k of a w*h layout: Y bytes (k*7 + i) & 255, chroma bytes 200 + k. */
function stream(frames: number, frameBytes: number, lumaBytes: number): Uint8Array {
  const b = new Uint8Array(frames * frameBytes);
  for (let k = 0; k < frames; k++)
    for (let i = 0; i < frameBytes; i++) b[k * frameBytes + i] = i < lumaBytes ? (k * 7 + i) & 255 : 200 + k;
  return b;
}

/** Byte equality (toEqual on large typed arrays is slow). */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
const sameFrames = (a: Uint8Array[], b: Uint8Array[]): boolean => a.length === b.length && a.every((x, i) => same(x, b[i]!));

describe("FrameFiller", () => {
  it("hands on exact Y planes whatever the read sizes, one buffer per frame from the allocator", () => {
    const { frameBytes, lumaBytes } = frameLayout(32, 24, "yplane");
    const out: Uint8Array[] = [];
    let allocs = 0;
    const f = new FrameFiller(frameBytes, lumaBytes, (l) => out.push(l.slice()), (n) => (allocs++, new Uint8Array(n)));
    const bytes = stream(5, frameBytes, lumaBytes);
    feed(f, bytes, [1, 700, 33, 4096, 5]);
    expect(out).toHaveLength(5);
    for (let k = 0; k < 5; k++) expect(same(out[k]!, bytes.subarray(k * frameBytes, k * frameBytes + lumaBytes))).toBe(true);
    expect(allocs).toBe(5);
    expect(f.pendingBytes).toBe(0);
  });

  it("yuv420p: reads the chroma into scratch and keeps only the Y plane; a partial frame is never handed on", () => {
    const { frameBytes, lumaBytes } = frameLayout(128, 96, "yuv420p");
    const out: Uint8Array[] = [];
    const f = new FrameFiller(frameBytes, lumaBytes, (l) => out.push(l.slice()));
    const bytes = stream(3, frameBytes, lumaBytes);
    feed(f, bytes.subarray(0, 2 * frameBytes + lumaBytes + 10), [5000, 1000, 333, 20000]);
    expect(out).toHaveLength(2);
    for (let k = 0; k < 2; k++) {
      expect(out[k]).toHaveLength(lumaBytes);
      expect(same(out[k]!, bytes.subarray(k * frameBytes, k * frameBytes + lumaBytes))).toBe(true);
    }
    expect(f.pendingBytes).toBe(lumaBytes + 10);
  });

  it("never points a read past the Y plane into the frame buffer, and refuses a read larger than its target", () => {
    const f = new FrameFiller(150, 100, () => {});
    expect(f.target()).toHaveLength(100);
    f.advance(60);
    expect(f.target()).toHaveLength(40);
    expect(() => f.advance(41)).toThrow(RangeError);
    expect(() => f.advance(0)).toThrow(RangeError);
    f.advance(40);
    expect(f.target()).toHaveLength(50);
    expect(() => new FrameFiller(100, 150, () => {})).toThrow(RangeError);
  });
});

const W = 160;
const H = 120;
const FRAMES = 12;

/** A deterministic picture sequence (lavfi testsrc2: moving pattern and counter). */
function patternArgs(pix: "gray" | "yuv420p", output: readonly string[]): string[] {
  return ["-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", `testsrc2=size=${W}x${H}:rate=25`, "-frames:v", String(FRAMES), "-vf", `format=${pix}`, "-f", "rawvideo", ...output];
}

/** The same command's frames as written to stdout: the reference. */
function referenceFrames(pix: "gray" | "yuv420p"): Uint8Array[] {
  const r = spawnSync("ffmpeg", patternArgs(pix, ["pipe:1"]), { maxBuffer: 64 << 20 });
  const { frameBytes, lumaBytes } = frameLayout(W, H, pix === "gray" ? "yplane" : "yuv420p");
  expect(r.stdout.length).toBe(FRAMES * frameBytes);
  const frames = Array.from({ length: FRAMES }, (_, k) => new Uint8Array(r.stdout.subarray(k * frameBytes, k * frameBytes + lumaBytes)));
  // The pattern moves, so equal frames would prove nothing about order.
  expect(same(frames[0]!, frames[1]!)).toBe(false);
  return frames;
}

interface Capture {
  frames: Uint8Array[];
  errors: Error[];
  sink: FrameSink;
}

function capture(pix: "gray" | "yuv420p"): Capture {
  const frames: Uint8Array[] = [];
  const errors: Error[] = [];
  const { frameBytes, lumaBytes } = frameLayout(W, H, pix === "gray" ? "yplane" : "yuv420p");
  return { frames, errors, sink: { frameBytes, lumaBytes, onFrame: (l) => frames.push(l.slice()), onError: (e) => errors.push(e) } };
}

/** The private directory a socket transport made under `base` (at most one), or undefined. */
function socketDirIn(base: string): string | undefined {
  const d = readdirSync(base).filter((n) => n.startsWith("cpgw-"));
  expect(d.length).toBeLessThanOrEqual(1);
  return d[0] === undefined ? undefined : join(base, d[0]);
}

/** Runs ffmpeg with the transport's output (and prepared stdout) to the end; resolves with its exit code. */
async function runThrough(t: FrameTransport, pix: "gray" | "yuv420p"): Promise<number | null> {
  const stdout = await t.prepare?.();
  const p = nodeSpawner("ffmpeg", patternArgs(pix, t.output), undefined, stdout);
  t.attach(p);
  return new Promise((r) => p.on("exit", (code) => r(code)));
}

const openFds = (): number => readdirSync("/proc/self/fd").length;

describe("socket transport with a real ffmpeg", () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), "cpgw-test-"));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  for (const pix of ["gray", "yuv420p"] as const) {
    it(`delivers exactly the frames ffmpeg writes to stdout (${pix}), with ffmpeg's stdout a socket, then leaves nothing behind`, async () => {
      const ref = referenceFrames(pix);
      const c = capture(pix);
      const fds = openFds();
      const t = socketTransport(c.sink, { baseDir: base });
      const dir = socketDirIn(base)!;
      // Private: nobody else may connect and read the camera.
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(t.output).toEqual(["pipe:1"]);
      const stdout = await t.prepare!();
      // The listener and its directory are gone before ffmpeg starts: the connection exists already.
      expect(existsSync(dir)).toBe(false);
      const p = nodeSpawner("ffmpeg", patternArgs(pix, t.output), undefined, stdout);
      expect(p.stdout).toBeNull();
      t.attach(p);
      expect(readlinkSync(`/proc/${p.pid}/fd/1`)).toMatch(/^socket:/);
      expect(await new Promise((r) => p.on("exit", r))).toBe(0);
      await waitFor(() => c.frames.length === FRAMES, "every frame read");
      t.close();
      expect(c.errors).toEqual([]);
      expect(sameFrames(c.frames, ref)).toBe(true);
      await waitFor(() => openFds() <= fds, "no descriptor left open");
    });
  }

  it("the pipe transport reads the same frames (the fallback)", async () => {
    const ref = referenceFrames("gray");
    const c = capture("gray");
    const t = pipeTransport(c.sink);
    expect(t.prepare).toBeUndefined();
    expect(await runThrough(t, "gray")).toBe(0);
    await waitFor(() => c.frames.length === FRAMES, "every frame read");
    expect(sameFrames(c.frames, ref)).toBe(true);
  });

  it("the reader sees EOF when ffmpeg is killed, and close() after that leaves nothing behind", async () => {
    const c = capture("gray");
    const fds = openFds();
    const t = socketTransport(c.sink, { baseDir: base });
    const stdout = await t.prepare!();
    // A stream that never ends: ffmpeg blocks writing once nobody reads fast enough, and is killed mid-frame.
    const p = nodeSpawner("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", `testsrc2=size=${W}x${H}:rate=25`, "-vf", "format=gray", "-f", "rawvideo", ...t.output], undefined, stdout);
    t.attach(p);
    await waitFor(() => c.frames.length >= 3, "frames flowing");
    p.kill("SIGKILL");
    await new Promise((r) => p.on("exit", r));
    t.close();
    expect(c.errors).toEqual([]);
    expect(socketDirIn(base)).toBeUndefined();
    await waitFor(() => openFds() <= fds, "no descriptor left open");
  });

  it("prepare() rejects, and cleans up, when the socket cannot be listened on", async () => {
    const c = capture("gray");
    const t = socketTransport(c.sink, { baseDir: base });
    const dir = socketDirIn(base)!;
    // The directory replaced by a file: listen() fails with ENOTDIR.
    rmSync(dir, { recursive: true });
    writeFileSync(dir, "");
    await expect(t.prepare!()).rejects.toMatchObject({ code: "ENOTDIR" });
    expect(c.errors).toEqual([]);
    t.close();
  });

  it("closed while preparing: the prepared socket is never handed out and nothing is left behind", async () => {
    const c = capture("gray");
    const t = socketTransport(c.sink, { baseDir: base });
    const ready = t.prepare!();
    t.close();
    const r = await Promise.race([ready.then(() => "resolved", () => "rejected"), new Promise((res) => setTimeout(() => res("pending"), 200))]);
    expect(r).not.toBe("resolved");
    expect(socketDirIn(base)).toBeUndefined();
  });

  it("refuses a socket path longer than sun_path allows (the caller falls back to the pipe)", () => {
    const c = capture("gray");
    expect(() => socketTransport(c.sink, { baseDir: "/tmp/" + "x".repeat(100) })).toThrow(/exceed/);
  });
});

describe("choosing the transport", () => {
  it("the socket on Linux for the real spawner; the pipe elsewhere, and for injected spawners", () => {
    expect(defaultTransport("linux", false)).toBe("socket");
    expect(defaultTransport("linux", true)).toBe("pipe");
    expect(defaultTransport("darwin", false)).toBe("pipe");
    expect(defaultTransport("win32", false)).toBe("pipe");
  });

  it("a camera's frameTransport setting: auto is that default, socket or pipe is used as set", () => {
    expect(chooseTransport("auto", "linux", false)).toBe("socket");
    expect(chooseTransport("auto", "darwin", false)).toBe("pipe");
    expect(chooseTransport("pipe", "linux", false)).toBe("pipe");
    expect(chooseTransport("socket", "linux", true)).toBe("socket");
  });

  it("falls back to the pipe, and says why, when no socket can be set up here", () => {
    const c = capture("gray");
    const saved = process.env.TMPDIR;
    // os.tmpdir() follows TMPDIR: a directory whose socket path would not fit in sun_path.
    process.env.TMPDIR = "/tmp/" + "y".repeat(100);
    const why: Error[] = [];
    try {
      const t = openTransport("socket", c.sink, (e) => why.push(e));
      expect(t.kind).toBe("pipe");
      expect(t.output).toEqual(["pipe:1"]);
      expect(why).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    const s = openTransport("socket", c.sink, (e) => why.push(e));
    expect(s.kind).toBe("socket");
    s.close();
    expect(openTransport("pipe", c.sink, (e) => why.push(e)).kind).toBe("pipe");
    expect(why).toHaveLength(1);
  });

  it("falls back to the pipe, and says why, when the socket fails while being prepared", async () => {
    const ref = referenceFrames("gray");
    const c = capture("gray");
    const saved = process.env.TMPDIR;
    const base = mkdtempSync(join(tmpdir(), "cpgw-test-"));
    const why: Error[] = [];
    try {
      process.env.TMPDIR = base;
      const t = openTransport("socket", c.sink, (e) => why.push(e));
      // Sabotage after the directory exists: listen() fails with ENOTDIR.
      const dir = socketDirIn(base)!;
      rmSync(dir, { recursive: true });
      writeFileSync(dir, "");
      const stdout = await t.prepare!();
      expect(stdout).toBeUndefined();
      expect(t.kind).toBe("pipe");
      expect(why.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(["ENOTDIR"]);
      // The pipe serves this process.
      expect(await runThrough(t, "gray")).toBe(0);
      await waitFor(() => c.frames.length === FRAMES, "every frame read");
      expect(sameFrames(c.frames, ref)).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      rmSync(base, { recursive: true, force: true });
    }
  });
});
