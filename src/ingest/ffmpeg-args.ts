import { maskUrl } from "../core/mask.js";
import type { CameraConfig } from "./types.js";

/** Bytes ffmpeg writes per frame, and how many of them (the first) form the luminance plane. */
export function frameLayout(width: number, height: number, pixelFormat: "yplane" | "yuv420p" | "gray"): { frameBytes: number; lumaBytes: number } {
  const luma = width * height;
  if (pixelFormat !== "yuv420p") return { frameBytes: luma, lumaBytes: luma };
  const chroma = Math.ceil(width / 2) * Math.ceil(height / 2);
  return { frameBytes: luma + 2 * chroma, lumaBytes: luma };
}

type ArgsCamera = Pick<CameraConfig, "source" | "file" | "width" | "height" | "transport" | "pixelFormat"> &
  Partial<Pick<CameraConfig, "hwaccel" | "hwaccelDevice" | "inputArgs" | "decodeThreads" | "skipLoopFilter">>;

export type InputPreset = "preset-rtsp-generic" | "preset-rtsp-restream" | "preset-rtsp-udp";
export type Hwaccel = "none" | "vaapi" | "qsv" | "cuda";

/**
 * Input options per preset (named as Frigate names its presets, so a Frigate user knows them):
 * - generic: a camera on the network. nobuffer/low_delay: ~155-355 ms camera->frame instead of
 *   ~490 ms plus a 2 s start burst (field notes); probesize 500 kB / analyzeduration 0.5 s: ~2.0 s
 *   to the first byte against 3.1 s with 1 s (docs/ingest.md); -timeout (us): the RTSP socket
 *   gives up on a dead server instead of hanging; transport from `cameras[].transport`.
 * - restream: go2rtc (or another RTSP restreamer) on the same host: TCP, and a longer socket
 *   timeout because the restreamer itself waits for its camera on (re)start.
 * - udp: RTSP over UDP with a 4 MB socket buffer: a noisy 1080p I-frame arrives as hundreds of
 *   datagrams at once and overflowed the 208 kB default on the test server (RcvbufErrors).
 */
export function presetInputArgs(preset: InputPreset, transport: "tcp" | "udp"): string[] {
  const common = ["-fflags", "nobuffer", "-flags", "low_delay", "-probesize", "500000", "-analyzeduration", "500000"];
  if (preset === "preset-rtsp-restream") return [...common, "-rtsp_transport", "tcp", "-timeout", "10000000"];
  if (preset === "preset-rtsp-udp" || transport === "udp") return [...common, "-rtsp_transport", "udp", "-timeout", "5000000", "-buffer_size", "4194304"];
  return [...common, "-rtsp_transport", "tcp", "-timeout", "5000000"];
}

/**
 * Hardware decode (Frigate's preset-vaapi / preset-intel-qsv-h264 / preset-nvidia-h264, minus
 * the output format): frames are decoded on the GPU and downloaded to system memory as NV12,
 * whose first plane is the Y plane we need, so no scaling or colour pass runs on the CPU.
 * Untested on this project's machines (no GPU); the arguments are ffmpeg's documented ones.
 */
export function hwaccelArgs(hw: Hwaccel, device: string | undefined): string[] {
  switch (hw) {
    case "vaapi":
      return ["-hwaccel", "vaapi", "-hwaccel_device", device ?? "/dev/dri/renderD128"];
    case "qsv":
      return ["-hwaccel", "qsv", "-qsv_device", device ?? "/dev/dri/renderD128"];
    case "cuda":
      return ["-hwaccel", "cuda", ...(device ? ["-hwaccel_device", device] : [])];
    default:
      return [];
  }
}

/**
 * The ffmpeg command line (pure). `url` goes on the command line: only for URLs without
 * credentials (see ffmpegInvocation). Why each flag besides the input presets:
 * - -threads N (decoder): 1 by default; a 1080p H.264 stream decodes at ~6 ms/frame on one
 *   core, and each extra thread costs synchronisation (bench:ingest). low_delay already turns
 *   frame threading (N-1 frames of delay) off.
 * - -skip_loop_filter all (default, `skipLoopFilter`): ~12-15% less decode CPU; the cascade read
 *   as many real-photo frames with it as without (bench:ingest); blockier pictures at low bitrates.
 * - -fps_mode passthrough: never let ffmpeg duplicate frames to fill a gap (that is the burst of old frames).
 * - format=yuv420p|yuvj420p|nv12: accept either range and the hardware decoders' NV12 without a
 *   conversion pass; extractplanes=y then sends only the Y plane (the gray image) down the pipe:
 *   no swscale pass, a third of the bytes. scale= is a pass-through when the size already matches.
 * `once` (file source only, for `decode CLIP`): read the file once at decode speed instead of
 * looping it in real time; everything after the input is the camera's command line.
 * `output`: what follows `-f rawvideo`, from the frame transport (`pipe:1`, for both transports:
 * the socket transport makes that stdout a socket).
 */
