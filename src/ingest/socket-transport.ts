import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FrameFiller } from "./frame-filler.js";
import type { FrameSink, FrameTransport } from "./transport.js";

/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export interface SocketTransportOptions {
  /** Parent of the private socket directory; os.tmpdir() by default (private under systemd's PrivateTmp). */
  baseDir?: string;
}

/**
 * ffmpeg writes rawvideo to its stdout (`pipe:1`), and that stdout is one end of a connected Unix
 * socket whose other end the gateway reads with `net.connect({ onread })`: the kernel copies each
 * read straight into the current frame buffer (FrameFiller), with no Buffer per chunk, no stream
 * machinery and no copy in JS. That is the stdout pipe's writer (plain blocking writes) with a
 * zero-copy reader (bench:ingest, docs/ingest.md).
 *
 * Why not let ffmpeg listen (`-listen 1 unix:PATH`), as the first version did: ffmpeg 5.1's `unix:`
 * protocol polls before every 32 KB write, about ten wake-ups per 1080p frame, which cost more
 * than the reader saved. Node cannot make a socketpair, so `prepare()` makes the pair itself: it
 * listens on a socket in a private directory (mkdtemp: mode 0700, so no other local user can
 * connect), connects the reader to it, and resolves with the accepted end, which the spawner
 * passes to ffmpeg as fd 1. The listener and the directory are gone before ffmpeg starts;
 * `attach()` closes the parent's copy of ffmpeg's end, so ffmpeg's exit is an EOF here.
 *
 * Throws when no socket can be set up here (path too long, directory not creatable), and
 * `prepare()` rejects when listening or connecting fails; the caller then uses the pipe.
 */
export function socketTransport(sink: FrameSink, opts: SocketTransportOptions = {}): FrameTransport {
  const base = opts.baseDir ?? tmpdir();
  // mkdtemp appends 6 characters to the prefix.
  if (Buffer.byteLength(join(base, "cpgw-XXXXXX", "frames.sock")) > MAX_SOCKET_PATH) throw new Error(`socket path under ${base} would exceed ${MAX_SOCKET_PATH} bytes`);
  let dir: string | undefined = mkdtempSync(join(base, "cpgw-"));
  const path = join(dir, "frames.sock");
  const filler = new FrameFiller(sink.frameBytes, sink.lumaBytes, sink.onFrame, sink.alloc);
  let closed = false;
  let failed = false;
  let server: Server | undefined;
  let reader: Socket | undefined;
  /** ffmpeg's end, until it has been handed to the spawned process. */
  let writer: Socket | undefined;

  const removeDir = () => {
    if (dir === undefined) return;
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Not removable: nothing listens there any more either way.
    }
    dir = undefined;
  };
  const stopListening = () => {
    server?.close();
    server = undefined;
    removeDir();
  };
  const stopReading = () => {
    reader?.destroy();
    reader = undefined;
  };
  const fail = (err: Error) => {
    if (closed || failed) return;
    failed = true;
    stopReading();
    sink.onError(err);
  };

  const prepare = (): Promise<Socket> =>
    new Promise<Socket>((resolve, reject) => {
      if (closed) return reject(new Error("frame transport closed"));
      let settled = false;
      const giveUp = (err: Error) => {
        if (settled) return;
        settled = true;
        stopListening();
        stopReading();
        reject(err);
      };
      const srv = (server = createServer({ pauseOnConnect: true }));
      srv.on("error", giveUp);
      srv.once("connection", (s: Socket) => {
        // Only our own reader may be on the other end: nobody else connects after this one.
        stopListening();
        s.on("error", () => {}); // the parent only holds it until ffmpeg has it
        if (settled || closed) {
          s.destroy();
          return;
        }
        settled = true;
        writer = s;
        resolve(s);
      });
      srv.listen(path, () => {
        if (closed) return giveUp(new Error("frame transport closed"));
        let connected = false;
        const r = connect({
          path,
          onread: {
            buffer: () => filler.target(),
            callback: (n: number) => {
              if (closed || r !== reader) return false;
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
        reader = r;
        r.once("connect", () => (connected = true));
        r.on("error", (err) => {
          if (!connected) giveUp(err);
          // After the connection: ffmpeg is exiting or dead; its exit is what counts.
          else if (r === reader) stopReading();
        });
      });
    });

  return {
    kind: "socket",
    output: ["pipe:1"],
    prepare,
    attach(proc) {
      // ffmpeg holds its own copy of the socket now; ours would keep EOF from ever arriving.
      writer?.destroy();
      writer = undefined;
      // A spawner that made its own stdout pipe ignored the socket: say so rather than wait for frames that cannot come.
      if (proc.stdout) fail(new Error("the spawner did not give the process the frame socket as its stdout"));
    },
    close() {
      if (closed) return;
      closed = true;
      writer?.destroy();
      writer = undefined;
      stopReading();
      stopListening();
    },
  };
}
