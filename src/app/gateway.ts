import { FrameBuffers } from "../core/frame-buffers.js";
import { systemClock, type Clock } from "../core/clock.js";
import { GatewayBus } from "../core/bus.js";
import { ephemeralSalt } from "../core/hash.js";
import { moduleLogger, type Logger } from "../core/logger.js";
import type { GatewayConfig } from "../config/schema.js";
import type { CameraConfig } from "../ingest/options.js";
import type { DecodeResult, LumaFrame } from "../core/types.js";
import { DecodePool } from "../decode/index.js";
import type { TrustStore } from "../verify/trust/index.js";
import { createHttpServer, GatewayMetrics, type HttpServer } from "../output/http/index.js";
import { FilePauseStore, FileSeqStore, type Lane } from "../lane/index.js";
import { CAMERA_UP_STATES, type Spawner } from "../ingest/index.js";
import { createCameraRig, type CameraRig } from "./cameras.js";
import { startOutputs, swapOutputs, type OutputDeps, type Outputs } from "./outputs.js";
import { LedgerDamagedError } from "../output/ledger/index.js";
import { highestRecordedSeq } from "../output/events/recorded-ids.js";
import { laneTelemetry, metricsCollectors, statsSnapshot, type Observed } from "./observe.js";
import { openRedis } from "./redis.js";
import type { ChangeGateOptions } from "./change-gate.js";
import { createReloader, planReload, unchangedSections, type ReloadResult, type Section } from "./reload.js";
import { logFaults } from "./fault-log.js";
import { openTrust } from "./trust.js";
import { LanePauses } from "./pauses.js";
import { LaneProblemRouter } from "./lane-problems.js";
import { createLaneSet, openReplayGuard } from "./lanes.js";
import { createHealthCheck } from "./health-check.js";
import { shutdown, type ShutdownParts } from "./shutdown.js";
import { acquireStateLock } from "./state-lock.js";

export type { ReloadResult } from "./reload.js";

export interface GatewayOptions {
  logger: Logger;
  clock?: Clock;
  /** ffmpeg spawner seam (tests). */
  spawner?: Spawner;
  /** Per camera spawner seam (tests): undefined for a camera means `spawner`. */
  spawnerFor?: (cam: CameraConfig) => Spawner | undefined;
  /** Re-reads and validates the config file for reload (admin API, SIGHUP). */
  reloadConfig?: () => GatewayConfig | Promise<GatewayConfig>;
  /** Frame change gate before decoding (default on); false decodes every frame. */
  changeGate?: ChangeGateOptions | false;
  /** Taps on the frame path (bench): each frame before decode, each decode result before its lane. */
  onFrame?: (frame: LumaFrame) => void;
  onDecoded?: (result: DecodeResult) => void;
}

export interface GatewayUrls {
  public: string;
  admin?: string;
  dashboard: string;
  lanes: Record<string, string>;
}

export interface Gateway {
  urls: GatewayUrls;
  bus: GatewayBus;
  /** The running lanes; a reload adds, replaces and removes entries of this same map. */
  lanes: ReadonlyMap<string, Lane>;
  cameras: CameraRig;
  /** The current decode pool (a reload of `decode` replaces it). */
  readonly pool: DecodePool;
  /** The current trust store (a reload of `trust` replaces it). */
  readonly trust: TrustStore;
  /** The config in effect (after reloads). */
  config(): GatewayConfig;
  /** Re-reads the config file and applies every section that can change at run time (admin API and SIGHUP). */
  reload(): Promise<ReloadResult>;
  /** Graceful stop: lanes out of service first, then cameras, decode, outputs, server. Idempotent. */
  close(): Promise<void>;
}

/**
 * Builds and starts the whole pipeline from a validated config. Nothing here decides verdicts:
 * it only connects the stages (see docs/lane.md for the order and why).
 */
/** `cfg` with `sections` taken from `from`; a section `from` does not set (an optional `mqtt`) is dropped. */
function withSections(cfg: GatewayConfig, from: GatewayConfig, sections: readonly Section[]): GatewayConfig {
  const out: Partial<Record<Section, unknown>> = { ...cfg };
  for (const s of sections) {
    if (from[s] === undefined) delete out[s];
    else out[s] = from[s];
  }
  return out as GatewayConfig;
}

