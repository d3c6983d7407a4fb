import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { serverScript } from "./paths.js";

export interface RtspServerOptions {
  /** MPEG-TS clip (H.264) looped in real time as the camera picture; see makeQrClip. */
  clip: string;
  /** Mount path; default /cam. */
  mount?: string;
  /** Fixed RTSP port; default: a free one chosen by the server (kept across restart()). */
  port?: number;
}

export interface RtspServer {
  /** rtsp://127.0.0.1:PORT/cam */
  readonly url: string;
  readonly port: number;
  /**
   * performance.now() when frame 0 of the current feed was due (clip frame k of loop L is sent at
   * feedStartedAt + (L*frames + k)/fps). Estimated from the feed's progress reports, to within
   * ~1 frame interval; Infinity until the first report (~0.1 s after start).
   */
  readonly feedStartedAt: number;
  /** Graceful: SIGTERM to the server and the feed; resolves when both have exited. */
  stop(): Promise<void>;
  /** Abrupt: SIGKILL to the server and the feed (a camera losing power). */
  kill(): Promise<void>;
  /** Starts server and feed again on the same port (after kill() or stop()). */
  restart(): Promise<void>;
  /** Freezes the picture while the RTSP session stays up (SIGSTOP to the feed). */
  freeze(): void;
  /** Resumes the feed; like a real camera, it first bursts the frames it owes (ffmpeg -re catch-up). */
  unfreeze(): void;
  /** Pids of the server and feed processes currently running. */
  pids(): number[];
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.bind(0, "127.0.0.1", () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function exited(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once("exit", () => r()));
}

function startServerProcess(port: number, udpPort: number, mount: string): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn("/usr/bin/python3", [serverScript(), "--port", String(port), "--udp-port", String(udpPort), "--mount", mount], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stderr!.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`RTSP server did not start: ${err}`));
    }, 30_000);
    proc.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]) });
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`RTSP server exited (${code}) before READY: ${err}`));
    });
  });
}

/**
 * The feed: ffmpeg -re loops the clip into the server's UDP port. It reports its output time
 * (-progress); `onClock` gets (wall time now - output time), whose minimum estimates when
 * frame 0 was due, i.e. the camera clock for delay measurements.
 */
function startFeed(clip: string, udpPort: number, onClock: (startEstimate: number) => void): ChildProcess {
  // -re paces reading in real time; MPEG-TS loops cleanly where mp4 does not.
  const p = spawn(
    "ffmpeg",
    ["-hide_banner", "-nostdin", "-loglevel", "error", "-progress", "pipe:1", "-stats_period", "0.1", "-re", "-stream_loop", "-1", "-i", clip, "-an", "-c", "copy", "-f", "rtp", `rtp://127.0.0.1:${udpPort}?pkt_size=1200`],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  let buf = "";
  p.stdout!.on("data", (c: Buffer) => {
    const now = performance.now();
    buf += c.toString();
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const l of lines) {
      const m = /^out_time_us=(\d+)/.exec(l);
      if (m) onClock(now - Number(m[1]) / 1000);
    }
  });
  return p;
}

/**
 * Starts a GStreamer RTSP server on 127.0.0.1 fed by a looped clip. The caller must call
 * stop() (use afterAll/afterEach); the server also exits when this process dies.
 */
export async function startRtspServer(opts: RtspServerOptions): Promise<RtspServer> {
  const mount = opts.mount ?? "/cam";
  const udpPort = await freeUdpPort();
  let server: ChildProcess | undefined;
  let feed: ChildProcess | undefined;
  let port = opts.port ?? 0;
  let feedStartedAt = 0;

  const up = async () => {
    const s = await startServerProcess(port, udpPort, mount);
    server = s.proc;
    port = s.port;
    feedStartedAt = Number.POSITIVE_INFINITY;
    const spawnedAt = performance.now();
    feed = startFeed(opts.clip, udpPort, (est) => {
      // Output time lags wall time by up to a frame; the smallest lag is the best estimate.
      if (est >= spawnedAt && est < feedStartedAt) feedStartedAt = est;
    });
  };
  const down = async (signal: NodeJS.Signals) => {
    const s = server;
    const f = feed;
    server = undefined;
    feed = undefined;
    // A stopped feed would ignore SIGTERM until continued.
    f?.kill("SIGCONT");
    f?.kill(signal);
    s?.kill(signal);
    await Promise.all([exited(s), exited(f)]);
  };
  await up();

  return {
    get url() {
      return `rtsp://127.0.0.1:${port}${mount}`;
    },
    get port() {
      return port;
    },
    get feedStartedAt() {
      return feedStartedAt;
    },
    stop: () => down("SIGTERM"),
    kill: () => down("SIGKILL"),
    restart: async () => {
      await down("SIGKILL");
      await up();
    },
    freeze: () => void feed?.kill("SIGSTOP"),
    unfreeze: () => void feed?.kill("SIGCONT"),
    pids: () => [server?.pid, feed?.pid].filter((p): p is number => p !== undefined),
  };
}
