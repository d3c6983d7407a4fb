import type { Logger } from "../core/logger.js";
import type { Clock } from "../core/clock.js";
import { systemClock } from "../core/clock.js";
import type { DecodeResult, LumaFrame } from "../core/types.js";
import { mainStreamPolicy, type CameraConfig } from "../ingest/options.js";
import { CAMERA_UP_STATES, CameraSupervisor, PairedCamera, type Spawner } from "../ingest/index.js";
import type { DecodePool } from "../decode/index.js";
import type { GatewayMetrics } from "../output/metrics/index.js";
import type { CameraInfo } from "../output/http/index.js";
import type { Lane } from "../lane/index.js";
import { activityDetector, ChangeGate, DEFAULT_GATE, type ChangeGateOptions } from "./change-gate.js";
import type { FrameBuffers } from "../core/frame-buffers.js";
import { FramePathHealth, type CameraHealthInput } from "./lane-health.js";
import { DEFAULT_PICTURE_CHECK, PictureCheck, type PictureProblem } from "../ingest/picture-check.js";
import { SNAPSHOT_MAX_AGE_MS } from "../output/http/snapshot.js";

/** Display snapshots need an untransferred frame; copying one per second per camera is enough. */
const SNAPSHOT_EVERY_MS = 1000;

export interface CameraRig {
  start(): void;
  stop(): Promise<void>;
  /**
   * Applies a new camera list at run time: removed cameras stop, added ones start, changed ones
   * restart with their new config; unchanged ones keep running untouched. Returns the ids touched.
   */
  apply(cameras: readonly CameraConfig[]): Promise<{ added: string[]; removed: string[]; changed: string[] }>;
  info(): CameraInfo[];
  /** What lane health needs per camera (state, frame path, ingest errors). */
  health(): CameraHealthInput[];
  /** Frame-path failures per camera since start (consumer threw, decode errors): for /metrics. */
  consumerErrors(): Record<string, number>;
  latestFrame(cameraId: string): LumaFrame | undefined;
  /** Frames handed to the decode pool, per camera (the bench reads it). */
  readonly submitted: Map<string, number>;
  /** Frames not decoded because nothing changed, per camera. */
  gated(): Record<string, number>;
}

