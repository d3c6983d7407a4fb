import { z } from "zod";

/** At most 64: the snapshot and status routes take at most that. */
const idPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The substream: its own URL and size (usually 640x360 at 5-15 fps on the camera's second encoder). */
export const subStreamSchema = z.strictObject({
  url: z.string().describe("rtsp:// or rtsps:// URL of the substream; credentials come from the camera's username/password (embedded ones are accepted but always masked)."),
  width: z.number().int().min(16).max(7680).default(640).describe("Frame width read from the substream (ffmpeg scales if the stream differs)."),
  height: z.number().int().min(16).max(4320).default(360).describe("Frame height read from the substream."),
  fps: z.number().min(0.5).max(60).default(5).describe("The substream's frame rate (set it on the camera; the watchdog uses it)."),
});

export const cameraSchema = z
  .strictObject({
    id: z.string().regex(idPattern, "letters, digits, _ and -, at most 64").describe("Camera id, unique in this gateway (letters, digits, _ and -, at most 64)."),
    lane: z.string().regex(idPattern).describe("Lane this camera watches; several cameras may share a lane."),
    source: z.enum(["rtsp", "file"]).default("rtsp").describe("rtsp: a network camera; file: a local clip looped in real time."),
    url: z.string().optional().describe("rtsp:// URL. Credentials belong in username/password; embedded ones are accepted but always masked."),
    username: z.string().optional().describe("Camera user; use ${ENV}."),
    password: z.string().optional().describe("Camera password; use ${ENV}."),
    file: z.string().optional().describe("Clip path for source: file."),
    width: z.number().int().min(16).max(7680).default(1920).describe("Frame width delivered to the decoder (ffmpeg scales if needed)."),
    height: z.number().int().min(16).max(4320).default(1080).describe("Frame height delivered to the decoder."),
    fps: z.number().min(0.5).max(60).default(15).describe("Expected frame rate; the watchdog and stats use it."),
    transport: z.enum(["tcp", "udp"]).default("tcp").describe("RTSP transport."),
    subStream: subStreamSchema.optional().describe("The camera's low-resolution substream: watched all the time for activity, so the main stream (url) runs only while something happens (mainStream: on-activity). Same credentials as url (username/password), masked the same way. See docs/ingest.md \"Substream\"."),
    mainStream: z
      .enum(["always", "on-activity"])
      .optional()
      .describe("always: the main stream runs all the time (a subStream is then not opened). on-activity: the substream always runs; the main stream (read for codes) starts when the substream shows activity and stops after warmHoldMs without any. Default: on-activity when subStream is set, else always."),
    warmHoldMs: z.number().int().min(1000).default(60000).describe("With mainStream on-activity: how long the main stream stays up after the substream's last activity. A traveller after a quieter gap waits for its start-up (2-3 s)."),
    startupGraceMs: z.number().int().min(500).default(10000).describe("Time allowed for the first frame after (re)start."),
    stallTimeoutMs: z.number().int().min(200).default(3000).describe("No frame for this long in steady state means stalled: the process is killed and restarted."),
    pictureCheckS: z
      .number()
      .int()
      .min(0)
      .max(3600)
      .default(20)
      .describe("A camera whose frames keep coming but whose picture stays exactly the same (FROZEN: a hung encoder) or has no structure (BLANK: a covered lens, a black sensor) for this long is reported; when every delivering camera of a lane is, the lane goes out of service (CAMERAS_BLIND). 0 = off (a camera whose smart codec repeats a still scene exactly can look frozen). See docs/ingest.md \"Picture check\"."),
    frameTransport: z
      .enum(["auto", "socket", "pipe"])
      .default("auto")
      .describe("How raw frames travel from ffmpeg (docs/ingest.md \"Frame transport\"). socket: a private Unix socket read straight into the frame buffer (less reader CPU; ffmpeg's own writes cost more while the gateway is busy); pipe: ffmpeg's stdout; auto: the measured default (docs/ingest.md)."),
    pixelFormat: z.enum(["yplane", "yuv420p", "gray"]).default("yplane").describe("What ffmpeg writes to the pipe. yplane: the Y plane of the decoded yuv420p picture (extractplanes, no colour conversion, w*h bytes); yuv420p: the whole picture (1.5x bytes, Y plane handed on); gray: a swscale conversion. yplane measured cheapest (bench:ingest, docs/ingest.md)."),
    killGraceMs: z.number().int().min(50).default(2000).describe("After SIGTERM, wait this long before SIGKILL (ffmpeg ignores SIGTERM on a stalled input)."),
    backoffInitialMs: z.number().int().min(10).default(500).describe("First restart delay; doubles per failed attempt, reset by the first good frame."),
    backoffMaxMs: z.number().int().min(10).default(3000).describe("Cap of the restart delay. Kept short so a camera is back within a few seconds of its server."),
    backoffJitter: z.number().min(0).max(1).default(0.2).describe("Relative jitter (+/-) on each restart delay, so cameras behind one switch do not reconnect in lockstep."),
    restartBudget: z.number().int().min(1).default(10).describe("Restarts allowed within restartWindowMs before the camera is marked failed (GW_CAMERA_FAILED)."),
    restartWindowMs: z.number().int().min(1000).default(300000).describe("Window of the restart budget."),
    failedRetryMs: z.number().int().min(100).default(15000).describe("Retry interval while the camera is marked failed."),
    ffmpegPath: z.string().min(1).default("ffmpeg").describe("ffmpeg executable."),
    hwaccel: z
      .enum(["none", "vaapi", "qsv", "cuda"])
      .default("none")
      .describe("Hardware video decode: vaapi (Intel/AMD, -hwaccel vaapi -hwaccel_device DEVICE), qsv (Intel Quick Sync, -hwaccel qsv -qsv_device DEVICE), cuda (NVIDIA, -hwaccel cuda). Frames come back as NV12 and only their Y plane is read. The device must be reachable (systemd: DeviceAllow=/dev/dri). See docs/ingest.md."),
    hwaccelDevice: z.string().min(1).optional().describe("Device for hwaccel: default /dev/dri/renderD128 for vaapi and qsv; the GPU index for cuda (default: ffmpeg's choice)."),
    inputArgs: z
      .union([z.enum(["preset-rtsp-generic", "preset-rtsp-restream", "preset-rtsp-udp"]), z.array(z.string()).min(1)])
      .default("preset-rtsp-generic")
      .describe("ffmpeg input options before -i, as Frigate's presets: preset-rtsp-generic (low delay, short probe, TCP unless transport is udp, 5 s socket timeout), preset-rtsp-restream (go2rtc on the same host: TCP, 10 s timeout), preset-rtsp-udp (UDP with a 4 MB socket buffer); or a list of arguments used verbatim (no -i). Exact arguments: docs/ingest.md."),
    decodeThreads: z.number().int().min(0).max(16).default(1).describe("ffmpeg decoder threads (-threads; 0 = ffmpeg's choice). One thread decodes 1080p H.264 in ~6 ms per frame and costs least CPU (bench:ingest); raise it only for 4K or high frame rates."),
    skipLoopFilter: z.boolean().default(true).describe("Skip H.264 deblocking (-skip_loop_filter all): ~12-15% less decode CPU, and the cascade read the same number of real-photo frames with and without it (bench:ingest, docs/ingest.md). Blockier snapshots at low bitrates; set false if a camera's codes read worse."),
  })
  .superRefine((c, ctx) => {
    if (c.source === "rtsp" && !c.url) ctx.addIssue({ code: "custom", path: ["url"], message: "required when source is rtsp", input: c.url });
    if (c.source === "file" && !c.file) ctx.addIssue({ code: "custom", path: ["file"], message: "required when source is file", input: c.file });
    for (const [path, v] of [[["url"], c.url], [["subStream", "url"], c.subStream?.url]] as const) {
      if (v !== undefined && c.source === "rtsp" && !/^rtsps?:\/\/[^\s]+$/i.test(v)) ctx.addIssue({ code: "custom", path: [...path], message: "must be an rtsp:// or rtsps:// URL", input: "(masked)" });
    }
    if (c.mainStream === "on-activity" && !c.subStream) ctx.addIssue({ code: "custom", path: ["mainStream"], message: "on-activity needs a subStream to watch", input: c.mainStream });
    if (c.subStream && c.source !== "rtsp") ctx.addIssue({ code: "custom", path: ["subStream"], message: "only for source: rtsp", input: c.source });
    if (c.subStream && c.pixelFormat !== "gray" && (c.subStream.width % 2 !== 0 || c.subStream.height % 2 !== 0)) ctx.addIssue({ code: "custom", path: ["subStream", "width"], message: "width and height must be even unless pixelFormat is gray", input: `${c.subStream.width}x${c.subStream.height}` });
    if (c.pixelFormat !== "gray" && (c.width % 2 !== 0 || c.height % 2 !== 0)) ctx.addIssue({ code: "custom", path: ["width"], message: "width and height must be even unless pixelFormat is gray", input: `${c.width}x${c.height}` });
    if (Array.isArray(c.inputArgs) && c.inputArgs.some((a) => a === "-i" || /^[a-z][a-z0-9+.-]*:\/\//i.test(a))) ctx.addIssue({ code: "custom", path: ["inputArgs"], message: "input options only: no -i and no URL (the camera URL goes in url)", input: "(masked)" });
    if (Array.isArray(c.inputArgs) && c.inputArgs.length % 2 !== 0) ctx.addIssue({ code: "custom", path: ["inputArgs"], message: "must be option/value pairs (for example [\"-rtsp_transport\", \"tcp\"])", input: c.inputArgs.length });
    if (c.backoffMaxMs < c.backoffInitialMs) ctx.addIssue({ code: "custom", path: ["backoffMaxMs"], message: "must be >= backoffInitialMs", input: c.backoffMaxMs });
  });

export const camerasSection = z.array(cameraSchema).default([]).describe("Cameras; each runs its own supervised ffmpeg.");
export type CameraConfig = z.infer<typeof cameraSchema>;
export type SubStreamConfig = z.infer<typeof subStreamSchema>;

/** The main-stream policy in force: on-activity when a substream is set and the policy is not given. */
export function mainStreamPolicy(c: Pick<CameraConfig, "mainStream" | "subStream">): "always" | "on-activity" {
  return c.mainStream ?? (c.subStream ? "on-activity" : "always");
}
