import { EventEmitter } from "node:events";
import type { Clock, TimerHandle } from "../../core/clock.js";
import { frameLayout } from "../ffmpeg-args.js";
import type { ByteStream, CameraConfig, SpawnedProcess, Spawner } from "../types.js";

/**
 * Test seam (never imported by the daemon; not in the image): an in-memory frame source that
 * behaves like an ffmpeg child writing paced raw frames (a moving gradient) until killed, driven by
 * the injected clock. Tests give it to a camera through the spawner seams; no config can select
 * it, since a camera that sees a gradient would keep a lane in service that sees nothing.
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

/** The clip name that marks a test camera as synthetic: `{ source: "file", file: SYNTHETIC_FILE }`. */
export const SYNTHETIC_FILE = "<synthetic>";

/** For `spawnerFor` (camera rig, gateway): generated frames for the cameras marked synthetic, ffmpeg for the others. */
export function syntheticCameras(clock: Clock): (cam: CameraConfig) => Spawner | undefined {
  return (cam) => (cam.source === "file" && cam.file === SYNTHETIC_FILE ? syntheticSpawner(clock, cam) : undefined);
}
