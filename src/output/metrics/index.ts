import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { GatewayBus } from "../../core/bus.js";
import type { LaneState, LaneStatus, VerdictEvent } from "../../core/types.js";
import type { TrustStatus } from "../../verify/trust/types.js";
import { maskUrl, secretMasker } from "../../core/mask.js";
import { faultCounts } from "../../core/faults.js";

/** Labels end up in a time-series database: a trust URL's credentials must not. */
const cleanLabel = (s: string) => secretMasker.mask(maskUrl(s));

/** What /metrics needs to know about each camera at scrape time (same shape the dashboard uses). */
export interface CameraStats {
  id: string;
  lane: string;
  state: string;
  fpsIn: number;
  framesDropped: number;
  lastFrameAgeMs?: number;
  reconnectsLastHour: number;
  stallsLastHour: number;
}

/** Pulled at scrape time, so the numbers are never older than the scrape. */
export interface MetricsCollectors {
  cameras?: () => CameraStats[];
  trust?: () => TrustStatus;
  lanes?: () => LaneStatus[];
  /** Decode pool health: workers configured and ready, replacements (all causes) and deadline timeouts since start. */
  decode?: () => { workers: number; ready: number; restarts: number; timeouts: number };
  /** Frame-path failures after ingest per camera since start (consumer threw, decode error). */
  consumerErrors?: () => Record<string, number>;
}

export interface GatewayMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag); on by default. */
  processMetrics?: boolean;
  prefix?: string;
}

const LANE_STATES: readonly LaneState[] = ["idle", "pass", "flag", "out-of-service", "paused"];
/** Seconds; decode is a few ms, so the low buckets matter most. */
const DECODE_BUCKETS = [0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.6, 1.2, 2.5];
/** Seconds; the lane's target is p99 < 150 ms, the verdict arrives within a blink. */
const VERDICT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2, 5];
const FIRST_SEEN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15];

