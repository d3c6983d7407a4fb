import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { GatewayBus } from "../../core/bus.js";
import type { VerdictEvent } from "../../core/types.js";
import { gatewayVersion } from "../../core/version.js";
import { faultCounts } from "../../core/faults.js";
import type { MetricsCollectors } from "./types.js";
import { seriesKit, type CollectorName, type RemovedTargets, type SeriesKit } from "./series.js";
import { registerCameraSeries } from "./cameras.js";
import { registerDecodeSeries } from "./decode.js";
import { registerLaneSeries } from "./lanes.js";
import { registerTrustSeries } from "./trust.js";
import { registerOutputSeries } from "./outputs.js";
import { registerServerSeries } from "./server.js";

export type { AuthRefusalCount, CameraStats, ConfigReloadStats, DecodePoolStats, DisplayRefusalCount, EventSeqStats, LaneCounters, LedgerAnchorSinkStats, LedgerAnchorStats, LedgerStats, MetricsCollectors, MqttStats, PauseStoreStats, SpoolStats, TlsListenerStats, TrustCounters } from "./types.js";

/** The lanes and cameras a reload added and removed (its answer's `details`); rebuilt ones are not named here. */
export interface TargetChanges {
  lanes?: { added: readonly string[]; removed: readonly string[] };
  cameras?: { added: readonly string[]; removed: readonly string[] };
}

export interface GatewayMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag), unprefixed as standard dashboards expect; on by default. */
  processMetrics?: boolean;
  prefix?: string;
  /** Epoch ms (timestamps are exported as seconds since the epoch). */
  now?: () => number;
}

/** Seconds; decode is a few ms, so the low buckets matter most. */
const DECODE_BUCKETS = [0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.6, 1.2, 2.5];
/** Seconds; the lane's target is p99 < 150 ms, the verdict arrives within a blink. */
const VERDICT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2, 5];
const FIRST_SEEN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15];