export interface CameraRigOptions {
  cameras: readonly CameraConfig[];
  /** Looked up at each use: lanes can be replaced by a reload. */
  lanes: ReadonlyMap<string, Lane>;
  /** A getter, because a reload may replace the pool. */
  pool: DecodePool | (() => DecodePool);
  metrics: GatewayMetrics;
  logger: Logger;
  clock?: Clock;
  spawner?: Spawner;
  /** Per camera: its own spawner, or undefined for `spawner` (tests give generated frames to some cameras only). */
  spawnerFor?: (cam: CameraConfig) => Spawner | undefined;
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

interface Entry {
  cfg: CameraConfig;
  key: string;
  sup: CameraSupervisor | PairedCamera;
  path: FramePathHealth;
  gate: ChangeGate | undefined;
  /** Frozen or blank picture (ingest/picture-check.ts) of the stream that watches now; never with pictureCheckS 0. */
  pictureProblem: (now: number) => PictureProblem | undefined;
}

/** The frame path: supervisor.onFrame -> pool.submit (latest frame wins) -> lane.onDecode. */
export function createCameraRig(o: CameraRigOptions): CameraRig {
  const log = o.logger.child({ module: "app.cameras" });
  const clock = o.clock ?? systemClock;
  const pool = typeof o.pool === "function" ? o.pool : () => o.pool as DecodePool;
  const snapshots = new Map<string, LumaFrame>();
  const submitted = new Map<string, number>();
  const entries = new Map<string, Entry>();
  let started = false;

  const build = (cam: CameraConfig): Entry => {
    const laneAtStart = o.lanes.get(cam.lane);
    const gate = o.changeGate === false ? undefined : new ChangeGate(gateFor(o.changeGate ?? DEFAULT_GATE, cam.fps, laneAtStart?.leaveMs));
    const path = new FramePathHealth();
    const pictureOptions = { ...DEFAULT_PICTURE_CHECK, afterMs: cam.pictureCheckS * 1000 };
    const paired = cam.subStream !== undefined && mainStreamPolicy(cam) === "on-activity";
    const picture = cam.pictureCheckS > 0 ? new PictureCheck(pictureOptions) : undefined;
    // A paired camera in standby watches through its substream alone: a covered lens or a hung
    // encoder there must keep the lane blind, not clear it when the main stream stops.
    const subPicture = picture && paired ? new PictureCheck(pictureOptions) : undefined;
    let pictureWas: PictureProblem | undefined;
    // The main stream's check while it delivers; the substream's while the main stream is off by
    // policy. (`sup` is built below; this runs only once frames flow, after it exists.)
    const pictureProblem = (now: number): PictureProblem | undefined =>
      picture?.problem(now) ?? (sup.state === "standby" ? subPicture?.problem(now) : undefined);
    const notePicture = (now: number): void => {
      const p = pictureProblem(now);
      if (p !== pictureWas) {
        (p ? log.error : log.info).call(log, { event: p ? "camera_picture_lost" : "camera_picture_back", camera: cam.id, picture: p ?? "OK" }, p ? "camera picture lost: frames arrive but show nothing" : "camera picture back");
      }
      pictureWas = p;
    };
    const failed = (what: string, e: unknown) => {
      path.fail(clock.monotonic());
      // The first failure and then one line per 100: a broken consumer must not flood the log.
      if (path.errors === 1 || path.errors % 100 === 0) log.warn({ camera: cam.id, err: e instanceof Error ? e.message : String(e), failures: path.errors, what }, "frame not decoded");
    };
    const onFrame = (frame: LumaFrame) => {
      // Before the change gate, which skips exactly the frames a frozen picture is made of.
      if (picture) {
        const now = clock.monotonic();
        picture.observe(frame, now);
        notePicture(now);
      }
      const lane = o.lanes.get(cam.lane);
      const snap = snapshots.get(cam.id);
      if (!snap || frame.receivedAt - snap.receivedAt >= SNAPSHOT_EVERY_MS) snapshots.set(cam.id, { ...frame, data: frame.data.slice() });
      o.onFrame?.(frame);
      const view = lane?.codesInView() ?? "none";
      if (gate && !gate.admit(frame, view)) {
        o.buffers?.give(frame.data);
        return;
      }
      submitted.set(cam.id, (submitted.get(cam.id) ?? 0) + 1);
      pool()
        .submit(frame, { view })
        .then(async (r) => {
          if (!r) return; // superseded by a newer frame, or no code-like pattern while idle (counted by the pool)
          if (r.error) path.fail(clock.monotonic());
          else {
            path.ok();
            o.metrics.observeDecode(r.timings.decodeMs, cam.id);
          }
          o.onDecoded?.(r);
          await o.lanes.get(cam.lane)?.onDecode(r);
        })
        .catch((e: unknown) => failed("submit", e));
    };
    const spawner = o.spawnerFor?.(cam) ?? o.spawner;
    const deps = {
      logger: o.logger,
      onFrame: (f: LumaFrame) => {
        try {
          onFrame(f);
        } catch (e) {
          // Counted here for lane health; the supervisor logs and counts it too (consumerErrors).
          path.fail(clock.monotonic());
          throw e;
        }
      },
      ...(o.buffers ? { allocFrame: (n: number) => o.buffers!.take(n) } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
      ...(spawner ? { spawner } : {}),
    };
    // The substream only decides when the main stream runs; its frames never reach the decoder.
    // A code in view counts as activity too: a traveller holding still must not lose the main stream.
    const changed = activityDetector(o.changeGate === false ? DEFAULT_GATE : (o.changeGate ?? DEFAULT_GATE));
    const isActivity = (f: LumaFrame) => {
      if (subPicture) {
        const now = clock.monotonic();
        subPicture.observe(f, now);
        notePicture(now);
      }
      return changed(f) || (o.lanes.get(cam.lane)?.codesInView() ?? "none") !== "none";
    };
    const sup = paired ? new PairedCamera(cam, { ...deps, isActivity }) : new CameraSupervisor(cam, deps);
    sup.on("state", (state: string) => o.lanes.get(cam.lane)?.setCameraUp(cam.id, CAMERA_UP_STATES.has(state)));
    return { cfg: cam, key: JSON.stringify(cam), sup, path, gate, pictureProblem };
  };

  for (const cam of o.cameras) entries.set(cam.id, build(cam));

  return {
    submitted,
    gated: () => Object.fromEntries([...entries].filter(([, e]) => e.gate).map(([id, e]) => [id, e.gate!.gated])),
    start: () => {
      started = true;
      for (const e of entries.values()) e.sup.start();
    },
    async stop() {
      started = false;
      await Promise.all([...entries.values()].map((e) => e.sup.stop()));
    },
    async apply(cameras) {
      const next = new Map(cameras.map((c) => [c.id, c]));
      const removed: string[] = [];
      const changed: string[] = [];
      const added: string[] = [];
      const stops: Promise<void>[] = [];
      for (const [id, e] of entries) {
        const n = next.get(id);
        if (n && JSON.stringify(n) === e.key) continue;
        (n ? changed : removed).push(id);
        entries.delete(id);
        snapshots.delete(id);
        e.sup.removeAllListeners("state");
        stops.push(e.sup.stop());
      }
      // Old processes end before their replacements start: a camera may allow only a few sessions.
      await Promise.all(stops);
      for (const [id, c] of next) {
        if (entries.has(id)) continue;
        if (!changed.includes(id)) added.push(id);
        const e = build(c);
        entries.set(id, e);
        if (started) e.sup.start();
      }
      return { added, removed, changed };
    },
    info() {
      const poolCams = pool().stats().cameras;
      const now = clock.monotonic();
      return [...entries.values()].map((e) => {
        const { sup, path } = e;
        const st = sup.stats();
        const pictureProblem = e.pictureProblem(now);
        return {
          id: st.id,
          lane: st.lane,
          state: st.state,
          fpsIn: st.fpsIn,
          // Dropped anywhere on the way: by ingest (bursts) or superseded in the decode slot.
          framesDropped: st.framesDropped + (poolCams[st.id]?.dropped ?? 0),
          ...(st.lastFrameAgeMs !== undefined ? { lastFrameAgeMs: st.lastFrameAgeMs } : {}),
          reconnectsLastHour: st.reconnectsLastHour,
          stallsLastHour: st.stallsLastHour,
          framesIn: st.framesIn,
          restarts: st.reconnectsTotal,
          stalls: st.stallsTotal,
          // Per camera: DECODE_DOWN only sees a lane whose every camera fails, not one of two.
          framePathFailing: path.failing(now),
          ...(pictureProblem ? { pictureProblem } : {}),
          burstDropped: st.burstDropped,
          corruptWarnings: st.corruptWarnings,
          ffmpegAbandoned: st.ffmpegAbandoned,
          ...(st.hostReachable !== undefined ? { hostReachable: st.hostReachable } : {}),
          ...(st.ingestError ? { ingestError: st.ingestError } : {}),
          // Both flags from the start (false until a stream settles above its fps), so /metrics has the series before the first mismatch.
          aboveConfiguredFps: { main: st.fpsAboveConfig !== undefined, ...(st.subStream ? { sub: st.subStream.fpsAboveConfig !== undefined } : {}) },
          url: st.url,
        };
      });
    },
    health() {
      const now = clock.monotonic();
      // Run every health check: a stopped camera's last frame is dropped even if nobody asks for it.
      for (const [id, f] of snapshots) if (now - f.receivedAt > SNAPSHOT_MAX_AGE_MS) snapshots.delete(id);
      return [...entries.values()].map(({ cfg, sup, path, pictureProblem }) => ({
        lane: cfg.lane,
        online: CAMERA_UP_STATES.has(sup.state),
        framePathFailing: path.failing(now),
        ingestError: sup.stats().ingestError !== undefined,
        pictureLost: pictureProblem(now) !== undefined,
      }));
    },
    consumerErrors: () => Object.fromEntries([...entries].map(([id, e]) => [id, e.path.errors])),
    latestFrame: (id) => {
      const f = snapshots.get(id);
      // Not kept past what a snapshot may show: a stopped camera's last picture is a traveller's, not the lane's.
      if (f && clock.monotonic() - f.receivedAt > SNAPSHOT_MAX_AGE_MS) {
        snapshots.delete(id);
        return undefined;
      }
      return f;
    },
  };
}
