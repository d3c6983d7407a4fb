import type { Logger } from "../core/logger.js";
import type { Clock } from "../core/clock.js";
import type { DecodeResult, LumaFrame } from "../core/types.js";
import type { CameraConfig } from "../config/sections/cameras.js";
import { CameraSupervisor, type Spawner } from "../ingest/index.js";
import type { DecodePool } from "../decode/index.js";
import type { GatewayMetrics } from "../output/metrics/index.js";
import type { CameraInfo } from "../output/http/index.js";
import type { Lane } from "../lane/index.js";
import { ChangeGate, DEFAULT_GATE, type ChangeGateOptions } from "./change-gate.js";
import type { FrameBuffers } from "../core/frame-buffers.js";

/** Display snapshots need an untransferred frame; copying one per second per camera is enough. */
const SNAPSHOT_EVERY_MS = 1000;

export interface CameraRig {
  start(): void;
  stop(): Promise<void>;
  info(): CameraInfo[];
  latestFrame(cameraId: string): LumaFrame | undefined;
  /** Frames handed to the decode pool, per camera (the bench reads it). */
  readonly submitted: Map<string, number>;
  /** Frames not decoded because nothing changed, per camera. */
  gated(): Record<string, number>;
}

export interface CameraRigOptions {
  cameras: readonly CameraConfig[];
  lanes: ReadonlyMap<string, Lane>;
  pool: DecodePool;
  metrics: GatewayMetrics;
  logger: Logger;
  clock?: Clock;
  spawner?: Spawner;
  /** Frame buffer recycler shared with the decode pool. */
  buffers?: FrameBuffers;
  /** Skip decoding frames with no change (see change-gate.ts); on unless false. */
  changeGate?: ChangeGateOptions | false;
  /** Taps on the frame path (bench): a frame before it is handed (transferred) to the pool, and each decode result. */
  onFrame?: (frame: LumaFrame) => void;
  onDecoded?: (result: DecodeResult) => void;
}

/** Skipping while a code is in view must never let it look gone: stay within half of leaveMs. */
function gateFor(g: ChangeGateOptions, fps: number, leaveMs: number | undefined): ChangeGateOptions {
  if (leaveMs === undefined) return g;
  const cap = Math.max(0, Math.floor(leaveMs / 2 / (1000 / fps)) - 1);
  return { ...g, maxSkipInView: Math.min(g.maxSkipInView, cap) };
}

/** The frame path: supervisor.onFrame -> pool.submit (latest frame wins) -> lane.onDecode. */
export function createCameraRig(o: CameraRigOptions): CameraRig {
  const log = o.logger.child({ module: "app.cameras" });
  const snapshots = new Map<string, LumaFrame>();
  const submitted = new Map<string, number>();
  const gates = new Map<string, ChangeGate>();
  const supervisors = o.cameras.map((cam) => {
    const lane = o.lanes.get(cam.lane);
    const gate = o.changeGate === false ? undefined : new ChangeGate(gateFor(o.changeGate ?? DEFAULT_GATE, cam.fps, lane?.leaveMs));
    if (gate) gates.set(cam.id, gate);
    const onFrame = (frame: LumaFrame) => {
      const snap = snapshots.get(cam.id);
      if (!snap || frame.receivedAt - snap.receivedAt >= SNAPSHOT_EVERY_MS) snapshots.set(cam.id, { ...frame, data: frame.data.slice() });
      o.onFrame?.(frame);
      const view = lane?.codesInView() ?? "none";
      if (gate && !gate.admit(frame, view)) {
        o.buffers?.give(frame.data);
        return;
      }
      submitted.set(cam.id, (submitted.get(cam.id) ?? 0) + 1);
      o.pool
        .submit(frame, { view })
        .then(async (r) => {
          if (!r) return; // superseded by a newer frame, or no code-like pattern while idle (counted by the pool)
          if (!r.error) o.metrics.observeDecode(r.timings.decodeMs, cam.id);
          o.onDecoded?.(r);
          await lane?.onDecode(r);
        })
        .catch((e: unknown) => log.warn({ camera: cam.id, err: (e as Error).message }, "frame not decoded"));
    };
    const sup = new CameraSupervisor(cam, { logger: o.logger, onFrame, ...(o.buffers ? { allocFrame: (n: number) => o.buffers!.take(n) } : {}), ...(o.clock ? { clock: o.clock } : {}), ...(o.spawner ? { spawner: o.spawner } : {}) });
    sup.on("state", (state: string) => lane?.setCameraUp(cam.id, state === "online"));
    return sup;
  });

  return {
    submitted,
    gated: () => Object.fromEntries([...gates].map(([id, g]) => [id, g.gated])),
    start: () => supervisors.forEach((s) => s.start()),
    async stop() {
      await Promise.all(supervisors.map((s) => s.stop()));
    },
    info() {
      const pool = o.pool.stats().cameras;
      return supervisors.map((s) => {
        const st = s.stats();
        return {
          id: st.id,
          lane: st.lane,
          state: st.state,
          fpsIn: st.fpsIn,
          // Dropped anywhere on the way: by ingest (bursts) or superseded in the decode slot.
          framesDropped: st.framesDropped + (pool[st.id]?.dropped ?? 0),
          ...(st.lastFrameAgeMs !== undefined ? { lastFrameAgeMs: st.lastFrameAgeMs } : {}),
          reconnectsLastHour: st.reconnectsLastHour,
          stallsLastHour: st.stallsLastHour,
          url: st.url,
        };
      });
    },
    latestFrame: (id) => snapshots.get(id),
  };
}