/**
 * One prom-client registry per gateway (never the global one, so tests and several instances
 * do not collide). Event-driven series (decode latency, verdicts) are pushed by the pipeline;
 * state series (cameras, trust, lanes) are pulled from collectors at scrape time.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private collectors: MetricsCollectors = {};
  private readonly decode: Histogram<"camera">;
  private readonly frameToVerdict: Histogram<"lane">;
  private readonly firstSeenToVerdict: Histogram<"lane">;
  private readonly verdicts: Counter<"lane" | "verdict" | "reason">;

  constructor(opts: GatewayMetricsOptions = {}) {
    const p = opts.prefix ?? "checkpoint_gateway_";
    const r = [this.registry];
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: p });
    this.decode = new Histogram({ name: `${p}decode_seconds`, help: "Decode time per frame in a worker (all passes).", labelNames: ["camera"], buckets: DECODE_BUCKETS, registers: r });
    this.frameToVerdict = new Histogram({ name: `${p}frame_to_verdict_seconds`, help: "Frame received to verdict event sent.", labelNames: ["lane"], buckets: VERDICT_BUCKETS, registers: r });
    this.firstSeenToVerdict = new Histogram({ name: `${p}first_seen_to_verdict_seconds`, help: "A code's first sighting in a presentation to its verdict.", labelNames: ["lane"], buckets: FIRST_SEEN_BUCKETS, registers: r });
    this.verdicts = new Counter({ name: `${p}verdicts_total`, help: "Verdicts by lane, verdict and reason code.", labelNames: ["lane", "verdict", "reason"], registers: r });

    // Arrow functions keep the GatewayMetrics `this`; inside collect(), `this` is the metric.
    const current = () => this.collectors;
    const cams = () => current().cameras?.() ?? [];
    new Gauge({
      name: `${p}camera_state`, help: "1 for the camera's current supervisor state, 0 for the others seen before.",
      labelNames: ["camera", "lane", "state"], registers: r,
      collect() {
        this.reset();
        for (const c of cams()) this.set({ camera: c.id, lane: c.lane, state: c.state }, 1);
      },
    });
    new Gauge({
      name: `${p}camera_up`, help: "1 when the camera delivers frames (state online).", labelNames: ["camera", "lane"], registers: r,
      collect() {
        this.reset();
        for (const c of cams()) this.set({ camera: c.id, lane: c.lane }, c.state === "online" ? 1 : 0);
      },
    });
    const perCamera = (name: string, help: string, pick: (c: CameraStats) => number | undefined) =>
      new Gauge({
        name: `${p}${name}`, help, labelNames: ["camera", "lane"], registers: r,
        collect() {
          this.reset();
          for (const c of cams()) {
            const v = pick(c);
            if (v !== undefined && Number.isFinite(v)) this.set({ camera: c.id, lane: c.lane }, v);
          }
        },
      });
    perCamera("camera_fps", "Frames per second read from the camera.", (c) => c.fpsIn);
    perCamera("camera_last_frame_age_seconds", "Time since the camera's last frame.", (c) => (c.lastFrameAgeMs === undefined ? undefined : c.lastFrameAgeMs / 1000));
    perCamera("camera_reconnects_last_hour", "Camera process restarts in the last hour.", (c) => c.reconnectsLastHour);
    perCamera("camera_stalls_last_hour", "Camera stalls (no frame within the stall timeout) in the last hour.", (c) => c.stallsLastHour);
    // Cumulative count owned by ingest: exposed as a counter by re-basing at each scrape.
    new Counter({
      name: `${p}camera_frames_dropped_total`, help: "Frames dropped because the decode slot was full.", labelNames: ["camera", "lane"], registers: r,
      collect() {
        this.reset();
        for (const c of cams()) this.inc({ camera: c.id, lane: c.lane }, Math.max(0, c.framesDropped));
      },
    });

    const trust = () => current().trust?.();
    new Gauge({
      name: `${p}trust_age_seconds`, help: "Age of the oldest required trust source (absent when never refreshed).", registers: r,
      collect() {
        this.reset();
        const t = trust();
        if (t?.ageMs !== undefined) this.set(t.ageMs / 1000);
      },
    });
    new Gauge({
      name: `${p}trust_stale`, help: "1 when trust data is older than trust.maxAgeS.", registers: r,
      collect() {
        this.reset();
        const t = trust();
        if (t) this.set(t.stale ? 1 : 0);
      },
    });
    new Gauge({
      name: `${p}trust_source_ok`, help: "1 when the trust source's last refresh succeeded.", labelNames: ["source"], registers: r,
      collect() {
        this.reset();
        for (const s of trust()?.sources ?? []) this.set({ source: cleanLabel(s.source) }, s.ok ? 1 : 0);
      },
    });
    new Gauge({
      name: `${p}trust_keys`, help: "Keys loaded per trust source.", labelNames: ["source"], registers: r,
      collect() {
        this.reset();
        for (const s of trust()?.sources ?? []) this.set({ source: cleanLabel(s.source) }, s.keys);
      },
    });
    new Gauge({
      name: `${p}trust_clock_drift_seconds`, help: "Local clock minus the trust server's Date header.", registers: r,
      collect() {
        this.reset();
        const d = trust()?.clockDriftMs;
        if (d !== undefined) this.set(d / 1000);
      },
    });
    new Gauge({
      name: `${p}lane_state`, help: "1 for the lane's current display state.", labelNames: ["lane", "state"], registers: r,
      collect() {
        this.reset();
        for (const l of current().lanes?.() ?? []) {
          for (const s of LANE_STATES) this.set({ lane: l.lane, state: s }, l.state === s ? 1 : 0);
        }
      },
    });
    this.registerHealth(p, r, current);
  }

  /** Blindness signals (issue #11 finding 11): decode pool, frame consumers, lane problems, contained faults. */
  private registerHealth(p: string, r: Registry[], current: () => MetricsCollectors): void {
    const dec = () => current().decode?.();
    new Gauge({
      name: `${p}decode_workers_ready`, help: "Decode workers able to take a frame now (0 = every lane is blind: DECODE_DOWN).", registers: r,
      collect() {
        this.reset();
        const d = dec();
        if (d) this.set(d.ready);
      },
    });
    new Gauge({
      name: `${p}decode_workers`, help: "Decode workers configured.", registers: r,
      collect() {
        this.reset();
        const d = dec();
        if (d) this.set(d.workers);
      },
    });
    new Counter({
      name: `${p}decode_worker_restarts_total`, help: "Decode workers replaced (crash, exit, deadline, failed start).", registers: r,
      collect() {
        this.reset();
        const d = dec();
        if (d) this.inc(d.restarts);
      },
    });
    new Counter({
      name: `${p}decode_deadline_timeouts_total`, help: "Frames that passed the decode deadline (the worker was replaced).", registers: r,
      collect() {
        this.reset();
        const d = dec();
        if (d) this.inc(d.timeouts);
      },
    });
    new Counter({
      name: `${p}frame_consumer_errors_total`, help: "Frames lost after ingest: the consumer threw, submit or lane rejected, or the decode ended in an error.", labelNames: ["camera"], registers: r,
      collect() {
        this.reset();
        for (const [camera, n] of Object.entries(current().consumerErrors?.() ?? {})) this.inc({ camera }, n);
      },
    });
    new Gauge({
      name: `${p}lane_problem`, help: "1 for each problem that keeps a lane out of service (CAMERAS_DOWN, DECODE_DOWN, INGEST_ERROR, TRUST_STALE, ...).", labelNames: ["lane", "problem"], registers: r,
      collect() {
        this.reset();
        for (const l of current().lanes?.() ?? []) for (const problem of l.problems) this.set({ lane: l.lane, problem }, 1);
      },
    });
    new Counter({
      name: `${p}internal_faults_total`, help: "Faults contained without exiting: timer callbacks that threw, unhandled rejections, uncaught exceptions, failed lane decisions.", labelNames: ["kind"], registers: r,
      collect() {
        this.reset();
        for (const [kind, n] of Object.entries(faultCounts())) this.inc({ kind }, n);
      },
    });
  }

  setCollectors(c: MetricsCollectors): void {
    this.collectors = { ...this.collectors, ...c };
  }

  hasCollectors(): boolean {
    return Object.values(this.collectors).some(Boolean);
  }

  observeDecode(ms: number, camera: string): void {
    if (Number.isFinite(ms) && ms >= 0) this.decode.observe({ camera }, ms / 1000);
  }

  observeVerdict(ev: VerdictEvent): void {
    this.verdicts.inc({ lane: ev.lane, verdict: ev.verdict, reason: ev.reason });
    if (Number.isFinite(ev.frameToVerdictMs) && ev.frameToVerdictMs >= 0) this.frameToVerdict.observe({ lane: ev.lane }, ev.frameToVerdictMs / 1000);
    if (Number.isFinite(ev.firstSeenToVerdictMs) && ev.firstSeenToVerdictMs >= 0) this.firstSeenToVerdict.observe({ lane: ev.lane }, ev.firstSeenToVerdictMs / 1000);
  }

  /** Counts every verdict published on the bus; call once per bus (returns the unsubscribe). */
  attach(bus: GatewayBus): () => void {
    return bus.on("verdict", (ev) => this.observeVerdict(ev));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
