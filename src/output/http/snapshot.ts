import sharp from "sharp";
import type { Clock } from "../../core/clock.js";
import type { LumaFrame } from "../../core/types.js";

export interface SnapshotOptions {
  latestFrame: (cameraId: string) => LumaFrame | undefined;
  clock: Clock;
  /** At most one encode per camera per interval; requests in between get the cached JPEG. */
  minIntervalMs?: number;
  maxWidth?: number;
  quality?: number;
  /** A frame older than this is not served (monotonic ms since it was read). */
  maxAgeMs?: number;
}

/**
 * 5 s: a snapshot shows what the camera sees now. A camera that stopped (a dead stream, a main
 * stream in standby) must not keep serving its last picture, perhaps a traveller's face, for hours.
 */
export const SNAPSHOT_MAX_AGE_MS = 5000;

export interface Snapshot {
  jpeg: Buffer;
  frameSeq: number;
  /** Monotonic ms when its frame was read from the camera. */
  frameAt: number;
  /** Monotonic ms when encoded. */
  encodedAt: number;
}

export type SnapshotResult = { ok: true; snapshot: Snapshot } | { ok: false; code: "NO_FRAME" | "BAD_FRAME" };

/** Copies rows when the stride has padding, so sharp sees a tight width x height gray image. */
export function tightLuma(f: LumaFrame): Uint8Array | undefined {
  if (f.width <= 0 || f.height <= 0 || f.stride < f.width) return undefined;
  // A frame whose buffer was transferred to a decode worker is detached (length 0).
  if (f.data.byteLength < f.stride * (f.height - 1) + f.width) return undefined;
  if (f.stride === f.width) return f.data.subarray(0, f.width * f.height);
  const out = new Uint8Array(f.width * f.height);
  for (let y = 0; y < f.height; y++) out.set(f.data.subarray(y * f.stride, y * f.stride + f.width), y * f.width);
  return out;
}

/**
 * Dashboard snapshots from frames the gateway already holds (no second camera session),
 * rate-limited per camera so a dashboard left open costs at most one small encode per second.
 */
export class SnapshotCache {
  private readonly cache = new Map<string, Snapshot>();
  private readonly inflight = new Map<string, Promise<SnapshotResult>>();
  private readonly minIntervalMs: number;
  private readonly maxWidth: number;
  private readonly quality: number;
  private readonly maxAgeMs: number;

  constructor(private readonly o: SnapshotOptions) {
    this.maxAgeMs = o.maxAgeMs ?? SNAPSHOT_MAX_AGE_MS;
    this.minIntervalMs = o.minIntervalMs ?? 1000;
    this.maxWidth = o.maxWidth ?? 640;
    this.quality = o.quality ?? 70;
  }

  get(cameraId: string): Promise<SnapshotResult> {
    const now = this.o.clock.monotonic();
    const cached = this.cache.get(cameraId);
    if (cached && now - cached.encodedAt < this.minIntervalMs && now - cached.frameAt <= this.maxAgeMs) return Promise.resolve({ ok: true, snapshot: cached });
    const running = this.inflight.get(cameraId);
    if (running) return running;
    const p = this.encode(cameraId, cached).finally(() => this.inflight.delete(cameraId));
    this.inflight.set(cameraId, p);
    return p;
  }

  private async encode(cameraId: string, cached: Snapshot | undefined): Promise<SnapshotResult> {
    const frame = this.o.latestFrame(cameraId);
    if (!frame || this.o.clock.monotonic() - frame.receivedAt > this.maxAgeMs) {
      this.cache.delete(cameraId);
      return { ok: false, code: "NO_FRAME" };
    }
    if (cached && cached.frameSeq === frame.seq) {
      const fresh = { ...cached, encodedAt: this.o.clock.monotonic() };
      this.cache.set(cameraId, fresh);
      return { ok: true, snapshot: fresh };
    }
    const pixels = tightLuma(frame);
    if (!pixels) return { ok: false, code: "BAD_FRAME" };
    const { width, height, seq } = frame;
    let img = sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width, height, channels: 1 } });
    if (width > this.maxWidth) img = img.resize({ width: this.maxWidth });
    const jpeg = await img.jpeg({ quality: this.quality }).toBuffer();
    const snapshot = { jpeg, frameSeq: seq, frameAt: frame.receivedAt, encodedAt: this.o.clock.monotonic() };
    this.cache.set(cameraId, snapshot);
    return { ok: true, snapshot };
  }
}
