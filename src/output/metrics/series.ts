import type { Metric, Registry } from "prom-client";
import type { MetricsCollectors } from "./types.js";

export type Labels = Record<string, string>;
/** What metrics_collector_errors_total counts by: a configured collector, or the contained-fault table. */
export type CollectorName = keyof MetricsCollectors | "faults";
export interface Sample {
  labels?: Labels;
  value: number | undefined;
}
/** What a configured collector returns. */
export type Collected<K extends keyof MetricsCollectors> = ReturnType<NonNullable<MetricsCollectors[K]>>;

/** Lanes and cameras a reload removed (and none has added again since). */
export interface RemovedTargets {
  lanes: Set<string>;
  cameras: Set<string>;
}

/** What each metric family module (cameras.ts, lanes.ts, ...) registers its pulled series with. */
export interface SeriesKit {
  /** Registers one series computed at scrape time from `samples` (a throw there costs this series only, and is counted). */
  series(collector: CollectorName, type: "gauge" | "counter", name: string, help: string, labelNames: readonly string[], samples: () => Sample[]): void;
  /** The collector's current value; undefined when it is not configured or threw (counted). */
  read<K extends keyof MetricsCollectors>(collector: K): Collected<K> | undefined;
  /** Epoch ms. */
  now(): number;
  /** For counts a stage keeps after a lane or camera is gone (decode pool, display refusals): those ids are left out. */
  removed: { readonly lanes: ReadonlySet<string>; readonly cameras: ReadonlySet<string> };
}

export interface SeriesKitOptions {
  registry: Registry;
  prefix: string;
  collectors: () => MetricsCollectors;
  /** Called for every throw; the owner counts it once per scrape. */
  failed: (collector: CollectorName) => void;
  now: () => number;
  removed: RemovedTargets;
}

export function seriesKit(o: SeriesKitOptions): SeriesKit {
  // A collector that throws must cost its own series, never the whole scrape; it is counted
  // (metrics_collector_errors_total), since a vanished series cannot fire its own alert.
  const read = <K extends keyof MetricsCollectors>(collector: K): Collected<K> | undefined => {
    try {
      return o.collectors()[collector]?.() as Collected<K> | undefined;
    } catch {
      o.failed(collector);
      return undefined;
    }
  };
  // Pulled series are plain registry entries computed at scrape time: unlike prom-client's Gauge,
  // a series without labels can then be absent (no Redis configured) rather than a made-up 0.
  const series: SeriesKit["series"] = (collector, type, name, help, _labelNames, samples) => {
    const full = `${o.prefix}${name}`;
    const values = () => {
      let list: Sample[] = [];
      try {
        list = samples();
      } catch {
        o.failed(collector);
        list = [];
      }
      return list
        .filter((s) => s.value !== undefined && Number.isFinite(s.value))
        .map((s) => ({ labels: s.labels ?? {}, value: type === "counter" ? Math.max(0, s.value!) : s.value! }));
    };
    const metric = { name: full, help, type, aggregator: "sum", get: () => Promise.resolve({ name: full, help, type, aggregator: "sum", values: values() }), reset: () => undefined };
    o.registry.registerMetric(metric as unknown as Metric);
  };
  return { series, read, now: o.now, removed: o.removed };
}

/** One unlabelled sample (absent when the value is). */
export const one = (value: number | undefined): Sample[] => [{ value }];
/** Epoch ms to Prometheus seconds. */
export const sec = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);
/** A boolean as one 0/1 sample (absent when undefined). */
export const flag = (b: boolean | undefined): Sample[] => one(b === undefined ? undefined : b ? 1 : 0);
