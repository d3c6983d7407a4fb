import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from "prom-client";
import type { GatewayBus } from "../../core/bus.js";
import type { LaneState, VerdictEvent } from "../../core/types.js";
import { gatewayVersion } from "../../core/version.js";
import { CAMERA_UP_STATES, type CameraState } from "../../ingest/types.js";
import { secretMasker } from "../../core/mask.js";
import type { MetricsCollectors } from "./types.js";
import { faultCounts } from "../../core/faults.js";

export type { AuthRefusalCount, CameraStats, ConfigReloadStats, DecodePoolStats, DisplayRefusalCount, EventSeqStats, LaneCounters, LedgerAnchorSinkStats, LedgerAnchorStats, LedgerStats, MetricsCollectors, MqttStats, PauseStoreStats, SpoolStats, TlsListenerStats, TrustCounters } from "./types.js";

/** Labels end up in a time-series database: a trust URL's credentials must not. */
const cleanLabel = (s: string) => secretMasker.mask(s);

export interface GatewayMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag), unprefixed as standard dashboards expect; on by default. */
  processMetrics?: boolean;
  prefix?: string;
  /** Epoch ms (timestamps are exported as seconds since the epoch). */
  now?: () => number;
}

/** Every state is emitted (1 for the current one, 0 for the rest), so `== 0` alerts work. Records keep the lists complete. */
const CAMERA_STATES = Object.keys({ starting: 1, online: 1, stalled: 1, backoff: 1, failed: 1, stopped: 1, standby: 1, warming: 1 } satisfies Record<CameraState, 1>);
const LANE_STATES = Object.keys({ idle: 1, pass: 1, flag: 1, "out-of-service": 1, paused: 1 } satisfies Record<LaneState, 1>);
/** Seconds; decode is a few ms, so the low buckets matter most. */
const DECODE_BUCKETS = [0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 0.6, 1.2, 2.5];
/** Seconds; the lane's target is p99 < 150 ms, the verdict arrives within a blink. */
const VERDICT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2, 5];
const FIRST_SEEN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15];

type Labels = Record<string, string>;
/** What metrics_collector_errors_total counts by: a configured collector, or the contained-fault table. */
type CollectorName = keyof MetricsCollectors | "faults";
interface Sample {
  labels?: Labels;
  value: number | undefined;
}

