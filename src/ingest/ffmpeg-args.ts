import type { CameraConfig } from "./types.js";

/** Bytes ffmpeg writes per frame, and how many of them (the first) form the luminance plane. */
export function frameLayout(width: number, height: number, pixelFormat: "yplane" | "yuv420p" | "gray"): { frameBytes: number; lumaBytes: number } {
  const luma = width * height;
  if (pixelFormat !== "yuv420p") return { frameBytes: luma, lumaBytes: luma };
  const chroma = Math.ceil(width / 2) * Math.ceil(height / 2);
  return { frameBytes: luma + 2 * chroma, lumaBytes: luma };
}

type ArgsCamera = Pick<CameraConfig, "source" | "file" | "width" | "height" | "transport" | "pixelFormat">;

/**
 * The ffmpeg command line (pure). Why each flag:
 * - nobuffer/low_delay: ~155-355 ms camera->frame instead of ~490 ms plus a 2 s start burst (field notes).
 * - probesize 500 kB / analyzeduration 0.5 s: measured ~2.0 s to first byte against 3.1 s with 1 s
 *   (and 3.0 s with 0, which means "default"); see docs/ingest.md.
 * - -timeout (µs): the RTSP socket gives up on a dead server instead of hanging forever.
 * - -fps_mode passthrough: never let ffmpeg duplicate frames to fill a gap (that is the burst of old frames).
 * - format=yuv420p|yuvj420p: accept either range without a conversion pass; extractplanes=y then
 *   sends only the Y plane (the gray image) down the pipe: no swscale pass, a third of the bytes.
 * `once` (file source only, for `decode CLIP`): read the file once at decode speed instead of
 * looping it in real time; everything after the input is the camera's command line.
 */
export function ffmpegArgs(cam: ArgsCamera, url: string, opts: { once?: boolean } = {}): string[] {
  const input: string[] = [];
  if (cam.source === "file") {
    if (opts.once) input.push("-i", cam.file ?? "");
    else input.push("-re", "-stream_loop", "-1", "-i", cam.file ?? "");
  } else {
    input.push("-rtsp_transport", cam.transport, "-timeout", "5000000");
    // Over UDP an I-frame arrives as hundreds of datagrams at once; the default socket buffer
    // overflowed on the test server (RcvbufErrors), losing frames until the next keyframe.
    if (cam.transport === "udp") input.push("-buffer_size", "4194304");
    input.push("-i", url);
  }
  const format =
    cam.pixelFormat === "gray" ? "format=gray" : cam.pixelFormat === "yuv420p" ? "format=pix_fmts=yuv420p|yuvj420p" : "format=pix_fmts=yuv420p|yuvj420p,extractplanes=y";
  return [
    "-hide_banner", "-nostdin", "-loglevel", "warning",
    "-fflags", "nobuffer", "-flags", "low_delay",
    "-probesize", "500000", "-analyzeduration", "500000",
    ...input,
    "-an", "-sn", "-dn",
    "-vf", `scale=${cam.width}:${cam.height},${format}`,
    "-fps_mode", "passthrough",
    "-f", "rawvideo", "pipe:1",
  ];
}
