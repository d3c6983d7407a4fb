import { FrameBuffers } from "../core/frame-buffers.js";
import type { Cluster, Redis } from "ioredis";
import { systemClock, type Clock, type TimerHandle } from "../core/clock.js";
import { GatewayBus } from "../core/bus.js";
import { onFault } from "../core/faults.js";
import { ephemeralSalt } from "../core/hash.js";
import { moduleLogger, type Logger } from "../core/logger.js";
import type { GatewayConfig } from "../config/schema.js";
import type { LaneConfig } from "../lane/options.js";
import type { DecodeResult, LumaFrame, VerdictEvent } from "../core/types.js";
import { DecodePool } from "../decode/index.js";
import { createVerifier, ShcChunkAssembler, type Verifier } from "../verify/index.js";
import { createTrustStore, type TrustStore } from "../verify/trust/index.js";
import { createHttpServer, GatewayMetrics, type HttpServer } from "../output/http/index.js";
import { FilePauseStore, FileSeqStore, Lane, LaneProblems, LocalReplayGuard, RedisReplayGuard, recentQuantiles, type LaneProblem, type ReplayGuard } from "../lane/index.js";
import { CAMERA_UP_STATES, type Spawner } from "../ingest/index.js";
import { createCameraRig, type CameraRig } from "./cameras.js";
import { startOutputs, type OutputDeps, type Outputs } from "./outputs.js";
import { highestRecordedSeq } from "../output/events/recorded-ids.js";
import { metricsCollectors, statsSnapshot, type Observed } from "./observe.js";
import { openRedis } from "./redis.js";
import type { ChangeGateOptions } from "./change-gate.js";
import { laneHealth, PoolHealth } from "./lane-health.js";
import { diffSections, RESTART_SECTIONS, type ReloadResult, type Section } from "./reload.js";

export type { ReloadResult } from "./reload.js";

export interface GatewayOptions {
  logger: Logger;
  clock?: Clock;
  /** ffmpeg spawner seam (tests). */
  spawner?: Spawner;
  /** Re-reads and validates the config file for reload (admin API, SIGHUP). */
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

/** How often trust freshness and lane health (decode pool, frame path, ingest) are re-checked. */
const HEALTH_CHECK_MS = 500;
/** Lane problems decided by the health check (the others are set where they are known). */
const HEALTH_PROBLEMS = ["DECODE_DOWN", "INGEST_ERROR"] as const;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

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

  // Every contained fault (a timer that threw, a lane decision that failed) is logged with its place.
  const offFaultLog = onFault((f) => log.error({ code: f.kind === "timer" ? "GW_TIMER_FAULT" : f.kind === "unhandled_rejection" ? "GW_UNHANDLED_REJECTION" : f.kind === "uncaught_exception" ? "GW_UNCAUGHT_EXCEPTION" : "GW_INTERNAL_FAULT", kind: f.kind, where: f.where, err: f.error instanceof Error ? f.error.message : String(f.error) }, "internal fault contained; the gateway keeps running"));
  undo.push(offFaultLog);

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
    const openTrust = async (c: GatewayConfig): Promise<TrustStore> => {
      const t = await createTrustStore({ config: c.trust, stateDir: c.gateway.stateDir, clock, logger: opts.logger, ...(redis ? { redis, redisPrefix: `${c.redis!.keyPrefix}trust:` } : {}) });
      // A failed first refresh is not fatal: the store keeps its disk copy and reports staleness.
      await t.start().catch((e: unknown) => log.error({ err: (e as Error).message }, "trust store start failed"));
      return t;
    };
    let trust = await openTrust(cfg);
    undo.push(() => trust.stop());
    const makeVerifier = (c: GatewayConfig): Verifier => createVerifier({ trust: () => trust.view(), salt, clockSkewS: c.trust.clockSkewS, staleAction: c.trust.staleAction });
    let verifier = makeVerifier(cfg);

