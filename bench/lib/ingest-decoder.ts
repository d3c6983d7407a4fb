import { spawn } from "node:child_process";
import { FrameBuffers } from "../../src/core/frame-buffers.js";
import { ffmpegArgs, frameLayout, nodeSpawner, openTransport, type SpawnedProcess, type TransportKind } from "../../src/ingest/index.js";
import { decodeSection } from "../../src/decode/options.js";
import { HeapImage } from "../../src/decode/luma-read.js";
import { loadReaderModule, readVerifiedWasm } from "../../src/decode/wasm-loader.js";
import { runStrategy } from "../../src/decode/strategy.js";
import { PassCosts } from "../../src/decode/pass-costs.js";
import { makeQrClip } from "../../test/support/rtsp/index.js";
import { procTicks, ticksMs, usageMs } from "./cpu.js";
import type { PixelFormat } from "./ingest-rows.js";
import { listPhotos, makePhotoClip, photoDir } from "./photo-clip.js";
import { summarize } from "./stats.js";

/**
 * `bench:ingest`'s flat-out tables: a clip file read as fast as possible (less noisy than a
 * real-time window), as CPU ms per 1080p frame. The pixel-format choice, and the decoder options
 * against a bare decode, with the read rate on the real-photo clip with and without the loop filter.
 */

export interface FormatRow {
  pixelFormat: string;
  ffmpegMs: number;
  readerMs: number;
  totalMs: number;
}

export interface DecoderRow {
  name: string;
  ffmpegMs: number;
  readerMs: number;
  totalMs: number;
  /** Frames of the photo clip in which the cascade read a code, "read/shown" (when the photos are present). */
  read?: string;
}

/**
 * ffmpeg with `args` (everything before the output) writing rawvideo over `transport`, read as
 * the supervisor reads it; `onLuma` sees every frame. Resolves once ffmpeg has exited.
 */
async function readFrames(args: string[], transport: TransportKind, layout: { frameBytes: number; lumaBytes: number }, onLuma: (luma: Uint8Array) => void, alloc?: (n: number) => Uint8Array): Promise<{ proc: SpawnedProcess; exited: Promise<void> }> {
  const t = openTransport(transport, { ...layout, ...(alloc ? { alloc } : {}), onFrame: onLuma, onError: (e) => console.error("transport error", e) }, (e) => {
    throw e;
  });
  const stdout = await t.prepare?.();
  const proc = nodeSpawner("ffmpeg", [...args, ...t.output], undefined, stdout);
  t.attach(proc);
  // The last frames may still sit in the socket when ffmpeg exits: read them before closing.
  const exited = new Promise<void>((r) => proc.on("exit", () => setTimeout(r, 300)));
  void exited.then(() => t.close());
  return { proc, exited };
}

/** CPU ms per frame (ffmpeg from /proc + this process) reading `frames` frames of a looped clip over `transport`. */
async function formatCost(clip: string, width: number, height: number, pixelFormat: PixelFormat, frames: number, transport: TransportKind): Promise<{ ffmpegMs: number; readerMs: number }> {
  const args = ffmpegArgs({ source: "file", file: clip, width, height, transport: "tcp", pixelFormat }, "", { output: [] }).filter((a) => a !== "-re");
  const warm = 30;
  let n = 0;
  let f0 = 0;
  let f1 = 0;
  let c0 = process.cpuUsage();
  let c1 = c0;
  let pid = 0;
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => (resolve = r));
  const buffers = new FrameBuffers();
  const { proc, exited } = await readFrames(args, transport, frameLayout(width, height, pixelFormat), (luma) => {
    buffers.give(luma);
    n++;
    if (n === warm) {
      f0 = procTicks(pid);
      c0 = process.cpuUsage();
    } else if (n === warm + frames) {
      f1 = procTicks(pid);
      c1 = process.cpuUsage(c0);
      resolve();
    }
  }, (b) => buffers.take(b));
  pid = proc.pid!;
  await done;
  proc.kill("SIGKILL");
  await exited;
  return { ffmpegMs: ticksMs(f1 - f0) / frames, readerMs: usageMs(c1) / frames };
}

/** yplane vs yuv420p vs gray over `transport`: median of 3 interleaved runs of 300 frames each. */
export async function pixelFormatTable(transport: TransportKind): Promise<FormatRow[]> {
  const clip = await makeQrClip({ width: 1920, height: 1080, fps: 15, segments: [{ text: "BENCH-1920x1080", seconds: 5 }, { seconds: 5 }], noise: 6 });
  const formats = ["yplane", "yuv420p", "gray"] as const;
  const samples = new Map<string, Array<{ ffmpegMs: number; readerMs: number }>>(formats.map((f) => [f, []]));
  for (let round = 0; round < 3; round++) for (const f of formats) samples.get(f)!.push(await formatCost(clip, 1920, 1080, f, 300, transport));
  return formats.map((f) => {
    const s = samples.get(f)!;
    const ffmpegMs = summarize(s.map((x) => x.ffmpegMs)).median;
    const readerMs = summarize(s.map((x) => x.readerMs)).median;
    return { pixelFormat: f, ffmpegMs, readerMs, totalMs: summarize(s.map((x) => x.ffmpegMs + x.readerMs)).median };
  });
}

/**
 * One run over a fixed number of frames of a clip: ffmpeg's own CPU from `-benchmark` (utime +
 * stime at exit), the reader's from this process. `out`: our output path (Y plane, rawvideo)
 * read over that transport, or a bare `-f null` decode. `onLuma` sees every delivered frame.
 */
