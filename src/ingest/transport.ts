import type { Socket } from "node:net";
import { FrameSlicer } from "./frame-slicer.js";
import { socketTransport } from "./socket-transport.js";
import type { SpawnedProcess } from "./types.js";

/** How raw frames travel from ffmpeg to the gateway. See socket-transport.ts for why there are two. */
export type TransportKind = "pipe" | "socket";

/** What a transport delivers to, for one ffmpeg process. */
export interface FrameSink {
  /** Bytes ffmpeg writes per frame, and how many of them (the first) are kept (the Y plane). */
  frameBytes: number;
  lumaBytes: number;
  /** Where frame buffers come from (the recycler in the daemon). */
  alloc?: (bytes: number) => Uint8Array;
  /** One whole Y plane; never a partial frame. */
  onFrame: (luma: Uint8Array) => void;
  /** The transport cannot deliver (e.g. the socket refused us for a reason other than "not yet"): restart the process. Called at most once. */
  onError: (err: Error) => void;
}

/** One process's frame channel: its ffmpeg output arguments, then reading, then clean-up. */
export interface FrameTransport {
  readonly kind: TransportKind;
  /** What follows `-f rawvideo` on ffmpeg's command line. */
  readonly output: readonly string[];
  /**
   * Readies the channel for one process. Undefined: nothing to wait for (the spawner's own stdout
   * pipe is the channel). A promise: spawn once it resolves, with the socket it gives as the
   * process's stdout, or with the spawner's pipe when it gives undefined.
   */
  prepare?(): Promise<Socket | undefined>;
  /** Starts reading frames of the process just spawned with `output` (and the prepared stdout). */
  attach(proc: SpawnedProcess): void;
  /** Stops reading (a partial frame is dropped) and removes whatever the transport created. Idempotent. */
  close(): void;
}

/**
 * ffmpeg's stdout, read as 'data' chunks (up to 64 KB each, a Buffer per chunk) and copied into
 * frame buffers by FrameSlicer. Works with every spawner, including test fakes that only have a
 * stdout; costs more CPU than the socket (docs/ingest.md).
 */
export function pipeTransport(sink: FrameSink): FrameTransport {
  const slicer = new FrameSlicer(sink.frameBytes, sink.lumaBytes, sink.onFrame, sink.alloc);
  let closed = false;
  return {
    kind: "pipe",
    output: ["pipe:1"],
    attach(proc) {
      if (!proc.stdout) {
        sink.onError(new Error("the process has no stdout to read frames from"));
        return;
      }
      proc.stdout.on("data", (c) => {
        if (!closed) slicer.push(c);
      });
    },
    close() {
      closed = true;
    },
  };
}

/**
 * The transport for one process: the socket when asked for and available, else the pipe.
 * `onFallback` hears why the socket could not be set up, before the spawn or while preparing it;
 * the pipe then serves this process.
 */
export function openTransport(kind: TransportKind, sink: FrameSink, onFallback: (err: Error) => void): FrameTransport {
  if (kind !== "socket") return pipeTransport(sink);
  let socket: FrameTransport;
  try {
    socket = socketTransport(sink);
  } catch (e) {
    onFallback(e as Error);
    return pipeTransport(sink);
  }
  let current = socket;
  let closed = false;
  return {
    get kind() {
      return current.kind;
    },
    get output() {
      return current.output;
    },
    prepare: () =>
      socket.prepare!().catch((e: unknown) => {
        socket.close();
        // Closed while preparing: nothing will be spawned, so there is nothing to fall back for.
        if (closed) throw e;
        onFallback(e as Error);
        current = pipeTransport(sink);
        return undefined;
      }),
    attach: (proc) => current.attach(proc),
    close: () => {
      closed = true;
      current.close();
    },
  };
}

/**
 * The socket on Linux for a real ffmpeg (the default spawner); the pipe elsewhere and for an
 * injected spawner, which may be a fake that only has a stdout (it can ask for "socket").
 */
export function defaultTransport(platform: string, injectedSpawner: boolean): TransportKind {
  return platform === "linux" && !injectedSpawner ? "socket" : "pipe";
}

/** A camera's `frameTransport` setting: `auto` is the measured default above, anything else is used as set. */
export function chooseTransport(setting: "auto" | TransportKind, platform: string, injectedSpawner: boolean): TransportKind {
  return setting === "auto" ? defaultTransport(platform, injectedSpawner) : setting;
}
