import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../core/clock.js";
import { FrameFiller } from "./frame-filler.js";
import type { FrameSink, FrameTransport } from "./transport.js";

/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;
/** While ffmpeg probes its input (1-3 s) its socket does not exist yet; a failed connect costs a few microseconds. */
export const CONNECT_RETRY_MS = 20;
/** "Not listening yet": ENOENT before ffmpeg's bind(), ECONNREFUSED between bind() and listen(). */
const NOT_YET = new Set(["ENOENT", "ECONNREFUSED"]);

export interface SocketTransportOptions {
  clock: Clock;
  /** Parent of the private socket directory; os.tmpdir() by default (private under systemd's PrivateTmp). */
  baseDir?: string;
  retryMs?: number;
}

/**
 * ffmpeg writes rawvideo to a Unix socket it listens on (`-f rawvideo -listen 1 unix:PATH`, one
 * connection), and the gateway connects with `net.connect({ path, onread })`: the kernel copies
 * each read straight into the current frame buffer (FrameFiller), with no Buffer per chunk, no
 * stream machinery and no copy in JS. That halves the reader's CPU against the stdout pipe
 * (bench:ingest, docs/ingest.md).
 *
 * The socket lives in a directory of its own (mkdtemp: mode 0700, so no other local user can
 * connect and read the camera), created per process and removed at close, whatever ffmpeg left.
 * ffmpeg binds only after probing its input, so the connect is retried every CONNECT_RETRY_MS
 * while the socket does not exist or does not accept yet; the supervisor's start-up watchdog
 * bounds that. Any other connect error goes to `sink.onError` (the supervisor restarts the process).
 * Once connected, EOF and errors only stop the reading: the process's exit (or the watchdog) is
 * what the supervisor acts on, as with the pipe.
 *
 * Throws when no socket can be set up here (path too long, directory not creatable); the caller
 * then uses the pipe.
 */
export function socketTransport(sink: FrameSink, opts: SocketTransportOptions): FrameTransport {
  const base = opts.baseDir ?? tmpdir();
  // mkdtemp appends 6 characters to the prefix.
  if (Buffer.byteLength(join(base, "cpgw-XXXXXX", "ffmpeg.sock")) > MAX_SOCKET_PATH) throw new Error(`socket path under ${base} would exceed ${MAX_SOCKET_PATH} bytes`);
  const dir = mkdtempSync(join(base, "cpgw-"));
  const path = join(dir, "ffmpeg.sock");
  const { clock } = opts;
  const retryMs = opts.retryMs ?? CONNECT_RETRY_MS;
  const filler = new FrameFiller(sink.frameBytes, sink.lumaBytes, sink.onFrame, sink.alloc);
  let closed = false;
  let failed = false;
  let socket: Socket | undefined;
  let retry: TimerHandle | undefined;

  const fail = (err: Error) => {
    if (closed || failed) return;
    failed = true;
    stopReading();
    sink.onError(err);
  };
  const stopReading = () => {
    if (retry) clock.clearTimeout(retry);
    retry = undefined;
    socket?.destroy();
    socket = undefined;
  };
  const tryConnect = () => {
    retry = undefined;
    if (closed) return;
    let connected = false;
    const s = connect({
      path,
      onread: {
        buffer: () => filler.target(),
        callback: (n: number) => {
          if (closed || s !== socket) return false;
          try {
            filler.advance(n);
          } catch (e) {
            fail(e as Error);
            return false;
          }
          return true;
        },
      },
    });
    socket = s;
    s.once("connect", () => (connected = true));
    s.on("error", (err: NodeJS.ErrnoException) => {
      if (closed || s !== socket) return;
      if (!connected && NOT_YET.has(err.code ?? "")) {
        s.destroy();
        socket = undefined;
        retry = clock.setTimeout(tryConnect, retryMs, "ingest.connect");
        return;
      }
      if (!connected) fail(err);
      // After the connection: ffmpeg is exiting or dead; its exit is what counts.
      else stopReading();
    });
  };

  return {
    kind: "socket",
    output: ["-listen", "1", `unix:${path}`],
    attach() {
      tryConnect();
    },
    close() {
      if (closed) return;
      stopReading();
      closed = true;
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // Gone already, or not removable: nothing listens there any more either way.
      }
    },
  };
}