export async function startGateway(config: GatewayConfig, opts: GatewayOptions): Promise<Gateway> {
  const clock = opts.clock ?? systemClock;
  const log = moduleLogger(opts.logger, "app");
  let cfg = config;
  const undo: Array<() => Promise<void> | void> = [];
  const fail = async (e: unknown): Promise<never> => {
    for (const u of undo.reverse()) await Promise.resolve(u()).catch(() => undefined);
    throw e;
  };

  // Before anything reads the .seq files or the ledger: a second gateway on this stateDir refuses
  // here (GW_STATE_DIR_LOCKED), and so does a disk that cannot take the lock (GW_STATE_DIR_UNWRITABLE).
  const lock = acquireStateLock(cfg.gateway.stateDir, { warn: (msg, fields) => log.warn(fields, msg), clock });
  undo.push(() => lock.release());

  const offFaultLog = logFaults(log);
  undo.push(offFaultLog);

  const salt = cfg.gateway.hashSalt ?? ephemeralSalt;
  if (!cfg.gateway.hashSalt && cfg.redis) {
    log.warn("gateway.hashSalt is not set: credential hashes differ per process, so replays are not recognised across gateways or restarts");
  }
  const bus = new GatewayBus((err, event) => log.error({ err: (err as Error)?.message, event }, "bus listener threw"));
  const metrics = new GatewayMetrics();
  undo.push(metrics.attach(bus));

  const redis = cfg.redis ? openRedis(cfg.redis, opts.logger) : undefined;
  if (redis) undo.push(() => redis.disconnect());
  const sharedRedis = redis && cfg.redis ? { client: redis, keyPrefix: cfg.redis.keyPrefix } : undefined;

  try {
    const trust = await openTrust(cfg, { clock, logger: opts.logger, salt, ...(sharedRedis ? { redis: sharedRedis } : {}) });
    undo.push(() => trust.stop());

    const replay = openReplayGuard(cfg.display.replayWindowS * 1000, clock, opts.logger, sharedRedis);
    const seq = new FileSeqStore(cfg.gateway.stateDir, { logger: opts.logger, block: cfg.gateway.eventIdBlock, floor: (lane, thorough) => highestRecordedSeq(cfg.gateway.stateDir, cfg.gateway.id, lane, thorough) });
    const problems = new LaneProblemRouter(log);
    const pauses = new LanePauses(new FilePauseStore(cfg.gateway.stateDir), log);
    const laneSet = createLaneSet(cfg, { bus, clock, logger: opts.logger, salt, replay, seq, verify: trust.verify, pauses, problems });
    const lanes = laneSet.lanes;
    undo.push(() => laneSet.close());
    undo.push(bus.on("lane-problem", (e) => problems.handle(e, lanes.values())));

    const buffers = new FrameBuffers();
    const openPool = (c: GatewayConfig) =>
      DecodePool.create({ ...(c.decode.workers ? { workers: c.decode.workers } : {}), deadlineMs: c.decode.deadlineMs, budgetMs: c.decode.budgetMs, escalateIntervalMs: c.decode.escalateIntervalMs, passes: c.decode.passes, logger: opts.logger, recycle: (b) => buffers.give(b) });
    let pool = await openPool(cfg);
    undo.push(() => pool.close());

    const cameras = createCameraRig({ cameras: cfg.cameras, lanes, pool: () => pool, buffers, metrics, logger: opts.logger, clock, ...(opts.spawner ? { spawner: opts.spawner } : {}), ...(opts.spawnerFor ? { spawnerFor: opts.spawnerFor } : {}), ...(opts.changeGate !== undefined ? { changeGate: opts.changeGate } : {}), ...(opts.onFrame ? { onFrame: opts.onFrame } : {}), ...(opts.onDecoded ? { onDecoded: opts.onDecoded } : {}) });
    undo.push(() => cameras.stop());

    const health = createHealthCheck({ lanes, staleAction: () => cfg.trust.staleAction, clockAction: () => cfg.trust.clockAction, trustStatus: () => trust.store.status(), pool: () => pool, cameras, clock, log });
    health.check();
    health.start();
    undo.push(() => health.stop());

    let outputs: Outputs | undefined;
    let closing: Promise<void> | undefined;
    const reloader = createReloader({ ...(opts.reloadConfig ? { read: opts.reloadConfig } : {}), stopping: () => closing !== undefined, apply: (next) => applyReporting(next), now: () => clock.now() });

    /** Applies what can change at run time, in dependency order; reports the rest as needing a restart. */
    const applyConfig = async (next: GatewayConfig, applied: Section[]): Promise<ReloadResult> => {
      const { changed, restartRequired, effective } = planReload(cfg, next);
      // MQTT sizes its keepalive and restates its status from the display's heartbeat (a frozen
      // gateway must go offline on MQTT no later than on the screens): a new heartbeat restarts it.
      const heartbeatChanged = cfg.display.heartbeatMs !== effective.display.heartbeatMs;
      // A section goes into cfg only once its step has run: when a step fails, it and every later
      // one keep their old values, so config() says what runs and the next reload tries them again
      // (the whole new file used to go in first, and a failed trust step hid the lanes it never built).
      const take = (s: Section) => {
        cfg = withSections(cfg, effective, [s]);
        applied.push(s);
      };

      if (changed.includes("log")) {
        if (process.env.LOG_LEVEL) log.warn({ level: process.env.LOG_LEVEL }, "log.level changed in the file, but LOG_LEVEL overrides it");
        else opts.logger.level = next.log.level;
        take("log");
      }
      if (changed.includes("display")) {
        replay.setWindowMs(effective.display.replayWindowS * 1000);
        take("display");
        if (heartbeatChanged) http.heartbeatChanged();
      }
      if (changed.includes("trust")) {
        await trust.replace(effective);
        take("trust");
      }
      if (changed.includes("decode")) {
        const old = pool;
        pool = await openPool(effective);
        take("decode");
        await old.close();
      }

      const details: ReloadResult["details"] = {};
      if (changed.includes("lanes") || changed.includes("cameras")) {
        try {
          // Lanes first (cameras report to them).
          details.lanes = await laneSet.apply(cfg, withSections(cfg, effective, ["lanes", "cameras"]));
          if (changed.includes("lanes")) take("lanes");
          details.cameras = await cameras.apply(effective.cameras);
          if (changed.includes("cameras")) take("cameras");
        } finally {
          // Removed lanes and cameras take their series with them, also when the camera step failed after the lanes'.
          metrics.targetsChanged(details);
        }
        // Rebuilt lanes learn the state of cameras that kept running.
        for (const h of cameras.info()) lanes.get(h.lane)?.setCameraUp(h.id, CAMERA_UP_STATES.has(h.state));
        for (const l of lanes.values()) bus.emit("lane-status", l.status());
      }

      const outputsChanged = changed.includes("mqtt") || changed.includes("events") || (effective.mqtt !== undefined && (changed.includes("lanes") || heartbeatChanged));
      // Any reload also tries again the parts that could not start, except a damaged ledger (it needs a
      // person and a restart): restarting the outputs briefly says offline on MQTT, so not for nothing.
      const retry = outputs !== undefined && [...outputs.off.values()].some((e) => !(e instanceof LedgerDamagedError));
      if (outputs && (outputsChanged || retry)) {
        const wasOff = [...outputs.off.keys()];
        const swap = await swapOutputs(
          bus,
          outputs,
          (handoff) => startOutputs(withSections(cfg, effective, ["mqtt", "events"]), bus, opts.logger, redis, { ...outputDeps, handoff }),
          // New outputs that cannot start: the running ones again (for the lanes that run now), so
          // no verdict goes unrecorded; `mqtt` and `events` keep their old values in cfg.
          (handoff) => startOutputs(cfg, bus, opts.logger, redis, { ...outputDeps, handoff }),
        );
        const running = swap.outputs;
        outputs = running;
        const back = wasOff.filter((p) => !running.off.has(p));
        if (back.length > 0) log.info({ outputs: back }, "outputs that were off started");
        if (swap.failed) throw swap.failed;
        for (const s of ["mqtt", "events"] as const) if (changed.includes(s)) take(s);
      }
      health.check();
      const result: ReloadResult = { applied, restartRequired, unchanged: unchangedSections(changed), details };
      log.info(result, restartRequired.length > 0 ? "config reloaded; some sections need a restart" : "config reloaded");
      return result;
    };

    /** A failed step's answer says which sections ran before it: they stay applied. */
    const applyReporting = async (next: GatewayConfig): Promise<ReloadResult> => {
      const applied: Section[] = [];
      try {
        return await applyConfig(next, applied);
      } catch (e) {
        if (e instanceof Error) {
          e.message += ` (applied before this failure: ${applied.length > 0 ? applied.join(", ") : "nothing"})`;
          Object.assign(e, { applied: [...applied] });
        }
        throw e;
      }
    };

    const pause = (id: string) => laneSet.setPaused(id, true);
    const resume = (id: string) => laneSet.setPaused(id, false);
    const http: HttpServer = createHttpServer({
      config: () => cfg,
      logger: opts.logger,
      bus,
      clock,
      lanes: () => [...lanes.values()].map((l) => pauses.annotate(l.status())),
      laneTelemetry: (id) => {
        const s = lanes.get(id)?.stats();
        return s ? laneTelemetry(s) : undefined;
      },
      cameras: () => cameras.info(),
      trust: () => trust.store.status(),
      latestFrame: (id) => cameras.latestFrame(id),
      metrics,
      admin: { reloadConfig: () => reloader.run(), refreshTrust: () => trust.store.refreshNow(), pauseLane: pause, resumeLane: resume },
    });
    undo.push(() => http.close());
    // After the server registered its collectors (it only does when none are set yet).
    // Metrics and the MQTT stats topic read the running stages at scrape time; pool, trust and
    // outputs are read through getters because a reload replaces them.
    const observed: Observed = {
      lanes,
      cameras,
      get pool() {
        return pool;
      },
      get trust() {
        return trust.store;
      },
      clock,
      displays: () => http.displays().streams,
      ...(redis ? { redis } : {}),
      outputs: () => outputs,
      replay,
      pauses,
      http,
      reloads: () => reloader.stats(),
      seq,
    };
    metrics.setCollectors({ ...metricsCollectors(observed), consumerErrors: () => cameras.consumerErrors() });
    const outputDeps: OutputDeps = { laneStatus: (id) => lanes.get(id)?.status(), stats: () => statsSnapshot(observed), actions: { pause, resume }, now: () => clock.now() };
    const listening = await http.listen();

    outputs = await startOutputs(cfg, bus, opts.logger, redis, outputDeps);
    undo.push(() => outputs?.close());

    // Publish every lane's initial (out-of-service until a camera delivers) status, then start cameras.
    for (const l of lanes.values()) bus.emit("lane-status", l.status());
    cameras.start();

    const urls: GatewayUrls = {
      public: listening.publicUrl,
      ...(listening.adminUrl ? { admin: listening.adminUrl } : {}),
      dashboard: `${listening.publicUrl}/`,
      lanes: Object.fromEntries(cfg.lanes.map((l) => [l.id, `${listening.publicUrl}/lanes/${l.id}`])),
    };
    log.info({ urls }, "gateway started");

    const parts: ShutdownParts = { lanes, health, reloading: () => reloader.inFlight(), cameras, pool: () => pool, outputs: () => outputs, replay, http, trust, ...(redis ? { redis } : {}), offFaultLog, log };
    return {
      urls,
      bus,
      lanes,
      cameras,
      get pool() {
        return pool;
      },
      get trust() {
        return trust.store;
      },
      config: () => cfg,
      reload: () => reloader.run(),
      close: () => (closing ??= shutdown(parts).finally(() => lock.release())),
    };
  } catch (e) {
    return fail(e);
  }
}