/**
 * One prom-client registry per gateway (never the global one, so tests and several instances
 * do not collide). Event-driven series (decode latency, verdicts) are pushed by the pipeline;
 * state series (cameras, lanes, decode pool, outputs) are pulled from collectors at scrape time.
 * Cumulative counts owned by other stages are exported as counters re-based at each scrape.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private collectors: MetricsCollectors = {};
  private readonly decode: Histogram<"camera">;
  private readonly frameToVerdict: Histogram<"lane">;
  private readonly firstSeenToVerdict: Histogram<"lane">;
  private readonly verdicts: Counter<"lane" | "verdict" | "reason">;
  private readonly lastVerdict: Gauge<"lane">;
  private readonly now: () => number;
  /** Scrapes in which each collector threw, and the ones that threw in the scrape under way. */
  private readonly collectorErrors = new Map<string, number>();
  private readonly failedThisScrape = new Set<string>();

  constructor(opts: GatewayMetricsOptions = {}) {
    const p = opts.prefix ?? "checkpoint_gateway_";
    const r = [this.registry];
    this.now = opts.now ?? Date.now;
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

    const c = () => this.collectors;
    const sec = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
    // A collector that throws must cost its own series, never the whole scrape; it is counted
    // (metrics_collector_errors_total), since a vanished series cannot fire its own alert.
    const read = <T>(collector: keyof MetricsCollectors, fn: (() => T) | undefined): T | undefined => {
      try {
        return fn?.();
      } catch {
        this.collectorFailed(collector);
        return undefined;
      }
    };
    // Pulled series are plain registry entries computed at scrape time: unlike prom-client's Gauge,
    // a series without labels can then be absent (no Redis configured) rather than a made-up 0.
    const series = (collector: CollectorName, type: "gauge" | "counter", name: string, help: string, _labelNames: string[], samples: () => Sample[]) => {
      const full = `${p}${name}`;
      const values = () => {
        let list: Sample[] = [];
        try {
          list = samples();
        } catch {
          this.collectorFailed(collector);
          list = [];
        }
        return list
          .filter((s) => s.value !== undefined && Number.isFinite(s.value))
          .map((s) => ({ labels: s.labels ?? {}, value: type === "counter" ? Math.max(0, s.value!) : s.value! }));
      };
      const metric = { name: full, help, type, aggregator: "sum", get: () => Promise.resolve({ name: full, help, type, aggregator: "sum", values: values() }), reset: () => undefined };
      this.registry.registerMetric(metric as unknown as Metric);
    };
    const one = (value: number | undefined): Sample[] => [{ value }];

    // Cameras
    const cams = () => read("cameras", c().cameras) ?? [];
    const camL = (cam: { id: string; lane: string }) => ({ camera: cam.id, lane: cam.lane });
    series("cameras", "gauge", "camera_state", "1 for the camera's current supervisor state, 0 for every other state.", ["camera", "lane", "state"], () =>
      cams().flatMap((cam) => CAMERA_STATES.map((state) => ({ labels: { ...camL(cam), state }, value: cam.state === state ? 1 : 0 }))),
    );
    series("cameras", "gauge", "camera_up", "1 when the lane can read from the camera: state online, or standby (substream watching, main stream started on activity).", ["camera", "lane"], () => cams().map((cam) => ({ labels: camL(cam), value: CAMERA_UP_STATES.has(cam.state) ? 1 : 0 })));
    series("cameras", "counter", "camera_frames_total", "Frames read from the camera since start (rate() gives fps).", ["camera", "lane"], () => cams().map((cam) => ({ labels: camL(cam), value: cam.framesIn })));
    series("cameras", "counter", "camera_frames_dropped_total", "Frames dropped before decoding (burst after a gap, or superseded in the decode slot).", ["camera", "lane"], () => cams().map((cam) => ({ labels: camL(cam), value: cam.framesDropped })));
    series("cameras", "counter", "camera_restarts_total", "Camera (ffmpeg) restarts since start.", ["camera", "lane"], () => cams().map((cam) => ({ labels: camL(cam), value: cam.restarts })));
    series("cameras", "counter", "camera_stalls_total", "Camera stalls (no frame within the stall timeout) since start.", ["camera", "lane"], () => cams().map((cam) => ({ labels: camL(cam), value: cam.stalls })));
    series("cameras", "gauge", "camera_last_frame_timestamp_seconds", "When the camera's last frame was read (absent before the first).", ["camera", "lane"], () =>
      cams().map((cam) => ({ labels: camL(cam), value: cam.lastFrameAgeMs === undefined ? undefined : (this.now() - cam.lastFrameAgeMs) / 1000 })),
    );
    // Per camera because DECODE_DOWN needs every camera of a lane to fail: one failing camera next to a good one is partial blindness.
    series("cameras", "gauge", "camera_frame_path_failing", "1 when the camera's frames arrive but the path after ingest has failed for 2 s or more (consumer throws, submit rejected, every decode errors).", ["camera", "lane"], () =>
      cams().map((cam) => ({ labels: camL(cam), value: cam.framePathFailing === undefined ? undefined : cam.framePathFailing ? 1 : 0 })),
    );
    // Per camera, like the frame path: the lane goes out of service (CAMERAS_BLIND) only when every delivering camera is.
    series("cameras", "gauge", "camera_picture_lost", "1 for the picture problem the camera shows (FROZEN: the same picture for cameras[].pictureCheckS; BLANK: no structure, a covered lens), 0 for the other.", ["camera", "lane", "problem"], () =>
      cams().flatMap((cam) => (["FROZEN", "BLANK"] as const).map((problem) => ({ labels: { ...camL(cam), problem }, value: cam.pictureProblem === problem ? 1 : 0 }))),
    );
    // Ingest diagnostics that used to reach only the log.
    series("cameras", "counter", "camera_ffmpeg_abandoned_total", "ffmpeg processes that did not exit after SIGKILL and were given up: each may still hold CPU and a camera session.", ["camera", "lane"], () =>
      cams().map((cam) => ({ labels: camL(cam), value: cam.ffmpegAbandoned })),
    );
    series("cameras", "counter", "camera_corrupt_frames_total", "ffmpeg stderr lines reporting corrupt or concealed frames or missed RTP packets (the frames are still decoded).", ["camera", "lane"], () =>
      cams().map((cam) => ({ labels: camL(cam), value: cam.corruptWarnings })),
    );
    series("cameras", "counter", "camera_burst_dropped_total", "Frames dropped by ingest because they arrived in a burst after a gap or at process start (part of camera_frames_dropped_total).", ["camera", "lane"], () =>
      cams().map((cam) => ({ labels: camL(cam), value: cam.burstDropped })),
    );
    series("cameras", "gauge", "camera_host_reachable", "0 while the camera's host does not answer its probe (an outage: no ffmpeg runs), 1 otherwise; absent for a source with no host (file).", ["camera", "lane"], () =>
      cams().map((cam) => ({ labels: camL(cam), value: cam.hostReachable === undefined ? undefined : cam.hostReachable ? 1 : 0 })),
    );
    series("cameras", "gauge", "camera_ingest_error", "1 while ingest cannot run the camera, labelled with why (GW_CAMERA_SPAWN: ffmpeg cannot be started; GW_CAMERA_FAILED: restart budget exceeded; GW_CAMERA_AUTH: the camera refuses our credentials); absent otherwise.", ["camera", "lane", "code"], () =>
      cams().flatMap((cam) => (cam.ingestError ? [{ labels: { ...camL(cam), code: cam.ingestError }, value: 1 }] : [])),
    );

    // Decode pool
    const pool = () => read("decodePool", c().decodePool);
    series("decodePool", "gauge", "decode_workers", "Configured decode worker threads.", [], () => one(pool()?.workers));
    series("decodePool", "gauge", "decode_workers_live", "Decode workers started and ready.", [], () => one(pool()?.live));
    series("decodePool", "gauge", "decode_workers_busy", "Decode workers decoding a frame now.", [], () => one(pool()?.busy));
    series("decodePool", "gauge", "decode_queue", "Frames waiting for a decode worker.", [], () => one(pool()?.queued));
    series("decodePool", "counter", "decode_worker_restarts_total", "Decode workers replaced after a crash or a missed deadline.", [], () => one(pool()?.restarts));
    series("decodePool", "counter", "decodes_total", "Frames the pool finished, by camera and result: ok = at least one code read, failed = the decode ended in an error (deadline, worker crash); frames with no code found count in neither.", ["camera", "result"], () =>
      Object.entries(pool()?.cameras ?? {}).flatMap(([camera, k]) => [
        { labels: { camera, result: "ok" }, value: k.decoded },
        { labels: { camera, result: "failed" }, value: k.failed },
      ]),
    );
    series("decodePool", "counter", "decode_early_stops_total", "Frames whose decode cascade stopped escalating because a more urgent frame waited for a worker.", ["camera"], () =>
      Object.entries(pool()?.cameras ?? {}).map(([camera, k]) => ({ labels: { camera }, value: k.stoppedEarly })),
    );

    // Lanes
    const lanes = () => read("lanes", c().lanes) ?? [];
    series("lanes", "gauge", "lane_state", "1 for the lane's current state, 0 for every other state.", ["lane", "state"], () =>
      lanes().flatMap((l) => LANE_STATES.map((state) => ({ labels: { lane: l.lane, state }, value: l.state === state ? 1 : 0 }))),
    );
    series("lanes", "gauge", "lane_in_service", "1 when the lane accepts travellers (idle, pass or flag).", ["lane"], () =>
      lanes().map((l) => ({ labels: { lane: l.lane }, value: l.state === "idle" || l.state === "pass" || l.state === "flag" ? 1 : 0 })),
    );
    series("displays", "gauge", "lane_displays", "Lane displays connected (SSE streams).", ["lane"], () => {
      const d = read("displays", c().displays);
      if (!d) return [];
      // Every configured lane, so a lane with no screen shows 0 rather than nothing.
      const ids = new Set([...lanes().map((l) => l.lane), ...Object.keys(d)]);
      return [...ids].map((lane) => ({ labels: { lane }, value: d[lane] ?? 0 }));
    });
    const laneCounter = (name: string, help: string, pick: (k: NonNullable<ReturnType<NonNullable<MetricsCollectors["laneCounters"]>>>[string]) => number | undefined) =>
      series("laneCounters", "counter", name, help, ["lane"], () => Object.entries(read("laneCounters", c().laneCounters) ?? {}).map(([lane, k]) => ({ labels: { lane }, value: pick(k) })));
    laneCounter("lane_frames_decoded_total", "Decode results received for the lane's cameras.", (k) => k.framesDecoded);
    laneCounter("lane_codes_read_total", "Codes read at the lane (one per code per frame).", (k) => k.codesRead);
    laneCounter("lane_missed_reads_total", "Frames in which a code in view was not read.", (k) => k.missedReads);
    laneCounter("lane_read_failures_total", "Frames the decoder could not process (deadline, crash, bad frame).", (k) => k.readFailures);
    laneCounter("lane_presentations_total", "Presentations (a code shown) at the lane.", (k) => k.presentations);
    laneCounter("lane_replay_degraded_total", "Replay checks answered locally because the shared guard (Redis) was down.", (k) => k.replayDegraded);
    laneCounter("lane_verdicts_dropped_total", "Verdicts dropped because the lane left service while deciding.", (k) => k.verdictsDropped);
    laneCounter("lane_decision_errors_total", "Decisions that failed outside verification (sequence store, event build): a code was read and no verdict was published.", (k) => k.decisionErrors);

    // Trust
    const trust = () => read("trust", c().trust);
    series("trust", "gauge", "trust_last_refresh_timestamp_seconds", "When the oldest required trust source was last refreshed (absent when never).", [], () => one(sec(trust()?.refreshedAt)));
    series("trust", "gauge", "trust_stale", "1 when trust data is older than trust.maxAgeS.", [], () => one(trust() ? (trust()!.stale ? 1 : 0) : undefined));
    series("trust", "gauge", "trust_source_ok", "1 when the trust source's last refresh succeeded.", ["source"], () => (trust()?.sources ?? []).map((s) => ({ labels: { source: cleanLabel(s.source) }, value: s.ok ? 1 : 0 })));
    series("trust", "gauge", "trust_source_last_refresh_timestamp_seconds", "When the trust source was last refreshed successfully.", ["source"], () =>
      (trust()?.sources ?? []).map((s) => ({ labels: { source: cleanLabel(s.source) }, value: sec(s.refreshedAt) })),
    );
    series("trust", "gauge", "trust_keys", "Keys loaded per trust source.", ["source"], () => (trust()?.sources ?? []).map((s) => ({ labels: { source: cleanLabel(s.source) }, value: s.keys })));
    // Every source, 0 when none: a gauge of the data in use (it falls back when a fixed copy loads), not a counter of refreshes.
    series("trust", "gauge", "trust_keys_skipped", "Keys in the trust source's current data left out as unusable (bad JWK, wrong algorithm, kid not the thumbprint; for certificates, files that did not parse).", ["source"], () =>
      (trust()?.sources ?? []).map((s) => ({ labels: { source: cleanLabel(s.source) }, value: s.keysSkipped ?? 0 })),
    );
    series("trust", "gauge", "trust_expires_timestamp_seconds", "When the earliest signed trust list expires: trust data is stale from then on, on every lane at once (absent when no list carries an expiry).", [], () =>
      one(sec(trust()?.expiresAt)),
    );
    series("trust", "gauge", "trust_clock_drift_seconds", "Local clock minus the trust server's Date header (plus Age), carried forward on the monotonic clock.", [], () => one(sec(trust()?.clockDriftMs)));
    series("trust", "gauge", "trust_clock_untrusted", "1 when the local clock is off by more than trust.maxClockDriftS (a trust server's Date header, or behind a signed trust list's issuedAt): verdicts are CLOCK_UNTRUSTED.", [], () =>
      one(trust() ? (trust()!.clockUntrusted ? 1 : 0) : undefined),
    );
    const trustK = () => read("trustCounters", c().trustCounters);
    series("trustCounters", "gauge", "trust_revocation_deltas_applied", "Signed revocation deltas applied now.", [], () => one(trustK()?.revocationDeltasApplied));
    series("trustCounters", "counter", "trust_revocation_deltas_refused_total", "Revocation deltas refused (unsigned, signer not named by the list, bad signature, malformed), each once.", [], () => one(trustK()?.revocationDeltasRefused));
    series("trustCounters", "counter", "trust_cache_copies_refused_total", "Trust copies from disk or Redis refused (bad signature, rollback, time in the future).", [], () => one(trustK()?.cacheCopiesRefused));

    // Outputs: MQTT, Redis, spool, ledger
    const mqtt = () => read("mqtt", c().mqtt);
    series("mqtt", "gauge", "mqtt_connected", "MQTT connections up (one per lane plus one for the gateway).", [], () => one(mqtt()?.connected));
    series("mqtt", "gauge", "mqtt_connections", "MQTT connections configured.", [], () => one(mqtt()?.links));
    series("mqtt", "counter", "mqtt_reconnects_total", "MQTT reconnections after a lost connection.", [], () => one(mqtt()?.reconnects));
    series("mqtt", "counter", "mqtt_verdicts_published_total", "Verdict events on MQTT that the client reported sent (QoS 0) or acknowledged (QoS 1, 2); a refused one counts in mqtt_publish_errors_total only.", [], () => one(mqtt()?.verdictsPublished));
    series("mqtt", "counter", "mqtt_verdicts_dropped_total", "Verdict events not sent because MQTT was disconnected (never sent late).", [], () => one(mqtt()?.verdictsDropped));
    series("mqtt", "counter", "mqtt_commands_total", "MQTT lane commands by result (accepted, rejected).", ["result"], () => {
      const m = mqtt();
      return m ? [{ labels: { result: "accepted" }, value: m.commandsAccepted }, { labels: { result: "rejected" }, value: m.commandsRejected }] : [];
    });
    series("mqtt", "counter", "mqtt_publish_errors_total", "MQTT publishes the client reported failed, by kind (status, paused, stats, discovery, verdict): connected, yet the message did not go out.", ["kind"], () =>
      Object.entries(mqtt()?.publishErrors ?? {}).map(([kind, n]) => ({ labels: { kind }, value: n })),
    );
    series("redisConnected", "gauge", "redis_connected", "1 when the configured Redis is connected (absent without Redis).", [], () => {
      const up = read("redisConnected", c().redisConnected);
      return one(up === undefined ? undefined : up ? 1 : 0);
    });
    const spool = () => read("spool", c().spool);
    series("spool", "gauge", "events_spool_backlog", "Verdict events spooled on disk and not yet in the Redis stream.", [], () => one(spool()?.pending));
    series("spool", "gauge", "events_spool_backlog_bytes", "Bytes of spooled events not yet in the Redis stream.", [], () => one(spool()?.pendingBytes));
    series("spool", "counter", "events_spooled_total", "Verdict events written to the spool.", [], () => one(spool()?.spooled));
    series("spool", "counter", "events_forwarded_total", "Verdict events forwarded to the Redis stream.", [], () => one(spool()?.forwarded));
    series("spool", "counter", "events_spool_dropped_total", "Verdict events dropped because the spool reached its size bound.", [], () => one(spool()?.dropped));
    series("spool", "counter", "events_already_forwarded_total", "Resent events the stream already had (lost reply, crash): not added twice.", [], () => one(spool()?.alreadyForwarded));
    series("spool", "counter", "events_skipped_ids_total", "Events not added because their id was forwarded before under another position (a reused id).", [], () => one(spool()?.skippedIds));
    series("spool", "counter", "events_reused_positions_total", "Events added at a spool position at or below the stream's forward marker (positions reused after a power cut or an older spool on disk): added, not skipped.", [], () => one(spool()?.reusedPositions));
    series("spool", "counter", "events_redis_rollbacks_total", "Times Redis no longer had verdict events it had acknowledged (older snapshot, lagging replica, restart without persistence, eviction); see the GW_EVENTS_REDIS_ROLLED_BACK log for what was resent and lost.", [], () => one(spool()?.redisRollbacks));
    series("spool", "counter", "events_marker_resets_total", "Times the stream's forward marker held garbage or stood far above the ids it guards and was reset.", [], () => one(spool()?.markerResets));
    series("spool", "gauge", "events_problem", "1 for each reason exactly-once forwarding cannot be promised now (REDIS_EVICTION_POLICY:<policy>, GATEWAY_ID_CONFLICT).", ["problem"], () =>
      (spool()?.problems ?? []).map((problem) => ({ labels: { problem }, value: 1 })),
    );
    series("spool", "counter", "events_spool_write_errors_total", "Spool writes that failed (record append, state file, compaction rewrite).", [], () => one(spool()?.writeErrors));
    series("spool", "counter", "events_spool_fsync_errors_total", "Spool fsync or close calls that failed (records perhaps not on disk).", [], () => one(spool()?.fsyncErrors));
    series("spool", "gauge", "events_spool_degraded", "1 while events whose append failed are held in memory only (lost if the process dies before Redis takes them).", [], () => {
      const sp = spool();
      return one(sp?.degraded === undefined ? undefined : sp.degraded ? 1 : 0);
    });
    // What the spool found on disk at its start: a backlog left by the last run, damage, a lost state file.
    series("spool", "gauge", "events_spool_recovered_at_start", "Verdict events the last run left in the spool file, queued again for the stream when the spool started.", [], () => one(spool()?.recoveredAtStart));
    series("spool", "counter", "events_spool_records_damaged_total", "Spool file lines dropped as unreadable when the spool started (torn by a crash or damaged): those events may never reach the stream.", [], () => one(spool()?.recordsDamaged));
    const flag = (b: boolean | undefined) => one(b === undefined ? undefined : b ? 1 : 0);
    series("spool", "gauge", "events_spool_state_recovered", "1 when the spool's state file was missing at start and its epoch and position floor were recovered from the spool file's header.", [], () => flag(spool()?.stateRecovered));
    series("spool", "gauge", "events_spool_state_lost", "1 when the spool's state file and header were both missing at start: pending events were resent under a new epoch (the stream may get duplicates).", [], () => flag(spool()?.stateLost));
    const seqs = () => Object.entries(read("eventSeq", c().eventSeq) ?? {});
    series("eventSeq", "gauge", "events_seq_recovered", "1 when the lane's event sequence file was missing, damaged or behind the recorded events at start and ids resumed after the highest recorded id plus a gap.", ["lane"], () =>
      seqs().map(([lane, s]) => ({ labels: { lane }, value: s.recovered ? 1 : 0 })),
    );
    series("eventSeq", "gauge", "events_seq_ids_skipped", "Event ids the lane's sequence recovery at start left unused (0 without a recovery).", ["lane"], () => seqs().map(([lane, s]) => ({ labels: { lane }, value: s.idsSkipped })));
    const ledger = () => read("ledger", c().ledger);
    series("ledger", "gauge", "ledger_entries", "Entries in the hash-chained ledger.", [], () => one(ledger()?.entries));
    series("ledger", "gauge", "ledger_last_write_timestamp_seconds", "When the ledger was last appended to.", [], () => one(sec(ledger()?.lastWriteAt)));
    series("ledger", "counter", "ledger_write_errors_total", "Ledger writes that failed (entry or head file).", [], () => one(ledger()?.writeErrors));
    series("ledger", "counter", "ledger_fsync_errors_total", "Ledger fsync or close calls that failed (entries perhaps not on disk).", [], () => one(ledger()?.fsyncErrors));
    series("ledger", "counter", "ledger_torn_entries_cut_total", "Partial last lines (an entry torn by a crash or power cut) cut from the ledger files when the ledger started: those entries are not in the ledger.", [], () => one(ledger()?.tornEntriesCut));
    series("ledger", "gauge", "ledger_degraded", "1 once a ledger write or fsync failed since start (durability not guaranteed).", [], () => {
      const l = ledger();
      return one(l?.degraded === undefined ? undefined : l.degraded ? 1 : 0);
    });
    series("ledger", "gauge", "ledger_damaged", "1 when the ledger did not start because its newest file's last entry is damaged: no verdict is written to it until the file is repaired.", [], () => {
      const l = ledger();
      return one(l?.damaged === undefined ? undefined : l.damaged ? 1 : 0);
    });
    // The head anchored outside the ledger dir (Redis, retained MQTT): what a rewrite of the files cannot change.
    const anchor = () => read("ledgerAnchor", c().ledgerAnchor);
    const anchorSinks = () => Object.entries(anchor()?.sinks ?? {});
    series("ledgerAnchor", "counter", "ledger_anchor_published_total", "Ledger heads the sink accepted (Redis key, retained MQTT topic).", ["sink"], () =>
      anchorSinks().map(([sink, s]) => ({ labels: { sink }, value: s.published })),
    );
    series("ledgerAnchor", "counter", "ledger_anchor_failures_total", "Ledger head publishes the sink refused or did not answer (retried with the next head).", ["sink"], () =>
      anchorSinks().map(([sink, s]) => ({ labels: { sink }, value: s.failures })),
    );
    series("ledgerAnchor", "counter", "ledger_anchor_sign_errors_total", "Ledger heads that could not be signed with gateway.signingKey (published unsigned).", [], () => one(anchor()?.signErrors));
    series("ledgerAnchor", "gauge", "ledger_anchor_lag", "Ledger entries the sink's anchored head does not cover yet: ledger head sequence number minus the newest head the sink accepted.", ["sink"], () => {
      const entries = ledger()?.entries;
      return entries === undefined ? [] : anchorSinks().map(([sink, s]) => ({ labels: { sink }, value: entries - (s.anchoredSeq ?? 0) }));
    });

    // Lane safety state kept outside the lanes: the shared replay guard, the paused-lane state file.
    series("replayGuardDegraded", "gauge", "replay_guard_degraded", "1 while the shared (Redis) replay guard is down or slow and replays are checked on this gateway only (absent without Redis).", [], () => {
      const d = read("replayGuardDegraded", c().replayGuardDegraded);
      return one(d === undefined ? undefined : d ? 1 : 0);
    });
    series("pauses", "gauge", "lane_pause_state_unknown", "1 while the lane is closed only because the paused-lane state file could not be read at start (no officer has paused or resumed it since), 0 for the other lanes.", ["lane"], () => {
      const ps = read("pauses", c().pauses);
      if (!ps) return [];
      const held = new Set(ps.unknownLanes ?? []);
      return [...new Set([...lanes().map((l) => l.lane), ...held])].map((lane) => ({ labels: { lane }, value: held.has(lane) ? 1 : 0 }));
    });
    series("pauses", "counter", "lane_pause_store_errors_total", "Paused-lane state file errors by op: load (unreadable at start, every lane started paused), save (a restart would reopen the lanes paused since).", ["op"], () => {
      const ps = read("pauses", c().pauses);
      return ps ? [{ labels: { op: "load" }, value: ps.loadErrors }, { labels: { op: "save" }, value: ps.saveErrors }] : [];
    });

    // HTTP listeners: the certificate a renewal must replace in time, refused logins and tokens, refused display streams.
    const tlsL = () => read("tls", c().tls) ?? [];
    series("tls", "gauge", "tls_certificate_expiry_timestamp_seconds", "When the certificate the listener serves expires (absent without TLS).", ["listener"], () =>
      tlsL().map((t) => ({ labels: { listener: t.listener }, value: sec(t.validTo) })),
    );
    series("tls", "counter", "tls_reload_errors_total", "Certificate reloads that failed (unreadable or mismatched pair: the old certificate stays in service) and directory watches that could not be set up.", ["listener"], () =>
      tlsL().map((t) => ({ labels: { listener: t.listener }, value: t.reloadErrors })),
    );
    series("authRefusals", "counter", "http_auth_refusals_total", "Requests refused by a listener's guard, by reason (bad-host, no-token, bad-token, bad-origin, login-failed).", ["listener", "reason"], () =>
      (read("authRefusals", c().authRefusals) ?? []).map((r) => ({ labels: { listener: r.listener, reason: r.reason }, value: r.count })),
    );
    series("displayRefusals", "counter", "lane_display_refusals_total", "Lane display streams refused (LANE_STREAMS_FULL, CLIENT_STREAMS_FULL: answered 429) or cut off (SLOW_CLIENT: too much unread).", ["lane", "reason"], () =>
      (read("displayRefusals", c().displayRefusals) ?? []).map((r) => ({ labels: { lane: r.lane, reason: r.reason }, value: r.count })),
    );

    // Config reloads (admin API, SIGHUP).
    const reloads = () => read("configReloads", c().configReloads);
    series("configReloads", "counter", "config_reloads_total", "Config reloads by result: applied, failed (a section could not be applied), invalid (the file did not read or validate: nothing applied).", ["result"], () => {
      const r = reloads();
      return r ? (["applied", "failed", "invalid"] as const).map((result) => ({ labels: { result }, value: r[result] })) : [];
    });
    series("configReloads", "gauge", "config_last_reload_timestamp_seconds", "When the last reload that applied ran (absent before the first).", [], () => one(sec(reloads()?.lastAppliedAt)));
    series("configReloads", "gauge", "config_restart_required", "1 while the last applied reload named sections that need a restart (gateway, server, redis): their old values still run.", [], () => {
      const r = reloads();
      return one(r === undefined ? undefined : r.restartRequired ? 1 : 0);
    });

    // Blindness signals (issue #11 finding 11): decode pool, frame consumers, lane problems, contained faults.
    series("decodePool", "gauge", "decode_workers_ready", "Decode workers able to take a frame now (0 for long = every lane is blind: DECODE_DOWN).", [], () => one(pool()?.ready ?? pool()?.live));
    series("decodePool", "counter", "decode_deadline_timeouts_total", "Frames that passed the decode deadline (the worker was replaced).", [], () => one(pool()?.timeouts));
    series("consumerErrors", "counter", "frame_consumer_errors_total", "Frames lost after ingest: the consumer threw, submit or lane rejected, or the decode ended in an error.", ["camera"], () =>
      Object.entries(read("consumerErrors", c().consumerErrors) ?? {}).map(([camera, n]) => ({ labels: { camera }, value: n })),
    );
    series("lanes", "gauge", "lane_problem", "1 for each problem that keeps a lane out of service (CAMERAS_DOWN, DECODE_DOWN, INGEST_ERROR, TRUST_STALE, ...).", ["lane", "problem"], () =>
      (read("lanes", c().lanes) ?? []).flatMap((l) => l.problems.map((problem) => ({ labels: { lane: l.lane, problem }, value: 1 }))),
    );
    series("faults", "counter", "internal_faults_total", "Faults contained without exiting: timer callbacks that threw, unhandled rejections, uncaught exceptions, failed lane decisions.", ["kind"], () =>
      Object.entries(faultCounts()).map(([kind, n]) => ({ labels: { kind }, value: n })),
    );
    // Registered last, so it sees the scrape it is part of. Every configured collector gets a 0, so increase() sees the first error.
    series("faults", "counter", "metrics_collector_errors_total", "Scrapes in which a metrics collector threw: its series were missing from that scrape (and their alerts could not fire).", ["collector"], () => {
      this.failedThisScrape.clear();
      const names = new Set([...Object.keys(this.collectors).filter((k) => this.collectors[k as keyof MetricsCollectors]), ...this.collectorErrors.keys()]);
      return [...names].map((collector) => ({ labels: { collector }, value: this.collectorErrors.get(collector) ?? 0 }));
    });
  }

  /** Counted once per scrape, however many of the collector's series needed it. */
  private collectorFailed(collector: string): void {
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

  observeDecode(ms: number, camera: string): void {
    if (Number.isFinite(ms) && ms >= 0) this.decode.observe({ camera }, ms / 1000);
  }

  observeVerdict(ev: VerdictEvent): void {
    this.verdicts.inc({ lane: ev.lane, verdict: ev.verdict, reason: ev.reason });
    if (Number.isFinite(ev.at)) this.lastVerdict.set({ lane: ev.lane }, ev.at / 1000);
    if (Number.isFinite(ev.frameToVerdictMs) && ev.frameToVerdictMs >= 0) this.frameToVerdict.observe({ lane: ev.lane }, ev.frameToVerdictMs / 1000);
    if (Number.isFinite(ev.firstSeenToVerdictMs) && ev.firstSeenToVerdictMs >= 0) this.firstSeenToVerdict.observe({ lane: ev.lane }, ev.firstSeenToVerdictMs / 1000);
  }

  /** Counts every verdict published on the bus; call once per bus (returns the unsubscribe). */
  attach(bus: GatewayBus): () => void {
    return bus.on("verdict", (ev) => this.observeVerdict(ev));
  }

  /** Each running lane's INTERNAL_ERROR verdicts, at 0 until the first (a removed lane keeps its series, as its other verdict series). */
  private seedVerdicts(): void {
    let lanes: Array<{ lane: string }> = [];
    try {
      lanes = this.collectors.lanes?.() ?? [];
    } catch {
      this.collectorFailed("lanes");
    }
    for (const l of lanes) this.verdicts.inc({ lane: l.lane, verdict: "ERROR", reason: "INTERNAL_ERROR" }, 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
