import type { Cluster, Redis } from "ioredis";
import type { GatewayBus } from "../core/bus.js";
import type { Clock } from "../core/clock.js";
import { moduleLogger, type Logger } from "../core/logger.js";
import type { GatewayConfig } from "../config/schema.js";
import { Lane, LocalReplayGuard, RedisReplayGuard, type LaneCarryOver, type ReplayGuard, type SeqStore, type VerifyFn } from "../lane/index.js";
import type { LaneConfig } from "../lane/options.js";
import type { ResizableReplayGuard } from "../lane/replay-guard.js";
import { ShcChunkAssembler } from "../verify/index.js";
import type { LaneProblemRouter } from "./lane-problems.js";
import type { LanePauses } from "./pauses.js";

/** The lane ids a reload touches (also the `details.lanes` of its answer). */
export interface LaneChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

type LaneSections = Pick<GatewayConfig, "lanes" | "cameras">;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const camerasOf = (c: LaneSections, lane: string) => c.cameras.filter((x) => x.lane === lane).map((x) => x.id);

/**
 * A new lane's STARTING grace, as a multiple of the longest first-frame grace its cameras'
 * watchdogs allow (ingest `startupGraceMs`, counted from each ffmpeg spawn). The lane is built
 * before the decode pool, the server and the outputs start, and its cameras only after them: the
 * margin covers that start-up, so a camera is not called down before its own watchdog gave up.
 */
export const STARTUP_GRACE_FACTOR = 2;

export function laneStartupGraceMs(c: LaneSections, lane: string): number {
  return STARTUP_GRACE_FACTOR * Math.max(0, ...c.cameras.filter((x) => x.lane === lane).map((x) => x.startupGraceMs));
}

/**
 * Which running lanes a reload rebuilds (its config or its camera set changed) or removes, and
 * which it adds. A lane's camera ids are fixed when it is built, so a new camera set rebuilds it.
 * `running` is in the order the lanes run, which is the order the answer reports them in.
 */
export function laneChanges(running: readonly string[], prev: LaneSections, next: LaneSections): LaneChanges {
  const wanted = new Map(next.lanes.map((l) => [l.id, l]));
  const out: LaneChanges = { added: [], removed: [], changed: [] };
  for (const id of running) {
    const lc = wanted.get(id);
    if (lc && same(lc, prev.lanes.find((l) => l.id === id)) && same(camerasOf(next, id), camerasOf(prev, id))) continue;
    (lc ? out.changed : out.removed).push(id);
  }
  for (const lc of next.lanes) if (!running.includes(lc.id)) out.added.push(lc.id);
  return out;
}

/**
 * The replay guard every lane shares. With Redis it spans the site's gateways, and the in-process
 * guard answers while Redis is down; without Redis the in-process guard is all there is. A reload
 * of display.replayWindowS resizes it in place, so the claims it holds are kept.
 */
export function openReplayGuard(windowMs: number, clock: Clock, logger: Logger, redis?: { client: Redis | Cluster; keyPrefix: string }): ResizableReplayGuard {
  const local = new LocalReplayGuard(clock, windowMs);
  if (!redis) return local;
  return new RedisReplayGuard({ redis: redis.client as unknown as ConstructorParameters<typeof RedisReplayGuard>[0]["redis"], keyPrefix: redis.keyPrefix, windowMs, local, logger: moduleLogger(logger, "replay") });
}

export interface LaneSetDeps {
  bus: GatewayBus;
  clock: Clock;
  logger: Logger;
  salt: string;
  replay: ReplayGuard;
  seq: SeqStore;
  /** Reads the current verifier at each call: a trust reload replaces it. */
  verify: VerifyFn;
  pauses: LanePauses;
  problems: LaneProblemRouter;
}

export interface LaneSet {
  /** The running lanes; `apply` adds, replaces and removes entries of this same map. */
  readonly lanes: ReadonlyMap<string, Lane>;
  /** Throws GW_LANE_UNKNOWN (the admin API answers 404) for a lane that does not run. */
  get(id: string): Lane;
  setPaused(id: string, paused: boolean): void;
  /** Rebuilds the lanes a reload changes: each one leaves service and settles before it closes. */
  apply(prev: GatewayConfig, next: GatewayConfig): Promise<LaneChanges>;
  close(): void;
}

/** Builds the configured lanes, keeps their pauses and rebuilds them on a reload. */
export function createLaneSet(cfg: GatewayConfig, d: LaneSetDeps): LaneSet {
  const log = moduleLogger(d.logger, "app");
  const lanes = new Map<string, Lane>();
  const build = (lc: LaneConfig, c: GatewayConfig, from?: LaneCarryOver): Lane => {
    const lane = new Lane({
      config: lc,
      gatewayId: c.gateway.id,
      cameraIds: camerasOf(c, lc.id),
      verify: d.verify,
      replay: d.replay,
      bus: d.bus,
      clock: d.clock,
      logger: moduleLogger(d.logger, "lane", { lane: lc.id }),
      salt: d.salt,
      seq: d.seq,
      startupGraceMs: laneStartupGraceMs(c, lc.id),
      // A chunk not seen for leaveMs has left with its holder (it must not complete the next card).
      chunkAssembler: new ShcChunkAssembler({ maxAgeMs: lc.leaveMs }),
      ...(from ? { from } : {}),
    });
    if (d.pauses.has(lc.id)) lane.setPaused(true);
    d.problems.applyTo(lane);
    return lane;
  };
  for (const lc of cfg.lanes) lanes.set(lc.id, build(lc, cfg));

  const get = (id: string): Lane => {
    const l = lanes.get(id);
    if (!l) throw Object.assign(new Error(`no lane '${id}'`), { code: "GW_LANE_UNKNOWN" });
    return l;
  };

  return {
    lanes,
    get,
    setPaused(id, paused) {
      get(id).setPaused(paused);
      d.pauses.set(id, paused);
      log.info({ lane: id, paused }, paused ? "lane paused" : "lane resumed");
    },
    async apply(prev, next) {
      const diff = laneChanges([...lanes.keys()], prev, next);
      // A rebuilt lane takes over what the old one knew of the codes in view, whatever changed (its
      // cameras too): the traveller in front of it is the same, and a code held through the reload
      // is one presentation with one verdict, not a second one that says REPLAYED.
      const carried = new Map<string, LaneCarryOver>();
      for (const [id, lane] of [...lanes]) {
        if (!diff.changed.includes(id) && !diff.removed.includes(id)) continue;
        lane.setProblem("SHUTTING_DOWN", true);
        await lane.settle();
        lane.close();
        lanes.delete(id);
        if (diff.changed.includes(id)) carried.set(id, lane.carryOver());
      }
      for (const lc of next.lanes) if (!lanes.has(lc.id)) lanes.set(lc.id, build(lc, next, carried.get(lc.id)));
      d.pauses.forget(diff.removed);
      return diff;
    },
    close: () => lanes.forEach((l) => l.close()),
  };
}