async function decodeRun(clip: string, loops: number, input: string[], out: TransportKind | "null", onLuma?: (luma: Uint8Array, index: number) => void): Promise<{ ffmpegMs: number; readerMs: number; frames: number }> {
  const head = ["-hide_banner", "-nostdin", "-loglevel", "info", "-benchmark", ...input, "-stream_loop", String(loops - 1), "-i", clip, "-an"];
  let err = "";
  let frames = 0;
  const c0 = process.cpuUsage();
  if (out !== "null") {
    // Our output path, into one recycled buffer (the gateway recycles its frame buffers).
    const buf = new Uint8Array(1920 * 1080);
    const { proc, exited } = await readFrames([...head, "-vf", "format=pix_fmts=yuv420p|yuvj420p|nv12,extractplanes=y", "-fps_mode", "passthrough", "-f", "rawvideo"], out, { frameBytes: 1920 * 1080, lumaBytes: 1920 * 1080 }, (l) => onLuma?.(l, frames++), () => buf);
    proc.stderr.on("data", (c) => (err += Buffer.from(c).toString()));
    await exited;
  } else {
    const p = spawn("ffmpeg", [...head, "-f", "null", "-"], { stdio: ["ignore", "ignore", "pipe"] });
    p.stderr.on("data", (c: Buffer) => (err += c.toString()));
    await new Promise((r) => p.once("exit", r));
  }
  const c1 = process.cpuUsage(c0);
  const m = /utime=([\d.]+)s stime=([\d.]+)s/.exec(err);
  const ffmpegS = m ? Number(m[1]) + Number(m[2]) : NaN;
  return { ffmpegMs: ffmpegS * 1000, readerMs: out !== "null" ? usageMs(c1) : 0, frames };
}

/**
 * Decoder options per 1080p frame, interleaved, median of 3: bare decode (ffmpeg's defaults, and
 * -threads 1), our path (`shipped`) with -threads 1 (the default) and with -skip_loop_filter, and the
 * default over the pipe (the fallback transport); and whether
 * skipping the loop filter costs reads: the cascade on every shown frame of the real-photo clip.
 */
export async function decoderTable(shipped: TransportKind): Promise<DecoderRow[]> {
  const clip = await makeQrClip({ width: 1920, height: 1080, fps: 15, segments: [{ text: "BENCH-1920x1080", seconds: 5 }, { seconds: 5 }], noise: 6 });
  const frames = 150 * 2;
  const variants: Array<{ name: string; input: string[]; out: TransportKind | "null" }> = [
    { name: "bare -f null (ffmpeg defaults)", input: [], out: "null" },
    { name: "bare -f null -threads 1", input: ["-threads", "1"], out: "null" },
    { name: "ours: -threads 1, loop filter on", input: ["-threads", "1"], out: shipped },
    { name: "ours: ffmpeg default threads", input: [], out: shipped },
    { name: "ours: -threads 1 -skip_loop_filter all (default)", input: ["-threads", "1", "-skip_loop_filter", "all"], out: shipped },
    { name: "ours over the pipe (fallback transport), default flags", input: ["-threads", "1", "-skip_loop_filter", "all"], out: "pipe" },
  ];
  const samples = new Map<string, Array<{ ffmpegMs: number; readerMs: number }>>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < 3; round++)
    for (const v of variants) {
      const r = await decodeRun(clip, 2, v.input, v.out);
      samples.get(v.name)!.push({ ffmpegMs: r.ffmpegMs / frames, readerMs: r.readerMs / frames });
    }
  const rows: DecoderRow[] = variants.map((v) => {
    const s = samples.get(v.name)!;
    return { name: v.name, ffmpegMs: summarize(s.map((x) => x.ffmpegMs)).median, readerMs: summarize(s.map((x) => x.readerMs)).median, totalMs: summarize(s.map((x) => x.ffmpegMs + x.readerMs)).median };
  });
  // Read rate with and without the loop filter, on real photos through H.264 (when present).
  const dir = photoDir();
  if (dir) {
    const photos = listPhotos(dir);
    const k = Math.max(1, Math.floor(photos.length / 16));
    const pc = await makePhotoClip(photos.filter((_, i) => i % k === 0).slice(0, 16), { width: 1920, height: 1080, fps: 15, showS: 1.2, gapS: 2.8 });
    const mod = await loadReaderModule(readVerifiedWasm());
    const img = new HeapImage(mod);
    const costs = new PassCosts();
    const cfg = decodeSection.parse({});
    for (const [name, input] of [["ours: -threads 1, loop filter on", ["-threads", "1"]], ["ours: -threads 1 -skip_loop_filter all (default)", ["-threads", "1", "-skip_loop_filter", "all"]]] as const) {
      let shown = 0, read = 0;
      await decodeRun(pc.path, 1, [...input], shipped, (luma, i) => {
        if (!pc.shows.some(([a, b]) => i >= a && i < b)) return;
        shown++;
        if (runStrategy(img, { frame: { width: 1920, height: 1080, stride: 1920, data: luma }, passes: cfg.passes, budgetMs: cfg.budgetMs }, costs).codes.length > 0) read++;
      });
      const row = rows.find((r) => r.name === name)!;
      row.read = `${read}/${shown}`;
    }
  }
  return rows;
}
