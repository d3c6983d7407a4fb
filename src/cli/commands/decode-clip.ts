/**
 * `decode [--json] CLIP.ts|CLIP.mp4`: runs a video file through the camera path and reports when
 * each code was first read. Frames come from the cameras' own ffmpeg frame source (the `file`
 * source's command line read once at decode speed, `FrameSlicer` on the Y plane); each frame goes
 * to a `DecodePool` with the config's camera defaults (passes, budget, cross-frame tracking).
 *
 * Timing model (live replay, the default): frame i is "received" at its presentation time
 * t_i = i / fps (media time from the clip's first frame). One worker serves the clip as in the
 * daemon, latest frame wins: when the worker becomes free it takes the newest frame received so
 * far, and the frames it skipped are dropped (listed as such). A code's `firstReadMs` is the
 * moment the worker finished the frame that read it: t_i plus the wait for the worker plus that
 * frame's decode time, so **decode processing time is included**. Not included: ffmpeg's own
 * H.264 decode of the frame (~10 ms at 1080p, in its own process, pipelined) and the
 * camera-to-gateway delay of a live stream. `--every-frame` decodes every frame instead (no
 * drops; then firstReadMs = t_i + decode time of that frame, without waiting).
 */
import { spawnSync } from "node:child_process";
import { basename, dirname, extname, join } from "node:path";
import { decodeSection } from "../../decode/options.js";
import { DecodePool } from "../../decode/index.js";
import { ffmpegArgs, frameLayout, FrameSlicer, nodeSpawner } from "../../ingest/index.js";
import type { DecodedCode, DecodeResult } from "../../core/types.js";
import { GatewayError } from "../../core/errors.js";

export const VIDEO_EXTENSIONS = [".ts", ".mts", ".m2ts", ".mp4", ".m4v", ".mkv", ".mov"];

export function isVideoFile(path: string): boolean {
  return VIDEO_EXTENSIONS.includes(extname(path).toLowerCase());
}

export interface ClipFrameLine {
  frame: number;
  /** Presentation time from the clip's first frame. */
  mediaMs: number;
  /** Live replay: the frame was superseded by a newer one before a worker was free. */
  dropped?: boolean;
  /** When the worker started and finished this frame (same clock as mediaMs). */
  startMs?: number;
  doneMs?: number;
  decodeMs?: number;
  cpuMs?: number;
  passes?: string[];
  foundBy?: string;
  codes: DecodedCode[];
  error?: string;
}

export interface ClipCodeSummary {
  text: string;
  firstFrame: number;
  /** Presentation time of the first frame that read it. */
  firstMediaMs: number;
  /** When that frame's decode finished: processing included (see the module comment). */
  firstReadMs: number;
  /** Frames that read it. */
  frames: number;
}

export interface ClipSummary {
  frames: number;
  /** Frames the decoder ran on without an error. */
  decoded: number;
  dropped: number;
  /** Frames the decoder could not take (bad frame, worker crash, deadline), by error code in `errors`. */
  failed: number;
  errors?: Record<string, number>;
  fps: number;
  width: number;
  height: number;
  durationMs: number;
  mode: "live" | "every-frame";
  clock: "wall" | "cpu";
  decodeMs: { mean: number; max: number };
  /** Mean worker-thread CPU time per decoded frame (0 when the runtime cannot tell). */
  cpuMs: { mean: number };
  codes: ClipCodeSummary[];
  /** True when the run stopped early (stopWhen). */
  stoppedEarly: boolean;
  timing: string;
}

export const TIMING_NOTE_LIVE =
  "firstReadMs = when the worker finished the first frame that read the code, on the clip's media clock (frame i received at i/fps, one worker, latest frame wins): decode processing and waiting for the worker included; ffmpeg's H.264 decode and network delay not included.";
export const TIMING_NOTE_EVERY =
  "firstReadMs = media time of the first frame that read the code + that frame's decode time; every frame decoded, no waiting or drops modelled; ffmpeg's H.264 decode not included.";

export interface ClipProbe {
  width: number;
  height: number;
  fps: number;
}

