import { FrameBuffers } from "../core/frame-buffers.js";
import type { Cluster, Redis } from "ioredis";
import { systemClock, type Clock, type TimerHandle } from "../core/clock.js";
import { GatewayBus } from "../core/bus.js";
import { ephemeralSalt } from "../core/hash.js";
import { moduleLogger, type Logger } from "../core/logger.js";
import type { GatewayConfig } from "../config/schema.js";
import type { DecodeResult, LumaFrame } from "../core/types.js";
import { DecodePool } from "../decode/index.js";
import { createVerifier, ShcChunkAssembler } from "../verify/index.js";
import { createTrustStore, type TrustStore } from "../verify/trust/index.js";
import { createHttpServer, GatewayMetrics, type HttpServer } from "../output/http/index.js";
import { FileSeqStore, Lane, LocalReplayGuard, RedisReplayGuard, recentQuantiles, type ReplayGuard } from "../lane/index.js";
import type { Spawner } from "../ingest/index.js";
import { createCameraRig, type CameraRig } from "./cameras.js";
import { startOutputs, type Outputs } from "./outputs.js";
import { highestRecordedSeq } from "../output/events/recorded-ids.js";
import { openRedis } from "./redis.js";
import { metricsCollectors, statsSnapshot, type Observed } from "./observe.js";
import type { ChangeGateOptions } from "./change-gate.js";

export interface GatewayOptions {
  logger: Logger;
  clock?: Clock;
  /** ffmpeg spawner seam (tests). */
  spawner?: Spawner;
  /** Re-reads and validates the config file for the admin "reload" action. */
  reloadConfig?: () => GatewayConfig;
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
  lanes: ReadonlyMap<string, Lane>;
  cameras: CameraRig;
  pool: DecodePool;
  trust: TrustStore;
  /** Graceful stop: lanes out of service first, then cameras, decode, outputs, server. Idempotent. */
  close(): Promise<void>;
}

/** How often trust freshness is re-checked for staleAction: out-of-service. */
const TRUST_CHECK_MS = 1000;

/**
 * Builds and starts the whole pipeline from a validated config. Nothing here decides verdicts:
 * it only connects the stages (see docs/lane.md for the order and why).
 */