/**
 * One prom-client registry per gateway (never the global one, so tests and several instances
 * do not collide). Event-driven series (decode latency, verdicts) are pushed by the pipeline;
 * state series (cameras, lanes, decode pool, outputs) are pulled from collectors at scrape time,
 * registered per metric family (cameras.ts, decode.ts, lanes.ts, trust.ts, outputs.ts, server.ts).
 * Cumulative counts owned by other stages are exported as counters re-based at each scrape.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private collectors: MetricsCollectors = {};
  private readonly kit: SeriesKit;
  private readonly decode: Histogram<"camera">;
  private readonly frameToVerdict: Histogram<"lane">;
  private readonly firstSeenToVerdict: Histogram<"lane">;
  private readonly verdicts: Counter<"lane" | "verdict" | "reason">;
  private readonly lastVerdict: Gauge<"lane">;
  /** Scrapes in which each collector threw, and the ones that threw in the scrape under way. */
  private readonly collectorErrors = new Map<string, number>();
  private readonly failedThisScrape = new Set<string>();
  /** Lanes and cameras a reload removed, until a reload adds them again: late observations of theirs are ignored. */
  private readonly removed: RemovedTargets = { lanes: new Set(), cameras: new Set() };
  /** The verdict and reason pairs counted per lane, so that all of a removed lane's verdicts_total series can be dropped. */
  private readonly verdictPairs = new Map<string, Map<string, { verdict: string; reason: string }>>();

  constructor(opts: GatewayMetricsOptions = {}) {
    const p = opts.prefix ?? "checkpoint_gateway_";
    const r = [this.registry];
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.decode = new Histogram({ name: `${p}decode_seconds`, help: "Decode time per frame in a worker (all passes).", labelNames: ["camera"], buckets: DECODE_BUCKETS, registers: r });
    this.frameToVerdict = new Histogram({ name: `${p}frame_to_verdict_seconds`, help: "Frame received to verdict event sent.", labelNames: ["lane"], buckets: VERDICT_BUCKETS, registers: r });
    this.firstSeenToVerdict = new Histogram({ name: `${p}first_seen_to_verdict_seconds`, help: "A code's first sighting in a presentation to its verdict.", labelNames: ["lane"], buckets: FIRST_SEEN_BUCKETS, registers: r });
    // Each running lane's INTERNAL_ERROR series is there at 0 from the first scrape that sees the lane
    // (seeded at every scrape, so a lane a reload adds too): born at its first value, increase()
    // would miss that first burst and CheckpointLaneNoVerdict with it.
    this.verdicts = new Counter({ name: `${p}verdicts_total`, help: "Verdicts by lane, verdict and reason code.", labelNames: ["lane", "verdict", "reason"], registers: r, collect: () => this.seedVerdicts() });
    this.lastVerdict = new Gauge({ name: `${p}lane_last_verdict_timestamp_seconds`, help: "When the lane's last verdict was decided.", labelNames: ["lane"], registers: r });
    new Gauge({ name: `${p}build_info`, help: "Always 1; the gateway's version and the Node.js version as labels.", labelNames: ["version", "node"], registers: r }).set({ version: gatewayVersion(), node: process.versions.node }, 1);

    const kit = seriesKit({ registry: this.registry, prefix: p, collectors: () => this.collectors, failed: (c) => this.collectorFailed(c), now: opts.now ?? Date.now, removed: this.removed });
    this.kit = kit;
    registerCameraSeries(kit);
    registerDecodeSeries(kit);
    registerLaneSeries(kit);
    registerTrustSeries(kit);
    registerOutputSeries(kit);
    registerServerSeries(kit);
    kit.series("faults", "counter", "internal_faults_total", "Faults contained without exiting: timer callbacks that threw, unhandled rejections, uncaught exceptions, failed lane decisions.", ["kind"], () =>
      Object.entries(faultCounts()).map(([kind, n]) => ({ labels: { kind }, value: n })),
    );
    // Registered last, so it sees the scrape it is part of (the registry reads its series in order).
    // Every configured collector gets a 0, so increase() sees the first error.
    kit.series("faults", "counter", "metrics_collector_errors_total", "Scrapes in which a metrics collector threw: its series were missing from that scrape (and their alerts could not fire).", ["collector"], () => {
      this.failedThisScrape.clear();
      const names = new Set([...Object.keys(this.collectors).filter((k) => this.collectors[k as keyof MetricsCollectors]), ...this.collectorErrors.keys()]);
      return [...names].map((collector) => ({ labels: { collector }, value: this.collectorErrors.get(collector) ?? 0 }));
    });
  }

  /** Counted once per scrape, however many of the collector's series needed it. */
  private collectorFailed(collector: CollectorName): void {
    if (this.failedThisScrape.has(collector)) return;
    this.failedThisScrape.add(collector);
    this.collectorErrors.set(collector, (this.collectorErrors.get(collector) ?? 0) + 1);
  }

  setCollectors(c: MetricsCollectors): void {
    this.collectors = { ...this.collectors, ...c };
  }

  hasCollectors(): boolean {
    return Object.values(this.collectors).some(Boolean);
  }

  /**
   * A reload added or removed lanes and cameras. A removed one's series end with it, gauges and
   * histograms (they would read as a lane that still exists) and counters too (rate() and increase()
   * handle a series that ends; memory stays bounded by what runs). A re-added one starts afresh;
   * a rebuilt (changed) one keeps its series. The pulled series follow the running stages.
   */
  targetsChanged(c: TargetChanges): void {
    for (const lane of c.lanes?.added ?? []) this.removed.lanes.delete(lane);
    for (const camera of c.cameras?.added ?? []) this.removed.cameras.delete(camera);
    for (const lane of c.lanes?.removed ?? []) {
      this.removed.lanes.add(lane);
      for (const v of this.verdictPairs.get(lane)?.values() ?? []) this.verdicts.remove({ lane, ...v });
      this.verdictPairs.delete(lane);
      this.lastVerdict.remove({ lane });
      this.frameToVerdict.remove({ lane });
      this.firstSeenToVerdict.remove({ lane });
    }
    for (const camera of c.cameras?.removed ?? []) {
      this.removed.cameras.add(camera);
      this.decode.remove({ camera });
    }
  }

  observeDecode(ms: number, camera: string): void {
    // A frame of a removed camera whose decode ends after the reload must not bring its series back.
    if (this.removed.cameras.has(camera)) return;
    if (Number.isFinite(ms) && ms >= 0) this.decode.observe({ camera }, ms / 1000);
  }

  observeVerdict(ev: VerdictEvent): void {
    if (this.removed.lanes.has(ev.lane)) return;
    this.countVerdict(ev.lane, ev.verdict, ev.reason, 1);
    if (Number.isFinite(ev.at)) this.lastVerdict.set({ lane: ev.lane }, ev.at / 1000);
    if (Number.isFinite(ev.frameToVerdictMs) && ev.frameToVerdictMs >= 0) this.frameToVerdict.observe({ lane: ev.lane }, ev.frameToVerdictMs / 1000);
    if (Number.isFinite(ev.firstSeenToVerdictMs) && ev.firstSeenToVerdictMs >= 0) this.firstSeenToVerdict.observe({ lane: ev.lane }, ev.firstSeenToVerdictMs / 1000);
  }

  /** Counts every verdict published on the bus; call once per bus (returns the unsubscribe). */
  attach(bus: GatewayBus): () => void {
    return bus.on("verdict", (ev) => this.observeVerdict(ev));
  }

  /** Each running lane's INTERNAL_ERROR verdicts, at 0 until the first (a removed lane's go with its other verdict series: targetsChanged). */
  private seedVerdicts(): void {
    for (const l of this.kit.read("lanes") ?? []) this.countVerdict(l.lane, "ERROR", "INTERNAL_ERROR", 0);
  }

  private countVerdict(lane: string, verdict: string, reason: string, n: number): void {
    let pairs = this.verdictPairs.get(lane);
    if (!pairs) this.verdictPairs.set(lane, (pairs = new Map()));
    pairs.set(`${verdict} ${reason}`, { verdict, reason });
    this.verdicts.inc({ lane, verdict, reason }, n);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