    const windowMs = cfg.display.replayWindowS * 1000;
    const local = new LocalReplayGuard(clock, windowMs);
    const replay: ReplayGuard = redis
      ? new RedisReplayGuard({ redis: redis as unknown as ConstructorParameters<typeof RedisReplayGuard>[0]["redis"], keyPrefix: cfg.redis!.keyPrefix, windowMs, local, logger: moduleLogger(opts.logger, "replay") })
      : local;
    const seq = new FileSeqStore(cfg.gateway.stateDir, { logger: opts.logger, block: cfg.gateway.eventIdBlock, floor: (lane, thorough) => highestRecordedSeq(cfg.gateway.stateDir, cfg.gateway.id, lane, thorough) });
    const pauses = new FilePauseStore(cfg.gateway.stateDir);
    const paused = new Set<string>();
    {
      const p = pauses.load();
      if (p.error) log.warn({ err: p.error }, "paused-lane state unreadable: lanes start unpaused");
      for (const id of p.paused) paused.add(id);
      if (paused.size > 0) log.info({ lanes: [...paused] }, "lanes paused before the restart stay paused");
    }
    const savePauses = () => {
      try {
        pauses.save(paused);
      } catch (e) {
        // The pause itself applies; only its survival across a restart is at risk, so say so.
        log.error({ err: (e as Error).message }, "paused-lane state could not be written: a restart would reopen paused lanes");
      }
    };

    const lanes = new Map<string, Lane>();
    const makeLane = (lc: LaneConfig, c: GatewayConfig): Lane => {
      const assembler = new ShcChunkAssembler({ maxAgeMs: lc.leaveMs * 4 });
      const lane = new Lane({
        config: lc,
        gatewayId: c.gateway.id,
        cameraIds: c.cameras.filter((cam) => cam.lane === lc.id).map((cam) => cam.id),
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
      });
      if (paused.has(lc.id)) lane.setPaused(true);
      return lane;
    };
    for (const lc of cfg.lanes) lanes.set(lc.id, makeLane(lc, cfg));
    undo.push(() => lanes.forEach((l) => l.close()));

    // Any stage can take a lane out of service (or every lane, without `lane`): see src/lane/state.ts.
    const raised = new Map<string, Set<string>>();
    const applyProblem = (lane: Lane, problem: string, on: boolean) => lane.setProblem(problem as LaneProblem, on);
    undo.push(
      bus.on("lane-problem", (e) => {
        if (!(e.problem in LaneProblems)) log.warn({ problem: e.problem }, "lane problem without a catalogue entry (src/lane/state.ts)");
        const key = e.lane ?? "*";
        const set = raised.get(key) ?? new Set<string>();
        if (e.on) set.add(e.problem);
        else set.delete(e.problem);
        raised.set(key, set);
        (e.on ? log.warn : log.info).call(log, { lane: e.lane ?? "*", problem: e.problem, detail: e.detail }, e.on ? "lane problem raised" : "lane problem cleared");
        for (const l of lanes.values()) if (!e.lane || e.lane === l.id) applyProblem(l, e.problem, e.on);
      }),
    );

    const buffers = new FrameBuffers();
    const openPool = (c: GatewayConfig) =>
      DecodePool.create({ ...(c.decode.workers ? { workers: c.decode.workers } : {}), deadlineMs: c.decode.deadlineMs, budgetMs: c.decode.budgetMs, escalateIntervalMs: c.decode.escalateIntervalMs, passes: c.decode.passes, logger: opts.logger, recycle: (b) => buffers.give(b) });
    let pool = await openPool(cfg);
    undo.push(() => pool.close());

    const cameras = createCameraRig({ cameras: cfg.cameras, lanes, pool: () => pool, buffers, metrics, logger: opts.logger, clock, ...(opts.spawner ? { spawner: opts.spawner } : {}), ...(opts.changeGate !== undefined ? { changeGate: opts.changeGate } : {}), ...(opts.onFrame ? { onFrame: opts.onFrame } : {}), ...(opts.onDecoded ? { onDecoded: opts.onDecoded } : {}) });
    undo.push(() => cameras.stop());