/** Size and frame rate from ffprobe (shipped with ffmpeg, found next to it when a path is given). */
export function probeClip(file: string, ffmpegPath = "ffmpeg"): ClipProbe {
  const ffprobe = ffmpegPath.includes("/") ? join(dirname(ffmpegPath), basename(ffmpegPath).replace(/ffmpeg/, "ffprobe")) : "ffprobe";
  const r = spawnSync(ffprobe, ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,avg_frame_rate,r_frame_rate", "-of", "json", file], { encoding: "utf8", timeout: 30_000 });
  if (r.error) throw new GatewayError("GW_VIDEO_UNREADABLE", `cannot run ffprobe: ${r.error.message}`);
  const s = (() => {
    try {
      return (JSON.parse(r.stdout) as { streams?: { width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string }[] }).streams?.[0];
    } catch {
      return undefined;
    }
  })();
  if (r.status !== 0 || !s?.width || !s.height) throw new GatewayError("GW_VIDEO_UNREADABLE", `not a readable video: ${(r.stderr || "no video stream").trim().split("\n")[0]}`);
  const rate = (v?: string) => {
    const [n, d] = (v ?? "").split("/").map(Number);
    return n && d ? n / d : NaN;
  };
  const fps = [rate(s.avg_frame_rate), rate(s.r_frame_rate)].find((v) => Number.isFinite(v) && v > 0 && v <= 240);
  if (!fps) throw new GatewayError("GW_VIDEO_UNREADABLE", "video has no usable frame rate");
  return { width: s.width, height: s.height, fps };
}

export interface DecodeClipOptions {
  /** A pool to share (bench); otherwise one worker with the config's camera defaults is created. */
  pool?: DecodePool;
  /** Camera id for the pool (per-camera slot, hints and tracks): unique per concurrent clip. */
  cameraId?: string;
  everyFrame?: boolean;
  /**
   * Which processing time advances the replay clock: the frame's measured decode time ("wall",
   * default: the truth of this run on this machine) or its worker-thread CPU time ("cpu": what the
   * frame costs on a core of its own, independent of other load on a shared machine).
   */
  clock?: "wall" | "cpu";
  ffmpegPath?: string;
  onFrame?: (line: ClipFrameLine) => void;
  /** Stop reading once this returns true for the codes read so far (bench: the expected text). */
  stopWhen?: (texts: ReadonlySet<string>) => boolean;
  /**
   * Submit frames as a lane camera does (the rig's path): view "none" until a code was read, then
   * "pending" (a presentation awaiting its verdict), so idle frames meet the pool's prefilter and
   * idle rationing. Absent: every frame is decoded as active (the decoder alone).
   */
  lane?: boolean;
}

/** Frames of a clip as they come out of the camera frame source, with back-pressure. */
class FrameQueue {
  private readonly frames: Uint8Array[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  constructor(private readonly pause: () => void, private readonly resume: () => void, private readonly high = 6) {}
  push(f: Uint8Array): void {
    this.frames.push(f);
    if (this.frames.length >= this.high) this.pause();
    this.wake?.();
  }
  end(err?: Error): void {
    this.ended = true;
    this.failure ??= err;
    this.wake?.();
  }
  /** The next frame, or undefined at the end of the clip. */
  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      const f = this.frames.shift();
      if (f) {
        if (this.frames.length < this.high / 2) this.resume();
        return f;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return undefined;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
  /** Whether a frame is available right now (without waiting). */
  get buffered(): number {
    return this.frames.length;
  }
  get done(): boolean {
    return this.ended;
  }
}

export async function decodeClip(file: string, opts: DecodeClipOptions = {}): Promise<ClipSummary> {
  const ffmpegPath = opts.ffmpegPath ?? "ffmpeg";
  const probe = probeClip(file, ffmpegPath);
  const cam = { source: "file" as const, file, width: probe.width - (probe.width % 2), height: probe.height - (probe.height % 2), transport: "tcp" as const, pixelFormat: "yplane" as const };
  const layout = frameLayout(cam.width, cam.height, cam.pixelFormat);
  // The pool first: one that cannot start (a wasm binary failing its checksum) must not leave an
  // ffmpeg running that nothing reads or kills (the command hung).
  const defaults = decodeSection.parse({});
  const pool = opts.pool ?? (await DecodePool.create({ workers: 1, deadlineMs: defaults.deadlineMs, budgetMs: defaults.budgetMs, passes: defaults.passes, escalateIntervalMs: defaults.escalateIntervalMs }));
  const proc = nodeSpawner(ffmpegPath, ffmpegArgs(cam, file, { once: true }));
  const stdout = proc.stdout as unknown as { pause?: () => void; resume?: () => void };
  const queue = new FrameQueue(() => stdout.pause?.(), () => stdout.resume?.());
  const slicer = new FrameSlicer(layout.frameBytes, layout.lumaBytes, (f) => queue.push(f));
  let stderr = "";
  proc.stdout!.on("data", (c) => slicer.push(c));
  proc.stderr.on("data", (c) => (stderr = (stderr + Buffer.from(c).toString()).slice(-2000)));
  proc.on("error", (e) => queue.end(new GatewayError("GW_VIDEO_UNREADABLE", `cannot run ffmpeg: ${e.message}`)));
  // 'close', not 'exit': 'exit' can come while the (paused) pipe still holds the last frames.
  const closable = proc as unknown as { on(e: "close", fn: (code: number | null, signal: NodeJS.Signals | null) => void): void };
  closable.on("close", (code, signal) => queue.end(code === 0 || signal ? undefined : new GatewayError("GW_VIDEO_UNREADABLE", `ffmpeg exited ${code}: ${stderr.trim().split("\n").pop() ?? ""}`)));

  const cameraId = opts.cameraId ?? "clip";
  const frameMs = 1000 / probe.fps;
  const firsts = new Map<string, ClipCodeSummary>();
  const texts = new Set<string>();
  let frames = 0, decoded = 0, dropped = 0, failed = 0, decodeSum = 0, decodeMax = 0, cpuSum = 0, stoppedEarly = false;
  /** Worker-free time on the media clock (live replay). */
  let workerFree = 0;
  const emit = (line: ClipFrameLine) => opts.onFrame?.(line);
  const errors: Record<string, number> = {};
  try {
    let index = 0;
    let frame = await queue.next();
    while (frame) {
      let i = index++;
      frames++;
      if (!opts.everyFrame) {
        // Latest frame wins: every frame received before the worker is free supersedes this one.
        while (workerFree >= index * frameMs) {
          const newer = await queue.next();
          if (!newer) break;
          emit({ frame: i, mediaMs: i * frameMs, dropped: true, codes: [] });
          dropped++;
          frame = newer;
          i = index++;
          frames++;
        }
      }
      const receivedAt = i * frameMs;
      const start = opts.everyFrame ? receivedAt : Math.max(receivedAt, workerFree);
      const r: DecodeResult | null = await pool.submit({ cameraId, seq: i, width: cam.width, height: cam.height, stride: cam.width, data: frame, receivedAt }, opts.lane ? { view: texts.size > 0 ? "pending" : "none" } : {});
      const decodeMs = r?.timings.decodeMs ?? 0;
      const cpuMs = r?.timings.cpuMs;
      const costMs = opts.clock === "cpu" ? (cpuMs ?? decodeMs) : decodeMs;
      const done = start + costMs;
      workerFree = done;
      // null: filtered out before a worker (lane mode: no finder pattern on an idle camera).
      if (r?.error) {
        failed++;
        errors[r.error.code] = (errors[r.error.code] ?? 0) + 1;
      } else if (r) decoded++;
      decodeSum += decodeMs;
      decodeMax = Math.max(decodeMax, decodeMs);
      cpuSum += cpuMs ?? 0;
      const codes = r?.codes ?? [];
      emit({
        frame: i, mediaMs: receivedAt, startMs: start, doneMs: done, decodeMs, ...(cpuMs !== undefined ? { cpuMs } : {}), passes: r?.timings.passes ?? [], codes,
        ...(r?.timings.foundBy ? { foundBy: r.timings.foundBy } : {}), ...(r?.error ? { error: r.error.code } : {}),
      });
      for (const c of codes) {
        texts.add(c.text);
        const s = firsts.get(c.text);
        if (s) s.frames++;
        else firsts.set(c.text, { text: c.text, firstFrame: i, firstMediaMs: receivedAt, firstReadMs: done, frames: 1 });
      }
      if (opts.stopWhen?.(texts)) {
        stoppedEarly = !queue.done || queue.buffered > 0;
        break;
      }
      frame = await queue.next();
    }
  } finally {
    proc.kill("SIGKILL");
    if (!opts.pool) await pool.close();
  }
  return {
    frames, decoded, dropped, failed, ...(failed > 0 ? { errors } : {}), fps: probe.fps, width: cam.width, height: cam.height, durationMs: frames * frameMs,
    mode: opts.everyFrame ? "every-frame" : "live",
    clock: opts.clock ?? "wall",
    decodeMs: { mean: decoded ? decodeSum / decoded : 0, max: decodeMax },
    cpuMs: { mean: decoded ? cpuSum / decoded : 0 },
    codes: [...firsts.values()].sort((a, b) => a.firstReadMs - b.firstReadMs),
    stoppedEarly,
    timing: (opts.everyFrame ? TIMING_NOTE_EVERY : TIMING_NOTE_LIVE) + (opts.clock === "cpu" ? " Processing time = the worker thread's CPU time per frame (--cpu-clock), not wall time." : ""),
  };
}

const r2 = (v: number) => Math.round(v * 100) / 100;

function codeJson(c: DecodedCode) {
  return { text: c.text, bytesBase64: Buffer.from(c.bytes).toString("base64"), format: c.format, corners: c.corners.map(([x, y]) => [Math.round(x * 10) / 10, Math.round(y * 10) / 10]) };
}

/** The CLI side: one line per frame, then one summary line (JSON or text). Returns the exit code. */
export async function decodeClipCommand(file: string, json: boolean, everyFrame: boolean, cpuClock = false): Promise<number> {
  const out = (s: string) => process.stdout.write(s + "\n");
  try {
    const summary = await decodeClip(file, {
      everyFrame,
      clock: cpuClock ? "cpu" : "wall",
      onFrame: (l) => {
        if (json) {
          out(JSON.stringify({
            file, frame: l.frame, mediaMs: r2(l.mediaMs),
            ...(l.dropped ? { dropped: true } : { doneMs: r2(l.doneMs ?? 0), decodeMs: r2(l.decodeMs ?? 0), ...(l.cpuMs !== undefined ? { cpuMs: r2(l.cpuMs) } : {}), passes: l.passes, ...(l.foundBy ? { foundBy: l.foundBy } : {}) }),
            ...(l.error ? { error: l.error } : {}),
            codes: l.codes.map(codeJson),
          }));
        } else if (l.codes.length > 0) {
          out(`${file} frame ${l.frame} (${l.mediaMs.toFixed(0)} ms): ${l.codes.map((c) => c.text).join(" | ")}`);
        }
      },
    });
    const s = { ...summary, decodeMs: { mean: r2(summary.decodeMs.mean), max: r2(summary.decodeMs.max) }, cpuMs: { mean: r2(summary.cpuMs.mean) }, durationMs: r2(summary.durationMs), codes: summary.codes.map((c) => ({ ...c, firstMediaMs: r2(c.firstMediaMs), firstReadMs: r2(c.firstReadMs) })) };
    if (json) out(JSON.stringify({ file, summary: s }));
    else {
      out(`${file}: ${s.frames} frames (${s.dropped} dropped${s.failed ? `, ${s.failed} failed: ${Object.entries(s.errors ?? {}).map(([c, n]) => `${c} x${n}`).join(", ")}` : ""}) at ${s.fps} fps, ${s.width}x${s.height}, ${s.codes.length} code(s), mean decode ${s.decodeMs.mean} ms`);
      for (const c of s.codes) out(`  first read at ${c.firstReadMs} ms (frame ${c.firstFrame}, media ${c.firstMediaMs} ms), in ${c.frames} frame(s): ${c.text}`);
      out(`  ${s.timing}`);
    }
    // A clip none of whose frames could be decoded was not read: "0 codes" would say it holds none.
    if (s.failed > 0 && s.decoded === 0) {
      process.stderr.write(`${file}: no frame could be decoded (${Object.keys(s.errors ?? {}).join(", ")})\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    const message = `${err.code ?? "GW_VIDEO_UNREADABLE"}: ${err.message ?? String(e)}`;
    if (json) out(JSON.stringify({ file, error: message }));
    else process.stderr.write(`${file}: ${message}\n`);
    return 1;
  }
}
