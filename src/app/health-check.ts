import type { Clock, TimerHandle } from "../core/clock.js";
import type { Logger } from "../core/logger.js";
import type { Lane } from "../lane/index.js";
import { laneHealth, PoolHealth, type CameraHealthInput } from "./lane-health.js";

/** How often trust freshness and lane health (decode pool, frame path, ingest) are re-checked. */
export const HEALTH_CHECK_MS = 500;
/** Lane problems decided by the health check (the others are set where they are known). */
const HEALTH_PROBLEMS = ["DECODE_DOWN", "INGEST_ERROR", "CAMERAS_BLIND"] as const;

export interface HealthCheckDeps {
  lanes: ReadonlyMap<string, Pick<Lane, "setProblem" | "hasProblem">>;
  /** Read at each check: a reload may change the action or replace the store. */
  staleAction: () => string;
  clockAction: () => string;
  trustStatus: () => { stale: boolean; clockUntrusted?: unknown };
  pool: () => { stats(): { ready: number } };
  cameras: { health(): CameraHealthInput[] };
  clock: Clock;
  log: Logger;
}

export interface HealthCheck {
  /** One check now (start-up, after a reload). */
  check(): void;
  /** Checks every HEALTH_CHECK_MS on one guarded timer (`app.health`) until `stop()`. */
  start(): void;
  stop(): void;
}

/**
 * Trust freshness (TRUST_STALE), the clock (CLOCK_UNTRUSTED) and lane blindness (DECODE_DOWN, INGEST_ERROR, see lane-health.ts)
 * applied as lane problems. A check that cannot read its inputs fails safe: the lanes go out of
 * service rather than stay green on unknown state.
 */
export function createHealthCheck(d: HealthCheckDeps): HealthCheck {
  const poolHealth = new PoolHealth();
  const { log, lanes } = d;
  let timer: TimerHandle | undefined;
  let stopped = false;
  let trustUnreadable = false;
  let healthUnreadable = false;

  const check = () => {
    let stale = false;
    let clockBad = false;
    try {
      // With both actions "flag" the verdicts say it: the status is not even read.
      const staleOos = d.staleAction() === "out-of-service";
      const clockOos = d.clockAction() === "out-of-service";
      if (staleOos || clockOos) {
        const st = d.trustStatus();
        stale = staleOos && st.stale;
        clockBad = clockOos && st.clockUntrusted !== undefined;
      }
      if (trustUnreadable) log.info("trust status readable again");
      trustUnreadable = false;
    } catch (e) {
      if (!trustUnreadable) log.error({ err: (e as Error).message }, "trust status unreadable: lanes out of service (TRUST_STALE) until it can be read");
      trustUnreadable = true;
      stale = true;
      clockBad = false;
    }
    for (const l of lanes.values()) {
      l.setProblem("TRUST_STALE", stale);
      l.setProblem("CLOCK_UNTRUSTED", clockBad);
    }
    let health: ReturnType<typeof laneHealth>;
    try {
      const poolDown = poolHealth.update(d.pool().stats().ready, d.clock.monotonic());
      health = laneHealth([...lanes.keys()], d.cameras.health(), poolDown);
      if (healthUnreadable) log.info("lane health readable again");
      healthUnreadable = false;
    } catch (e) {
      // Once per episode: the check runs twice a second, and the lanes' own problem logs say the rest.
      if (!healthUnreadable) log.error({ err: (e as Error).message }, "lane health unreadable: lanes out of service (DECODE_DOWN) until it can be read");
      healthUnreadable = true;
      health = new Map([...lanes.keys()].map((id) => [id, { DECODE_DOWN: true, INGEST_ERROR: false, CAMERAS_BLIND: false }]));
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

  const schedule = () => {
    timer = d.clock.setTimeout(
      () => {
        if (stopped) return;
        schedule();
        check();
      },
      HEALTH_CHECK_MS,
      "app.health",
    );
  };

  return {
    check,
    start: schedule,
    stop() {
      stopped = true;
      if (timer) d.clock.clearTimeout(timer);
    },
  };
}