    // Trust freshness and lane health, on one guarded timer. A check that cannot read its inputs
    // fails safe: the lanes go out of service rather than stay green on unknown state.
    const poolHealth = new PoolHealth();
    let healthTimer: TimerHandle | undefined;
    let closing: Promise<void> | undefined;
    let trustUnreadable = false;
    const checkHealth = () => {
      let stale: boolean;
      try {
        stale = cfg.trust.staleAction === "out-of-service" && trust.status().stale;
        if (trustUnreadable) log.info("trust status readable again");
        trustUnreadable = false;
      } catch (e) {
        if (!trustUnreadable) log.error({ err: (e as Error).message }, "trust status unreadable: lanes out of service (TRUST_STALE) until it can be read");
        trustUnreadable = true;
        stale = true;
      }
      for (const l of lanes.values()) l.setProblem("TRUST_STALE", stale);
      let health: ReturnType<typeof laneHealth>;
      try {
        const poolDown = poolHealth.update(pool.stats().ready, clock.monotonic());
        health = laneHealth([...lanes.keys()], cameras.health(), poolDown);
      } catch (e) {
        log.error({ err: (e as Error).message }, "lane health unreadable: lanes out of service (DECODE_DOWN)");
        health = new Map([...lanes.keys()].map((id) => [id, { DECODE_DOWN: true, INGEST_ERROR: false }]));
      }
      for (const [id, h] of health) {
        const l = lanes.get(id);
        if (!l) continue;
        for (const p of HEALTH_PROBLEMS) {
          if (l.hasProblem(p) !== h[p]) log[h[p] ? "error" : "info"]({ lane: id, problem: p }, h[p] ? "lane is blind: out of service" : "lane problem cleared");
          l.setProblem(p, h[p]);
        }
      }
    };
    const scheduleHealth = () => {
      healthTimer = clock.setTimeout(
        () => {
          if (closing) return;
          scheduleHealth();
          checkHealth();
        },
        HEALTH_CHECK_MS,
        "app.health",
      );
    };
    checkHealth();
    scheduleHealth();
    undo.push(() => {
      if (healthTimer) clock.clearTimeout(healthTimer);
    });


    const laneOf = (id: string): Lane => {
      const l = lanes.get(id);
      if (!l) throw Object.assign(new Error(`no lane '${id}'`), { code: "GW_LANE_UNKNOWN" });
      return l;
    };
    const setPaused = (id: string, p: boolean) => {
      laneOf(id).setPaused(p);
      if (p) paused.add(id);
      else paused.delete(id);
      savePauses();
      log.info({ lane: id, paused: p }, p ? "lane paused" : "lane resumed");
    };

    let outputs: Outputs | undefined;
    let reloading: Promise<ReloadResult> | undefined;
    // One reload at a time: a second request while one runs gets the same result. The reset runs in
    // a later microtask, so it can never happen before the assignment (a synchronous throw included).
    const reload = (): Promise<ReloadResult> =>
      (reloading ??= (async () => {
        if (!opts.reloadConfig) throw Object.assign(new Error("reload is not available"), { code: "GW_RELOAD_UNSUPPORTED" });
        if (closing) throw Object.assign(new Error("the gateway is stopping"), { code: "GW_ADMIN_ACTION_FAILED" });
        return applyConfig(opts.reloadConfig());
      })().finally(() => {
        reloading = undefined;
      }));

