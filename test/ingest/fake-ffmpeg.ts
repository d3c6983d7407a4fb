import { EventEmitter } from "node:events";
import type { Clock, TimerHandle } from "../../src/core/clock.js";
import { createLogger, type Logger } from "../../src/core/logger.js";
import type { ByteStream, SpawnedProcess, Spawner } from "../../src/ingest/types.js";

/**
 * A scripted stand-in for ffmpeg, driven by the test through the injected spawner and a
 * FakeClock: it writes frames, stalls, crashes, exits 0, ignores SIGTERM and prints noise.
 */
export class FakeFfmpeg extends EventEmitter implements SpawnedProcess {
  readonly pid = undefined;
  readonly stdout = new EventEmitter() as EventEmitter & ByteStream;
  readonly stderr = new EventEmitter() as EventEmitter & ByteStream;
  readonly signals: NodeJS.Signals[] = [];
  ignoreSigterm = false;
  ignoreAllSignals = false;
  exited = false;
  /** What the supervisor wrote to stdin (the credentialed input description), if anything. */
  stdin: string | undefined;
  private pacer: TimerHandle | undefined;

  constructor(
    readonly args: readonly string[],
    private readonly clock: Clock,
    private readonly frameBytes: number,
    private readonly lumaBytes: number,
  ) {
    super();
  }

  /** One raw frame whose Y plane is filled with `luma` (chroma 128). */
  frame(luma = 7): void {
    if (this.exited) return;
    const b = new Uint8Array(this.frameBytes).fill(128);
    b.fill(luma, 0, this.lumaBytes);
    this.stdout.emit("data", b);
  }

  /** Raw bytes exactly as given (for slicing tests). */
  write(bytes: Uint8Array): void {
    this.stdout.emit("data", bytes);
  }

  /** Frames every `intervalMs` until `stopFrames()` or exit. */
  startFrames(intervalMs: number, luma = 7): void {
    this.stopFrames();
    const tick = () => {
      this.frame(luma);
      if (!this.exited) this.pacer = this.clock.setTimeout(tick, intervalMs);
    };
    this.pacer = this.clock.setTimeout(tick, intervalMs);
  }

  stopFrames(): void {
    if (this.pacer) this.clock.clearTimeout(this.pacer);
    this.pacer = undefined;
  }

  print(line: string): void {
    this.stderr.emit("data", new TextEncoder().encode(line + "\n"));
  }

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.exited) return;
    this.exited = true;
    this.stopFrames();
    this.emit("exit", code, signal);
  }

  kill(signal: NodeJS.Signals): boolean {
    this.signals.push(signal);
    if (this.exited || this.ignoreAllSignals) return true;
    if (signal === "SIGTERM" && this.ignoreSigterm) return true;
    // Real processes report their exit asynchronously.
    this.clock.setTimeout(() => this.exit(null, signal), 5);
    return true;
  }
}

export interface FakeSpawn {
  spawner: Spawner;
  procs: FakeFfmpeg[];
  last(): FakeFfmpeg;
}

/** `onSpawn` scripts each new process (e.g. start frames, or exit at once like an unreachable camera). */
export function fakeSpawner(clock: Clock, layout: { frameBytes: number; lumaBytes: number }, onSpawn?: (p: FakeFfmpeg, index: number) => void): FakeSpawn {
  const procs: FakeFfmpeg[] = [];
  return {
    procs,
    last: () => procs[procs.length - 1]!,
    spawner: (_cmd, args, stdin) => {
      const p = new FakeFfmpeg(args, clock, layout.frameBytes, layout.lumaBytes);
      p.stdin = stdin;
      procs.push(p);
      onSpawn?.(p, procs.length - 1);
      return p;
    },
  };
}

/** A logger whose lines (already masked by the sink) are collected for assertions. */
export function collectingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>>; text: () => string } {
  const out: string[] = [];
  const logger = createLogger({ level: "debug", destination: { write: (s: string) => void out.push(s) } });
  return {
    logger,
    lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => out.join(""),
  };
}
