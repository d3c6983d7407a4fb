import { beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import QRCode from "qrcode";
import sharp from "sharp";
import { clipKey, handMotion, makeClip, NoiseSource, renderFrame, resolveClipOptions } from "../../scripts/clip-gen.js";
import { DecodePool } from "../../src/decode/index.js";
import { faultyWorker } from "../../src/decode/testing/faulty-worker.js";
import { decodeClip } from "../../src/cli/commands/decode-clip.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");

async function cli(...args: string[]): Promise<{ code: number; lines: any[]; stderr: string }> {
  try {
    const r = await run(process.execPath, ["bin/checkpoint-gateway.js", "decode", ...args], { cwd: root, maxBuffer: 64 << 20 });
    return { code: 0, lines: parseLines(r.stdout), stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, lines: parseLines(err.stdout), stderr: err.stderr };
  }
}
const parseLines = (s: string) => s.split("\n").filter(Boolean).map((l) => JSON.parse(l));

const TEXT = "VN1:CLIP-TEST-7f3a";
let tmp: string;
let qrPng: Buffer;
let clip: string;
let blank: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "gw-clip-"));
  // A printed code held up to the camera: the code on a white card filling part of the view.
  qrPng = await QRCode.toBuffer(TEXT, { width: 480, margin: 4, errorCorrectionLevel: "M" });
  const card = await sharp({ create: { width: 1600, height: 1000, channels: 3, background: "#c8c8c8" } }).composite([{ input: qrPng, left: 560, top: 260 }]).png().toBuffer();
  clip = join(tmp, "card.ts");
  await makeClip(card, clip, { seed: 7, durationS: 1 });
  blank = join(tmp, "blank.ts");
  const grey = await sharp({ create: { width: 640, height: 360, channels: 3, background: "#808080" } }).png().toBuffer();
  await makeClip(grey, blank, { seed: 1, durationS: 0.6, width: 640, height: 360 });
}, 180_000);

describe("clip generator", () => {
  it("is reproducible from its seed: same seed, same frames and same file; another seed moves the hand", async () => {
    const src = { width: 320, height: 240, data: new Uint8Array(320 * 240).map((_, i) => ((i % 320) >> 4) * 13) };
    const o = resolveClipOptions({ seed: 42, width: 320, height: 240 });
    const frame = (seed: number, i: number) => renderFrame(src, { ...o, seed }, handMotion({ ...o, seed }), i, new NoiseSource(seed, o.noiseSigma));
    expect(Buffer.from(frame(42, 5)).equals(Buffer.from(frame(42, 5)))).toBe(true);
    expect(Buffer.from(frame(42, 5)).equals(Buffer.from(frame(43, 5)))).toBe(false);
    // The pose changes from frame to frame (hand motion), within the configured amplitudes.
    const pose = handMotion(o);
    const poses = [0, 0.2, 0.4, 0.6].map(pose);
    expect(new Set(poses.map((p) => p.dx.toFixed(3))).size).toBe(4);
    for (const p of poses) {
      expect(Math.abs(p.dx)).toBeLessThanOrEqual(o.driftPx + o.tremorPx);
      expect(Math.abs(p.scale - 1)).toBeLessThanOrEqual(o.scaleAmp);
    }
    const png = await sharp(Buffer.from(src.data), { raw: { width: 320, height: 240, channels: 1 } }).png().toBuffer();
    const a = join(tmp, "a.ts"), b = join(tmp, "b.ts");
    await makeClip(png, a, { seed: 3, width: 320, height: 240, durationS: 0.4 });
    await makeClip(png, b, { seed: 3, width: 320, height: 240, durationS: 0.4 });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  }, 60_000);

  it("a glare spot clips to white where the path puts it at each moment, moves with the hand, and leaves the rest", () => {
    const src = { width: 320, height: 240, data: new Uint8Array(320 * 240).fill(60) };
    const o = resolveClipOptions({ seed: 5, width: 320, height: 240, durationS: 1, noiseSigma: 0, glare: { from: [80, 120], to: [240, 120], radius: 20 } });
    const plain = resolveClipOptions({ seed: 5, width: 320, height: 240, durationS: 1, noiseSigma: 0 });
    const pose = handMotion(o);
    const at = (f: Uint8Array, x: number, y: number) => f[Math.round(y) * 320 + Math.round(x)]!;
    for (const i of [0, 14]) {
      const t = i / o.fps;
      const f = renderFrame(src, o, pose, i, new NoiseSource(5, 0));
      // The path's point at t, through the photo's pose at t (turn and scale about the centre, shift).
      const p = pose(t), sx = 80 + 160 * t - 160, sy = 0;
      const x = 160 + p.dx + p.scale * (Math.cos(p.rot) * sx - Math.sin(p.rot) * sy), y = 120 + p.dy + p.scale * (Math.sin(p.rot) * sx + Math.cos(p.rot) * sy);
      expect(at(f, x, y)).toBe(255);
      expect(at(f, x + 40, y + 40)).toBe(60);
      const g = renderFrame(src, plain, handMotion(plain), i, new NoiseSource(5, 0));
      expect(at(g, x, y)).toBe(60);
    }
    // The glare's path is part of a cached clip's key.
    const bytes = new Uint8Array([1, 2, 3]);
    expect(clipKey(bytes, { seed: 5, glare: { from: [80, 120], to: [240, 120], radius: 20 } })).not.toBe(clipKey(bytes, { seed: 5, glare: { from: [80, 130], to: [240, 120], radius: 20 } }));
    expect(clipKey(bytes, { seed: 5, glare: { from: [80, 120], to: [240, 120], radius: 20 } })).not.toBe(clipKey(bytes, { seed: 5 }));
  });

  it("writes 1080p15 H.264 in MPEG-TS at a camera bitrate", async () => {
    const r = await run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height,r_frame_rate,has_b_frames:format=format_name,bit_rate,duration", "-of", "json", clip]);
    const info = JSON.parse(r.stdout) as { streams: Record<string, unknown>[]; format: Record<string, string> };
    expect(info.streams[0]).toMatchObject({ codec_name: "h264", width: 1920, height: 1080, r_frame_rate: "15/1", has_b_frames: 0 });
    expect(info.format.format_name).toBe("mpegts");
    expect(Number(info.format.bit_rate)).toBeLessThan(4_500_000);
  });
});