    /** Applies what can change at run time, in dependency order; reports the rest as needing a restart. */
    const applyConfig = async (next: GatewayConfig): Promise<ReloadResult> => {
      const changed = diffSections(cfg, next);
      const applied: Section[] = [];
      const restartRequired: Section[] = changed.filter((s) => RESTART_SECTIONS.includes(s));
      const prev = cfg;
      // What is not applied keeps its old value, so `config()` tells the truth about what runs.
      cfg = { ...next, gateway: prev.gateway, server: prev.server, redis: prev.redis };

      if (changed.includes("log")) {
        if (process.env.LOG_LEVEL) log.warn({ level: process.env.LOG_LEVEL }, "log.level changed in the file, but LOG_LEVEL overrides it");
        else opts.logger.level = next.log.level;
        applied.push("log");
      }
      if (changed.includes("display")) applied.push("display");

      if (changed.includes("trust")) {
        const old = trust;
        trust = await openTrust(cfg);
        verifier = makeVerifier(cfg);
        await old.stop().catch((e: unknown) => log.warn({ err: (e as Error).message }, "old trust store did not stop cleanly"));
        applied.push("trust");
      }
      if (changed.includes("decode")) {
        const old = pool;
        pool = await openPool(cfg);
        await old.close();
        applied.push("decode");
      }

      const details: ReloadResult["details"] = {};
      if (changed.includes("lanes") || changed.includes("cameras")) {
        // Lanes first (cameras report to them); a lane is rebuilt when its config or its cameras change.
        const camsOf = (c: GatewayConfig, lane: string) => c.cameras.filter((x) => x.lane === lane).map((x) => x.id);
        const laneDiff = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
        const wanted = new Map(cfg.lanes.map((l) => [l.id, l]));
        for (const [id, lane] of [...lanes]) {
          const lc = wanted.get(id);
          if (lc && same(lc, prev.lanes.find((l) => l.id === id)) && same(camsOf(cfg, id), camsOf(prev, id))) continue;
          (lc ? laneDiff.changed : laneDiff.removed).push(id);
          lane.setProblem("SHUTTING_DOWN", true);
          await lane.settle();
          lane.close();
          lanes.delete(id);
          if (!lc) paused.delete(id);
        }
        for (const lc of cfg.lanes) {
          if (lanes.has(lc.id)) continue;
          if (!laneDiff.changed.includes(lc.id)) laneDiff.added.push(lc.id);
          const lane = makeLane(lc, cfg);
          for (const p of [...(raised.get("*") ?? []), ...(raised.get(lc.id) ?? [])]) applyProblem(lane, p, true);
          lanes.set(lc.id, lane);
        }
        if (laneDiff.removed.length > 0) savePauses();
        const camDiff = await cameras.apply(cfg.cameras);
        // Rebuilt lanes learn the state of cameras that kept running.
        for (const h of cameras.info()) lanes.get(h.lane)?.setCameraUp(h.id, CAMERA_UP_STATES.has(h.state));
        for (const l of lanes.values()) bus.emit("lane-status", l.status());
        details.lanes = laneDiff;
        details.cameras = camDiff;
        if (changed.includes("lanes")) applied.push("lanes");
        if (changed.includes("cameras")) applied.push("cameras");
      }

      const outputsChanged = changed.includes("mqtt") || changed.includes("events") || (cfg.mqtt !== undefined && changed.includes("lanes"));
      if (outputsChanged && outputs) {
        // Verdicts decided during the swap are held and written to the new ledger and spool.
        const held: VerdictEvent[] = [];
        const off = bus.on("verdict", (ev) => held.push(ev));
        try {
          await outputs.close();
          outputs = await startOutputs(cfg, bus, opts.logger, redis, outputDeps);
        } finally {
          off();
        }
        for (const ev of held) {
          outputs.ledger?.append(ev);
          outputs.spool?.append(ev);
        }
        for (const s of ["mqtt", "events"] as const) if (changed.includes(s)) applied.push(s);
      }
      checkHealth();
      const result: ReloadResult = { applied, restartRequired, unchanged: (["gateway", "log", "server", "decode", "cameras", "lanes", "display", "trust", "redis", "mqtt", "events"] as const).filter((s) => !changed.includes(s)), details };
      log.info(result, restartRequired.length > 0 ? "config reloaded; some sections need a restart" : "config reloaded");
      return result;
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
        reloadConfig: () => reload(),
        refreshTrust: () => trust.refreshNow(),
        pauseLane: (id) => setPaused(id, true),
        resumeLane: (id) => setPaused(id, false),
      },
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
        return trust;
      },
      clock,
      displays: () => http.displays().streams,
      ...(redis ? { redis } : {}),
      outputs: () => outputs,
    };
    metrics.setCollectors({ ...metricsCollectors(observed), consumerErrors: () => cameras.consumerErrors() });
    const outputDeps: OutputDeps = {
      laneStatus: (id) => lanes.get(id)?.status(),
      stats: () => statsSnapshot(observed),
      actions: { pause: (id) => setPaused(id, true), resume: (id) => setPaused(id, false) },
      now: () => clock.now(),
    };
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

    const close = () =>
      (closing ??= (async () => {
        log.info("gateway stopping");
        // Screens first: no lane may keep showing green while the rest shuts down.
        for (const l of lanes.values()) l.setProblem("SHUTTING_DOWN", true);
        if (healthTimer) clock.clearTimeout(healthTimer);
        await reloading?.catch(() => undefined);
        await cameras.stop();
        await pool.close();
        await Promise.all([...lanes.values()].map((l) => l.settle()));
        await outputs?.close();
        await replay.close();
        await http.close();
        for (const l of lanes.values()) l.close();
        await trust.stop();
        redis?.disconnect();
        offFaultLog();
        log.info("gateway stopped");
      })());
    return {
      urls,
      bus,
      lanes,
      cameras,
      get pool() {
        return pool;
      },
      get trust() {
        return trust;
      },
      config: () => cfg,
      reload,
      close,
    };
  } catch (e) {
    return fail(e);
  }
}