export function ffmpegArgs(cam: ArgsCamera, url: string, opts: ArgsOptions = {}): string[] {
  return buildArgs(cam, cam.source === "file" ? [] : ["-i", url], opts);
}

export interface ArgsOptions {
  once?: boolean;
  output?: readonly string[];
}

function buildArgs(cam: ArgsCamera, inputTail: string[], opts: ArgsOptions = {}): string[] {
  const decoder: string[] = ["-threads", String(cam.decodeThreads ?? 1)];
  if (cam.skipLoopFilter) decoder.push("-skip_loop_filter", "all");
  const input: string[] = [];
  if (cam.source === "file") {
    if (opts.once) input.push(...decoder, "-i", cam.file ?? "");
    else input.push(...decoder, "-re", "-stream_loop", "-1", "-i", cam.file ?? "");
  } else {
    const preset = Array.isArray(cam.inputArgs) ? undefined : (cam.inputArgs ?? "preset-rtsp-generic");
    input.push(...hwaccelArgs(cam.hwaccel ?? "none", cam.hwaccelDevice), ...decoder);
    input.push(...(preset ? presetInputArgs(preset, cam.transport) : (cam.inputArgs as string[])), ...inputTail);
  }
  const format =
    cam.pixelFormat === "gray"
      ? "format=gray"
      : cam.pixelFormat === "yuv420p"
        ? "format=pix_fmts=yuv420p|yuvj420p"
        : "format=pix_fmts=yuv420p|yuvj420p|nv12,extractplanes=y";
  return [
    "-hide_banner", "-nostdin", "-loglevel", "warning",
    ...input,
    "-an", "-sn", "-dn",
    "-vf", `scale=${cam.width}:${cam.height},${format}`,
    "-fps_mode", "passthrough",
    "-f", "rawvideo", ...(opts.output ?? ["pipe:1"]),
  ];
}

export interface FfmpegInvocation {
  args: string[];
  /** Written to ffmpeg's stdin, then closed (the input description when it holds credentials). */
  stdin?: string;
}

/** Options only the RTSP demuxer knows (the concat demuxer would refuse them). */
const RTSP_ONLY = new Set(["rtsp_transport", "rtsp_flags", "timeout", "stimeout", "buffer_size", "allowed_media_types", "min_port", "max_port", "reorder_queue_size", "user_agent", "listen_timeout"]);

const HAS_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^@/]*@/i;

/** User info in the URL, or a query parameter the log masker treats as a secret (`?user=admin&password=...`, several camera makes). */
function holdsCredentials(url: string): boolean {
  return HAS_CREDENTIALS.test(url) || maskUrl(url) !== url;
}

/**
 * How to start ffmpeg for a camera. A URL with credentials (user info, or a secret query
 * parameter: whatever the log masker would hide) never goes on the command line
 * (`ps` and /proc/PID/cmdline show it to every local user): it is handed to ffmpeg's concat
 * demuxer as a one-entry ffconcat script on stdin (`-f concat -i pipe:0`), with the RTSP
 * options as the entry's `option` lines. ffmpeg 5.1 has no option to read a URL or an option
 * value from a file (ffmpeg 7 adds `-/opt file`), and the RTSP demuxer takes credentials only
 * in the URL. The script is not on disk; /proc/PID/environ is not used either.
 */
export function ffmpegInvocation(cam: ArgsCamera, url: string, output?: readonly string[]): FfmpegInvocation {
  const opts: ArgsOptions = output ? { output } : {};
  if (cam.source === "file" || !holdsCredentials(url)) return { args: ffmpegArgs(cam, url, opts) };
  const preset = Array.isArray(cam.inputArgs) ? undefined : (cam.inputArgs ?? "preset-rtsp-generic");
  const inputOpts = preset ? presetInputArgs(preset, cam.transport) : (cam.inputArgs as string[]);
  // RTSP options go to the inner input (the script's `option` lines), decoder flags to the outer
  // command; format options (fflags, probesize, analyzeduration) to both, since the concat layer
  // probes and buffers too.
  const inner: string[] = [];
  const outer: string[] = [];
  for (let i = 0; i < inputOpts.length; i += 2) {
    const k = inputOpts[i]!.replace(/^-/, "");
    const v = inputOpts[i + 1] ?? "";
    if (k !== "flags") inner.push(`option ${k} ${v}`);
    if (!RTSP_ONLY.has(k)) outer.push(`-${k}`, v);
  }
  const script = ["ffconcat version 1.0", `file ${quoteConcat(url)}`, ...inner, ""].join("\n");
  const args = buildArgs({ ...cam, inputArgs: outer }, ["-f", "concat", "-safe", "0", "-protocol_whitelist", "pipe,rtsp,rtsps,rtp,srtp,tcp,udp,tls,crypto,httpproxy", "-i", "pipe:0"], opts);
  return { args, stdin: script };
}

/** ffconcat quoting: single quotes, a quote written as '\'' (as in a shell). */
function quoteConcat(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}
