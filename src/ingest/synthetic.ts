import { EventEmitter } from "node:events";
import type { Clock, TimerHandle } from "../core/clock.js";
import { frameLayout } from "./ffmpeg-args.js";
import type { ByteStream, CameraConfig, SpawnedProcess, Spawner } from "./types.js";

/**
 * In-memory frame source for unit tests and demos: behaves like an ffmpeg child that writes
 * paced raw frames (a moving gradient) until killed. Driven by the injected clock.
 */
class SyntheticProcess extends EventEmitter implements SpawnedProcess {
  readonly pid = undefined;
  readonly stdout = new EventEmitter() as EventEmitter & ByteStream;
  readonly stderr = new EventEmitter() as EventEmitter & ByteStream;
  private timer: TimerHandle | undefined;
  private n = 0;
  private dead = false;

  constructor(
    private readonly clock: Clock,
    private readonly cam: Pick<CameraConfig, "width" | "height" | "fps" | "pixelFormat">,
  ) {
    super();
    this.timer = clock.setTimeout(() => this.tick(), 1000 / cam.fps);
  }

  private tick(): void {
    if (this.dead) return;
    const { width, height, pixelFormat } = this.cam;
    const { frameBytes } = frameLayout(width, height, pixelFormat);
    const buf = new Uint8Array(frameBytes).fill(128);
    const shift = this.n++ % 256;
    for (let y = 0; y < height; y++) buf.fill((y + shift) & 0xff, y * width, y * width + width);
    this.stdout.emit("data", buf);
    this.timer = this.clock.setTimeout(() => this.tick(), 1000 / this.cam.fps);
  }

  kill(signal: NodeJS.Signals): boolean {
    if (this.dead) return false;
    this.dead = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.clock.setTimeout(() => this.emit("exit", null, signal), 0);
    return true;
  }
}

export function syntheticSpawner(clock: Clock, cam: Pick<CameraConfig, "width" | "height" | "fps" | "pixelFormat">): Spawner {
  return () => new SyntheticProcess(clock, cam);
}
