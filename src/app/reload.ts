import type { GatewayConfig } from "../config/schema.js";
import type { ConfigReloadStats } from "../output/metrics/index.js";

export type Section = keyof GatewayConfig;

/** Sections a running gateway cannot change: identity and state dir, listeners and tokens, the Redis connection. */
export const RESTART_SECTIONS: readonly Section[] = ["gateway", "server", "redis"];

const SECTIONS: readonly Section[] = ["gateway", "log", "server", "decode", "cameras", "lanes", "display", "trust", "redis", "mqtt", "events"];

export interface ReloadResult {
  /** Sections that changed and now run with the new values. */
  applied: Section[];
  /** Sections that changed but keep their old values until the gateway restarts. */
  restartRequired: Section[];
  unchanged: Section[];
  /** Which lanes and cameras were added, removed or rebuilt. */
  details: {
    lanes?: { added: string[]; removed: string[]; changed: string[] };
    cameras?: { added: string[]; removed: string[]; changed: string[] };
  };
}

/** Top-level sections whose value differs (validated configs: defaults filled, so a textual compare is exact). */
export function diffSections(a: GatewayConfig, b: GatewayConfig): Section[] {
  return SECTIONS.filter((s) => JSON.stringify(a[s]) !== JSON.stringify(b[s]));
}

/** Every section not in `changed`, in the order the answer lists them. */
export function unchangedSections(changed: readonly Section[]): Section[] {
  return SECTIONS.filter((s) => !changed.includes(s));
}

export interface ReloadPlan {
  changed: Section[];
  restartRequired: Section[];
  /** The config that will run: the new file, except the restart sections keep their old values. */
  effective: GatewayConfig;
}

/** What a reload from `prev` to `next` changes; what is not applied keeps its old value, so `config()` tells the truth about what runs. */
export function planReload(prev: GatewayConfig, next: GatewayConfig): ReloadPlan {
  const changed = diffSections(prev, next);
  return {
    changed,
    restartRequired: changed.filter((s) => RESTART_SECTIONS.includes(s)),
    effective: { ...next, gateway: prev.gateway, server: prev.server, redis: prev.redis },
  };
}

export interface ReloaderDeps {
  /** Re-reads and validates the config file; without it reload is not available. */
  read?: () => GatewayConfig | Promise<GatewayConfig>;
  stopping: () => boolean;
  apply: (next: GatewayConfig) => Promise<ReloadResult>;
  /** Epoch ms, for the time of the last applied reload (the gateway passes its clock). */
  now?: () => number;
}

export interface Reloader {
  run(): Promise<ReloadResult>;
  /** The reload in progress, which a graceful stop waits for. */
  inFlight(): Promise<ReloadResult> | undefined;
  /** Reloads by result since start, for /metrics (a request refused because reload is unavailable or the gateway is stopping is no reload). */
  stats(): ConfigReloadStats;
}

/**
 * One reload at a time, and none that misses the file as it is now. A request while one runs
 * (admin API and SIGHUP together, or an operator who fixed the file the running reload read) gets
 * one follow-up reload, which reads the file after the running one ends; every request meanwhile
 * shares that follow-up's result. Never two applying at once over a half-applied state.
 */
export function createReloader(d: ReloaderDeps): Reloader {
  let running: Promise<ReloadResult> | undefined;
  let queued: Promise<ReloadResult> | undefined;
  const stats: ConfigReloadStats = { applied: 0, failed: 0, invalid: 0, restartRequired: false };
  const once = (): Promise<ReloadResult> =>
    (async () => {
      if (!d.read) throw Object.assign(new Error("reload is not available"), { code: "GW_RELOAD_UNSUPPORTED" });
      if (d.stopping()) throw Object.assign(new Error("the gateway is stopping"), { code: "GW_ADMIN_ACTION_FAILED" });
      let next: GatewayConfig;
      try {
        next = await d.read();
      } catch (e) {
        stats.invalid++;
        throw e;
      }
      let result: ReloadResult;
      try {
        result = await d.apply(next);
      } catch (e) {
        // restartRequired keeps the last applied reload's answer: a failed one reports no plan.
        stats.failed++;
        throw e;
      }
      stats.applied++;
      stats.lastAppliedAt = (d.now ?? Date.now)();
      stats.restartRequired = result.restartRequired.length > 0;
      return result;
    })().finally(() => {
      // A later microtask than the assignment below, so it can never run before it (a synchronous throw included).
      running = undefined;
    });
  return {
    run: () => {
      if (!running) return (running = once());
      queued ??= running
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return (running ??= once());
        });
      return queued;
    },
    inFlight: () => running,
    stats: () => ({ ...stats }),
  };
}