describe("checkpoint-gateway decode --json CLIP", () => {
  it("prints one line per frame with codes, then a summary with the time to the first read", async () => {
    const { code, lines } = await cli("--json", clip);
    expect(code).toBe(0);
    const frames = lines.filter((l) => l.summary === undefined);
    const summary = lines.at(-1).summary;
    expect(frames).toHaveLength(15);
    expect(frames.map((l) => l.frame)).toEqual([...Array(15).keys()]);
    for (const l of frames) {
      expect(l.file).toBe(clip);
      expect(l.mediaMs).toBeCloseTo((l.frame * 1000) / 15, 1);
      // Every code read is the right one: no misreads across frames.
      for (const c of l.codes) expect(c.text).toBe(TEXT);
    }
    const read = frames.filter((l) => l.codes.length > 0);
    expect(read.length).toBeGreaterThan(0);
    expect(summary).toMatchObject({ frames: 15, fps: 15, width: 1920, height: 1080, mode: "live", clock: "wall" });
    expect(summary.decoded + summary.dropped).toBe(15);
    expect(summary.codes).toHaveLength(1);
    const first = summary.codes[0];
    expect(first.text).toBe(TEXT);
    expect(first.firstFrame).toBe(read[0].frame);
    expect(first.firstMediaMs).toBeCloseTo(read[0].mediaMs, 1);
    // Processing included: the read lands when that frame's decode finished.
    expect(first.firstReadMs).toBeCloseTo(read[0].doneMs, 1);
    expect(first.firstReadMs).toBeGreaterThanOrEqual(first.firstMediaMs + read[0].decodeMs - 0.02);
    expect(first.frames).toBe(read.length);
    expect(summary.timing).toMatch(/processing/);
  }, 120_000);

  it("frames the decoder cannot take are counted by error, not reported as decoded frames without a code", async () => {
    // Every job crashes its worker: no frame of the clip is decoded.
    const faults = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [i + 1, "throw" as const]));
    const pool = await DecodePool.create({ workers: 1, deadlineMs: 20_000, budgetMs: 60, passes: ["tone"], warmUpRounds: 0, worker: faultyWorker(faults) });
    try {
      const s = await decodeClip(blank, { pool, everyFrame: true });
      expect(s.frames).toBeGreaterThan(0);
      expect([s.decoded, s.failed, s.errors]).toEqual([0, s.frames, { GW_DECODE_CRASH: s.frames }]);
      expect(s.codes).toEqual([]);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it("--every-frame decodes every frame (no drops) and reads the code in most of them", async () => {
    const { code, lines } = await cli("--json", "--every-frame", clip);
    expect(code).toBe(0);
    const summary = lines.at(-1).summary;
    expect(summary).toMatchObject({ mode: "every-frame", frames: 15, decoded: 15, dropped: 0 });
    expect(lines.filter((l) => l.dropped)).toEqual([]);
    expect(summary.codes.map((c: { text: string }) => c.text)).toEqual([TEXT]);
    expect(summary.codes[0].frames).toBeGreaterThanOrEqual(12);
  }, 120_000);

  it("--cpu-clock advances the replay by each frame's worker CPU time instead of wall time", async () => {
    const { code, lines } = await cli("--json", "--every-frame", "--cpu-clock", clip);
    expect(code).toBe(0);
    const frames = lines.filter((l) => l.summary === undefined);
    expect(frames).toHaveLength(15);
    for (const l of frames) {
      expect(l.cpuMs).toBeGreaterThanOrEqual(0);
      expect(l.doneMs).toBeCloseTo(l.mediaMs + l.cpuMs, 1);
    }
    // Thread CPU time is tick-granular per frame, but 15 1080p decodes cost more than a tick.
    expect(frames.reduce((a, l) => a + l.cpuMs, 0)).toBeGreaterThan(0);
    expect(lines.at(-1).summary).toMatchObject({ clock: "cpu", mode: "every-frame" });
    expect(lines.at(-1).summary.codes[0].text).toBe(TEXT);
    expect(lines.at(-1).summary.timing).toMatch(/CPU time/);
  }, 120_000);

  it("reports no code for a clip without one, and a clear error for a file that is not a video, without stopping the others", async () => {
    const bad = join(tmp, "bad.mp4");
    writeFileSync(bad, "not a video");
    const { code, lines } = await cli("--json", bad, blank);
    expect(code).toBe(1);
    expect(lines[0]).toMatchObject({ file: bad });
    expect(lines[0].error).toMatch(/^GW_VIDEO_UNREADABLE: /);
    const summary = lines.at(-1);
    expect(summary.file).toBe(blank);
    expect(summary.summary).toMatchObject({ frames: 9, width: 640, height: 360, codes: [] });
  }, 120_000);
});