export async function startGateway(config: GatewayConfig, opts: GatewayOptions): Promise<Gateway> {
  const clock = opts.clock ?? systemClock;
  const log = moduleLogger(opts.logger, "app");
  let cfg = config;
  const undo: Array<() => Promise<void> | void> = [];
  const fail = async (e: unknown): Promise<never> => {
    for (const u of undo.reverse()) await Promise.resolve(u()).catch(() => undefined);
    throw e;
  };

  const salt = cfg.gateway.hashSalt ?? ephemeralSalt;
  if (!cfg.gateway.hashSalt && cfg.redis) {
    log.warn("gateway.hashSalt is not set: credential hashes differ per process, so replays are not recognised across gateways or restarts");
  }
  const bus = new GatewayBus((err, event) => log.error({ err: (err as Error)?.message, event }, "bus listener threw"));
  const metrics = new GatewayMetrics();
  undo.push(metrics.attach(bus));

  let redis: Redis | Cluster | undefined;
  if (cfg.redis) {
    redis = openRedis(cfg.redis, opts.logger);
    const r = redis;
    undo.push(() => r.disconnect());
  }

  try {
    const trust = await createTrustStore({ config: cfg.trust, stateDir: cfg.gateway.stateDir, clock, logger: opts.logger, ...(redis ? { redis, redisPrefix: `${cfg.redis!.keyPrefix}trust:` } : {}) });
    undo.push(() => trust.stop());
    // A failed first refresh is not fatal: the store keeps its disk copy and reports staleness.
    await trust.start().catch((e: unknown) => log.error({ err: (e as Error).message }, "trust store start failed"));
    const verifier = createVerifier({ trust: () => trust.view(), salt, clockSkewS: cfg.trust.clockSkewS, staleAction: cfg.trust.staleAction });

    const windowMs = cfg.display.replayWindowS * 1000;
    const local = new LocalReplayGuard(clock, windowMs);
    const replay: ReplayGuard = redis
      ? new RedisReplayGuard({ redis: redis as unknown as ConstructorParameters<typeof RedisReplayGuard>[0]["redis"], keyPrefix: cfg.redis!.keyPrefix, windowMs, local, logger: moduleLogger(opts.logger, "replay") })
      : local;
    const seq = new FileSeqStore(cfg.gateway.stateDir, { logger: opts.logger, floor: (lane, thorough) => highestRecordedSeq(cfg.gateway.stateDir, cfg.gateway.id, lane, thorough) });
    const lanes = new Map<string, Lane>();
    for (const lc of cfg.lanes) {
      const assembler = new ShcChunkAssembler({ maxAgeMs: lc.leaveMs * 4 });
      lanes.set(
        lc.id,
        new Lane({
          config: lc,
          gatewayId: cfg.gateway.id,
          cameraIds: cfg.cameras.filter((c) => c.lane === lc.id).map((c) => c.id),
          verify: (text, ctx) => verifier.verify(text, ctx),
          replay,
          bus,
          clock,
          logger: moduleLogger(opts.logger, "lane", { lane: lc.id }),
          salt,
          seq,
          chunkAssembler: {
            add(text, nowMs) {
              const r = assembler.add(text, nowMs);
              return r.status === "complete" ? r.text : undefined;
            },
          },
        }),
      );
    }
    undo.push(() => lanes.forEach((l) => l.close()));

    let trustTimer: TimerHandle | undefined;
    const checkTrust = () => {
      const stale = cfg.trust.staleAction === "out-of-service" && trust.status().stale;
      for (const l of lanes.values()) l.setProblem("TRUST_STALE", stale);
      trustTimer = clock.setTimeout(checkTrust, TRUST_CHECK_MS);
    };
    checkTrust();
    undo.push(() => {
      if (trustTimer) clock.clearTimeout(trustTimer);
    });

    const buffers = new FrameBuffers();
    const pool = await DecodePool.create({ ...(cfg.decode.workers ? { workers: cfg.decode.workers } : {}), deadlineMs: cfg.decode.deadlineMs, budgetMs: cfg.decode.budgetMs, escalateIntervalMs: cfg.decode.escalateIntervalMs, passes: cfg.decode.passes, logger: opts.logger, recycle: (b) => buffers.give(b) });
    undo.push(() => pool.close());

    const cameras = createCameraRig({ cameras: cfg.cameras, lanes, pool, buffers, metrics, logger: opts.logger, clock, ...(opts.spawner ? { spawner: opts.spawner } : {}), ...(opts.changeGate !== undefined ? { changeGate: opts.changeGate } : {}), ...(opts.onFrame ? { onFrame: opts.onFrame } : {}), ...(opts.onDecoded ? { onDecoded: opts.onDecoded } : {}) });
    undo.push(() => cameras.stop());

    const laneOf = (id: string): Lane => {
      const l = lanes.get(id);
      if (!l) throw Object.assign(new Error(`no lane '${id}'`), { code: "GW_LANE_UNKNOWN" });
      return l;
    };
    const http: HttpServer = createHttpServer({
      config: () => cfg,
      logger: opts.logger,
      bus,
      clock,
      lanes: () => [...lanes.values()].map((l) => l.status()),
      laneTelemetry: (id) => {
        const s = lanes.get(id)?.stats();
        if (!s) return undefined;
        const q = recentQuantiles(s);
        return {
          framesTried: s.verdicts ? s.framesTriedTotal / s.verdicts : 0,
          readFailures: s.readFailures,
          // Of the frames decoded while a code was in view, the share in which it was read.
          ...(s.codesRead + s.missedReads > 0 ? { readRate: s.codesRead / (s.codesRead + s.missedReads) } : {}),
          ...(q ? { firstSeenToVerdictMs: q } : {}),
        };
      },
      cameras: () => cameras.info(),
      trust: () => trust.status(),
      latestFrame: (id) => cameras.latestFrame(id),
      metrics,
      admin: {
        reloadConfig: async () => {
          if (!opts.reloadConfig) throw Object.assign(new Error("reload is not available"), { code: "GW_RELOAD_UNSUPPORTED" });
          const next = opts.reloadConfig();
          // Display texts, heartbeats and trust timing follow at once; cameras and lanes need a restart.
          if (JSON.stringify(next.cameras) !== JSON.stringify(cfg.cameras) || JSON.stringify(next.lanes) !== JSON.stringify(cfg.lanes)) {
            log.warn("config reloaded: camera and lane changes take effect after a restart");
          }
          cfg = { ...cfg, display: next.display, log: next.log };
          await Promise.resolve();
        },
        refreshTrust: () => trust.refreshNow(),
        pauseLane: (id) => laneOf(id).setPaused(true),
        resumeLane: (id) => laneOf(id).setPaused(false),
      },
    });
    undo.push(() => http.close());
    const listening = await http.listen();

    // Metrics read the outputs once they exist (the collectors are set first so no scrape misses a series).
    const ref: { outputs?: Outputs } = {};
    const observed: Observed = { lanes, cameras, pool, trust, clock, displays: () => http.displays().streams, ...(redis ? { redis } : {}), outputs: () => ref.outputs };
    metrics.setCollectors(metricsCollectors(observed));
    const outputs: Outputs = await startOutputs(cfg, bus, opts.logger, redis, {
      laneStatus: (id) => lanes.get(id)?.status(),
      stats: () => statsSnapshot(observed),
      actions: { pause: (id) => laneOf(id).setPaused(true), resume: (id) => laneOf(id).setPaused(false) },
      now: () => clock.now(),
    });
    ref.outputs = outputs;
    undo.push(() => outputs.close());

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

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        log.info("gateway stopping");
        // Screens first: no lane may keep showing green while the rest shuts down.
        for (const l of lanes.values()) l.setProblem("SHUTTING_DOWN", true);
        if (trustTimer) clock.clearTimeout(trustTimer);
        await cameras.stop();
        await pool.close();
        await Promise.all([...lanes.values()].map((l) => l.settle()));
        await outputs.close();
        await replay.close();
        await http.close();
        for (const l of lanes.values()) l.close();
        await trust.stop();
        redis?.disconnect();
        log.info("gateway stopped");
      })());
    return { urls, bus, lanes, cameras, pool, trust, close };
  } catch (e) {
    return fail(e);
  }
}
