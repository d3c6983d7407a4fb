import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { GatewayMetrics, type MetricsCollectors } from "../../src/output/metrics/index.js";
import { gatewayVersion } from "../../src/core/version.js";
import { GatewayBus } from "../../src/core/bus.js";

const NOW = Date.UTC(2026, 10, 30, 16, 0, 0);
const p = "checkpoint_gateway_";

function collectors(): MetricsCollectors {
  return {
    cameras: () => [
      { id: "cam-1", lane: "L1", state: "online", fpsIn: 15, framesIn: 9000, framesDropped: 4, lastFrameAgeMs: 250, reconnectsLastHour: 1, stallsLastHour: 0, restarts: 3, stalls: 2, framePathFailing: false, burstDropped: 3, corruptWarnings: 11, ffmpegAbandoned: 0, hostReachable: true, aboveConfiguredFps: { main: false, sub: true } },
      { id: "cam-2", lane: "L2", state: "backoff", fpsIn: 0, framesIn: 10, framesDropped: 0, reconnectsLastHour: 0, stallsLastHour: 0, restarts: 7, stalls: 0, framePathFailing: true, burstDropped: 0, corruptWarnings: 0, ffmpegAbandoned: 2, hostReachable: false, ingestError: "GW_CAMERA_FAILED", aboveConfiguredFps: { main: true } },
    ],
    trust: () => ({ version: "tl-1", refreshedAt: NOW - 60_000, ageMs: 60_000, stale: false, clockDriftMs: -1500, expiresAt: NOW + 3_600_000, sources: [{ source: "https://u:secretpw@trust.example/l.jws", ok: true, keys: 12, refreshedAt: NOW - 60_000, keysSkipped: 3 }, { source: "/etc/cpgw/dsc", ok: true, keys: 4, refreshedAt: NOW - 60_000 }] }),
    lanes: () => [{ lane: "L1", state: "pass", problems: [] }, { lane: "L2", state: "out-of-service", problems: ["CAMERAS_DOWN"] }],
    laneCounters: () => ({ L1: { framesDecoded: 500, codesRead: 90, missedReads: 10, readFailures: 1, presentations: 5, replayDegraded: 0, verdictsDropped: 0, decisionErrors: 3 } }),
    displays: () => ({ L1: 2 }),
    decodePool: () => ({ workers: 2, live: 1, busy: 1, restarts: 4, queued: 1, cameras: { "cam-1": { submitted: 800, decoded: 790, dropped: 6, failed: 4, stoppedEarly: 12 } } }),
    mqtt: () => ({ connected: 2, links: 3, reconnects: 5, verdictsPublished: 40, verdictsDropped: 2, commandsAccepted: 1, commandsRejected: 3, publishErrors: { status: 0, paused: 0, stats: 1, discovery: 0, verdict: 4 } }),
    redisConnected: () => false,
    spool: () => ({ spooled: 100, forwarded: 90, pending: 10, pendingBytes: 4096, dropped: 0, alreadyForwarded: 3, skippedIds: 1, reusedPositions: 4, markerResets: 1, problems: ["REDIS_EVICTION_POLICY:allkeys-lru"], writeErrors: 5, fsyncErrors: 6, degraded: true, recoveredAtStart: 12, recordsDamaged: 2, stateRecovered: true, stateLost: false }),
    ledger: () => ({ entries: 100, lastWriteAt: NOW - 5000, writeErrors: 1, fsyncErrors: 2, degraded: true, tornEntriesCut: 1 }),
    eventSeq: () => ({ L1: { recovered: true, idsSkipped: 1000 }, L2: { recovered: false, idsSkipped: 0 } }),
    trustCounters: () => ({ revocationDeltasApplied: 1, revocationDeltasRefused: 4, cacheCopiesRefused: 2 }),
    ledgerAnchor: () => ({ signErrors: 2, sinks: { redis: { published: 7, failures: 0, anchoredSeq: 100 }, mqtt: { published: 3, failures: 4, anchoredSeq: 95 } } }),
    replayGuardDegraded: () => true,
    pauses: () => ({ loadErrors: 1, saveErrors: 2 }),
    tls: () => [{ listener: "public", validTo: NOW + 10 * 86_400_000, reloadErrors: 2 }],
    authRefusals: () => [{ listener: "admin", reason: "bad-token", count: 4 }, { listener: "public", reason: "login-failed", count: 1 }],
    displayRefusals: () => [{ lane: "L1", reason: "CLIENT_STREAMS_FULL", count: 3 }, { lane: "L1", reason: "SLOW_CLIENT", count: 1 }],
    configReloads: () => ({ applied: 2, failed: 1, invalid: 3, lastAppliedAt: NOW - 7000, restartRequired: true }),
  };
}

describe("GatewayMetrics", () => {
  it("exports counters, timestamps, every enum state and the output/pool/display series", async () => {
    const m = new GatewayMetrics({ processMetrics: false, now: () => NOW });
    m.setCollectors(collectors());
    const t = await m.render();
    for (const line of [
      `${p}camera_state{camera="cam-1",lane="L1",state="online"} 1`,
      `${p}camera_state{camera="cam-1",lane="L1",state="stalled"} 0`,
      `${p}camera_state{camera="cam-2",lane="L2",state="backoff"} 1`,
      `${p}camera_state{camera="cam-2",lane="L2",state="online"} 0`,
      `${p}camera_up{camera="cam-2",lane="L2"} 0`,
      `${p}camera_frames_total{camera="cam-1",lane="L1"} 9000`,
      `${p}camera_restarts_total{camera="cam-2",lane="L2"} 7`,
      `${p}camera_stalls_total{camera="cam-1",lane="L1"} 2`,
      `${p}camera_last_frame_timestamp_seconds{camera="cam-1",lane="L1"} ${(NOW - 250) / 1000}`,
      `${p}camera_fps_above_config{camera="cam-1",lane="L1",stream="main"} 0`,
      `${p}camera_fps_above_config{camera="cam-1",lane="L1",stream="sub"} 1`,
      `${p}camera_fps_above_config{camera="cam-2",lane="L2",stream="main"} 1`,
      `${p}decode_workers 2`,
      `${p}decode_workers_live 1`,
      `${p}decode_queue 1`,
      `${p}decode_worker_restarts_total 4`,
      `${p}decodes_total{camera="cam-1",result="ok"} 790`,
      `${p}decodes_total{camera="cam-1",result="failed"} 4`,
      `${p}decode_early_stops_total{camera="cam-1"} 12`,
      `${p}lane_state{lane="L2",state="out-of-service"} 1`,
      `${p}lane_state{lane="L2",state="idle"} 0`,
      `${p}lane_state{lane="L1",state="paused"} 0`,
      `${p}lane_in_service{lane="L1"} 1`,
      `${p}lane_in_service{lane="L2"} 0`,
      `${p}lane_displays{lane="L1"} 2`,
      `${p}lane_displays{lane="L2"} 0`,
      `${p}lane_codes_read_total{lane="L1"} 90`,
      `${p}lane_missed_reads_total{lane="L1"} 10`,
      `${p}trust_last_refresh_timestamp_seconds ${(NOW - 60_000) / 1000}`,
      `${p}trust_clock_drift_seconds -1.5`,
      `${p}trust_clock_untrusted 0`,
      `${p}mqtt_connected 2`,
      `${p}mqtt_reconnects_total 5`,
      `${p}mqtt_verdicts_dropped_total 2`,
      `${p}mqtt_commands_total{result="rejected"} 3`,
      `${p}redis_connected 0`,
      `${p}events_spool_backlog 10`,
      `${p}events_spool_dropped_total 0`,
      `${p}ledger_entries 100`,
      `${p}ledger_last_write_timestamp_seconds ${(NOW - 5000) / 1000}`,
      `${p}ledger_write_errors_total 1`,
      `${p}ledger_fsync_errors_total 2`,
      `${p}ledger_degraded 1`,
      `${p}events_already_forwarded_total 3`,
      `${p}events_skipped_ids_total 1`,
      `${p}events_reused_positions_total 4`,
      `${p}events_marker_resets_total 1`,
      `${p}events_problem{problem="REDIS_EVICTION_POLICY:allkeys-lru"} 1`,
      `${p}trust_revocation_deltas_refused_total 4`,
      `${p}trust_cache_copies_refused_total 2`,
      `${p}build_info{version="${gatewayVersion()}",node="${process.versions.node}"} 1`,
    ]) {
      expect(t, line).toContain(line + "\n");
    }
    // Every camera gets all eight states (six of the supervisor, standby and warming of a camera with a substream); every lane all five.
    expect(t.match(new RegExp(`^${p}camera_state\\{camera="cam-1"`, "gm"))).toHaveLength(8);
    expect(t.match(new RegExp(`^${p}lane_state\\{lane="L1"`, "gm"))).toHaveLength(5);
    // No substream, no sub series.
    expect(t).not.toContain(`${p}camera_fps_above_config{camera="cam-2",lane="L2",stream="sub"}`);
    for (const c of ["camera_frames_total", "camera_restarts_total", "camera_stalls_total", "decodes_total", "mqtt_reconnects_total", "events_spool_dropped_total", "ledger_write_errors_total", "verdicts_total"]) {
      expect(t).toContain(`# TYPE ${p}${c} counter`);
    }
    // No ages and no one-hour windows any more; credentials never become a label.
    // (camera_fps_above_config is a 0/1 flag, not a rate.)
    expect(t).not.toMatch(/_age_seconds|_last_hour|camera_fps(?!_above_config\b)/);
    expect(t).not.toContain("secretpw");
    expect(gatewayVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("leaves out series whose source is absent (no Redis, no spool, no MQTT) instead of inventing zeros", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors({ ...collectors(), redisConnected: () => undefined, spool: () => undefined, mqtt: () => undefined });
    const t = await m.render();
    expect(t).not.toMatch(new RegExp(`^${p}redis_connected `, "m"));
    expect(t).not.toMatch(new RegExp(`^${p}events_spool_backlog `, "m"));
    expect(t).not.toMatch(new RegExp(`^${p}mqtt_connected `, "m"));
    expect(t).not.toMatch(new RegExp(`^${p}mqtt_commands_total`, "m"));
    expect(t).toMatch(new RegExp(`^${p}ledger_entries 100$`, "m"));
  });

  it("a throwing collector costs its own series only, never the scrape", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors({
      ...collectors(),
      cameras: () => {
        throw new Error("boom");
      },
    });
    const t = await m.render();
    expect(t).not.toMatch(new RegExp(`^${p}camera_up\\{`, "m"));
    expect(t).toContain(`${p}lane_in_service{lane="L1"} 1`);
  });

  it("exports the health state stages keep in memory: frame path per camera, failed decisions, spool disk errors", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors(collectors());
    const t = await m.render();
    for (const line of [
      `${p}camera_frame_path_failing{camera="cam-1",lane="L1"} 0`,
      `${p}camera_frame_path_failing{camera="cam-2",lane="L2"} 1`,
      `${p}lane_decision_errors_total{lane="L1"} 3`,
      `${p}events_spool_write_errors_total 5`,
      `${p}events_spool_fsync_errors_total 6`,
      `${p}events_spool_degraded 1`,
    ]) {
      expect(t, line).toContain(line + "\n");
    }
    for (const c of ["lane_decision_errors_total", "events_spool_write_errors_total", "events_spool_fsync_errors_total"]) expect(t).toContain(`# TYPE ${p}${c} counter`);
    // decodes_total{result="ok"} counts frames in which a code was read, not every frame decoded.
    expect(t).toMatch(new RegExp(`^# HELP ${p}decodes_total .*ok = at least one code read`, "m"));
    // A spool that was never degraded reports 0, not nothing.
    m.setCollectors({ spool: () => ({ ...collectors().spool!()!, degraded: false }) });
    expect(await m.render()).toContain(`${p}events_spool_degraded 0\n`);
  });

  it("exports what a start recovered: the spool's backlog, damaged lines and state file, each lane's sequence, torn ledger entries", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors(collectors());
    const t = await m.render();
    for (const line of [
      `${p}events_spool_recovered_at_start 12`,
      `${p}events_spool_records_damaged_total 2`,
      `${p}events_spool_state_recovered 1`,
      `${p}events_spool_state_lost 0`,
      `${p}events_seq_recovered{lane="L1"} 1`,
      `${p}events_seq_recovered{lane="L2"} 0`,
      `${p}events_seq_ids_skipped{lane="L1"} 1000`,
      `${p}events_seq_ids_skipped{lane="L2"} 0`,
      `${p}ledger_torn_entries_cut_total 1`,
    ]) {
      expect(t, line).toContain(line + "\n");
    }
    for (const c of ["events_spool_records_damaged_total", "ledger_torn_entries_cut_total"]) expect(t).toContain(`# TYPE ${p}${c} counter`);
    for (const g of ["events_spool_recovered_at_start", "events_spool_state_recovered", "events_spool_state_lost", "events_seq_recovered", "events_seq_ids_skipped"]) expect(t).toContain(`# TYPE ${p}${g} gauge`);
    m.setCollectors({ spool: () => ({ ...collectors().spool!()!, stateRecovered: false, stateLost: true }) });
    const lost = await m.render();
    expect(lost).toContain(`${p}events_spool_state_recovered 0\n`);
    expect(lost).toContain(`${p}events_spool_state_lost 1\n`);
    // No spool (no Redis), no ledger, no sequence store: absent, not 0.
    m.setCollectors({ spool: () => undefined, ledger: () => undefined, eventSeq: undefined });
    const none = await m.render();
    for (const name of ["events_spool_recovered_at_start", "events_spool_records_damaged_total", "events_spool_state_recovered", "events_spool_state_lost", "events_seq_recovered", "events_seq_ids_skipped", "ledger_torn_entries_cut_total"]) {
      expect(none, name).not.toMatch(new RegExp(`^${p}${name}[ {]`, "m"));
    }
  });

  it("exports the ingest diagnostics per camera: abandoned ffmpegs, corrupt frames, burst drops, host reachability, ingest error", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors(collectors());
    const t = await m.render();
    for (const line of [
      `${p}camera_ffmpeg_abandoned_total{camera="cam-1",lane="L1"} 0`,
      `${p}camera_ffmpeg_abandoned_total{camera="cam-2",lane="L2"} 2`,
      `${p}camera_corrupt_frames_total{camera="cam-1",lane="L1"} 11`,
      `${p}camera_corrupt_frames_total{camera="cam-2",lane="L2"} 0`,
      `${p}camera_burst_dropped_total{camera="cam-1",lane="L1"} 3`,
      `${p}camera_host_reachable{camera="cam-1",lane="L1"} 1`,
      `${p}camera_host_reachable{camera="cam-2",lane="L2"} 0`,
      `${p}camera_ingest_error{camera="cam-2",lane="L2",code="GW_CAMERA_FAILED"} 1`,
    ]) {
      expect(t, line).toContain(line + "\n");
    }
    // Only a camera with an ingest error has the series (one per camera, labelled with its code).
    expect(t.match(new RegExp(`^${p}camera_ingest_error\\{`, "gm"))).toHaveLength(1);
    for (const c of ["camera_ffmpeg_abandoned_total", "camera_corrupt_frames_total", "camera_burst_dropped_total"]) expect(t).toContain(`# TYPE ${p}${c} counter`);
    for (const g of ["camera_host_reachable", "camera_ingest_error"]) expect(t).toContain(`# TYPE ${p}${g} gauge`);

    // A file source has no host to probe: no reachability series, rather than a made-up 1.
    const file = { id: "cam-f", lane: "L1", state: "online", fpsIn: 10, framesDropped: 0, reconnectsLastHour: 0, stallsLastHour: 0, burstDropped: 0, corruptWarnings: 0, ffmpegAbandoned: 0 };
    m.setCollectors({ cameras: () => [file, { ...file, id: "cam-s", ingestError: "GW_CAMERA_SPAWN" }] });
    const f = await m.render();
    expect(f).not.toMatch(new RegExp(`^${p}camera_host_reachable\\{`, "m"));
    expect(f).toContain(`${p}camera_ffmpeg_abandoned_total{camera="cam-f",lane="L1"} 0\n`);
    expect(f).toContain(`${p}camera_ingest_error{camera="cam-s",lane="L1",code="GW_CAMERA_SPAWN"} 1\n`);
    expect(f).not.toMatch(new RegExp(`^${p}camera_ingest_error\\{camera="cam-f"`, "m"));
  });

  it("exports the ledger anchor per sink and its lag behind the ledger head, the replay guard, the pause store and the trust expiry", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors(collectors());
    const t = await m.render();
    for (const line of [
      `${p}ledger_anchor_published_total{sink="redis"} 7`,
      `${p}ledger_anchor_published_total{sink="mqtt"} 3`,
      `${p}ledger_anchor_failures_total{sink="redis"} 0`,
      `${p}ledger_anchor_failures_total{sink="mqtt"} 4`,
      `${p}ledger_anchor_sign_errors_total 2`,
      // ledger_entries is 100: Redis holds head 100, MQTT head 95.
      `${p}ledger_anchor_lag{sink="redis"} 0`,
      `${p}ledger_anchor_lag{sink="mqtt"} 5`,
      `${p}replay_guard_degraded 1`,
      `${p}lane_pause_store_errors_total{op="load"} 1`,
      `${p}lane_pause_store_errors_total{op="save"} 2`,
      `${p}trust_expires_timestamp_seconds ${(NOW + 3_600_000) / 1000}`,
    ]) {
      expect(t, line).toContain(line + "\n");
    }
    for (const c of ["ledger_anchor_published_total", "ledger_anchor_failures_total", "ledger_anchor_sign_errors_total", "lane_pause_store_errors_total"]) expect(t).toContain(`# TYPE ${p}${c} counter`);
    for (const g of ["ledger_anchor_lag", "replay_guard_degraded", "trust_expires_timestamp_seconds"]) expect(t).toContain(`# TYPE ${p}${g} gauge`);

    // A sink that took no head yet is behind by every entry; with no entries it is not behind.
    const never = { signErrors: 0, sinks: { redis: { published: 0, failures: 3 } } };
    m.setCollectors({ ledgerAnchor: () => never, replayGuardDegraded: () => false });
    const behind = await m.render();
    expect(behind).toContain(`${p}ledger_anchor_lag{sink="redis"} 100\n`);
    expect(behind).not.toMatch(new RegExp(`^${p}ledger_anchor_lag\\{sink="mqtt"\\}`, "m"));
    expect(behind).toContain(`${p}replay_guard_degraded 0\n`);
    m.setCollectors({ ledger: () => ({ entries: 0, writeErrors: 0 }) });
    expect(await m.render()).toContain(`${p}ledger_anchor_lag{sink="redis"} 0\n`);
  });

  it("leaves out the anchor, replay guard and trust expiry series when there is no ledger, no Redis guard, no expiring list", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    const { pauses: _pauses, ...rest } = collectors();
    m.setCollectors({ ...rest, ledger: () => undefined, ledgerAnchor: () => undefined, replayGuardDegraded: () => undefined, trust: () => ({ ...collectors().trust!(), expiresAt: undefined }) });
    const t = await m.render();
    for (const name of ["ledger_anchor_published_total", "ledger_anchor_failures_total", "ledger_anchor_sign_errors_total", "ledger_anchor_lag", "replay_guard_degraded", "trust_expires_timestamp_seconds", "lane_pause_store_errors_total"]) {
      expect(t, name).not.toMatch(new RegExp(`^${p}${name}[ {]`, "m"));
    }
    // A ledger that is off leaves no lag even when the anchor still answers.
    m.setCollectors({ ledgerAnchor: () => collectors().ledgerAnchor!() });
    const noLedger = await m.render();
    expect(noLedger).toContain(`${p}ledger_anchor_published_total{sink="redis"} 7\n`);
    expect(noLedger).not.toMatch(new RegExp(`^${p}ledger_anchor_lag`, "m"));
  });

  it("exports the TLS certificate expiry and reload errors, auth refusals, display refusals and config reloads", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors(collectors());
    const t = await m.render();
    for (const line of [
      `${p}tls_certificate_expiry_timestamp_seconds{listener="public"} ${(NOW + 10 * 86_400_000) / 1000}`,
      `${p}tls_reload_errors_total{listener="public"} 2`,
      `${p}http_auth_refusals_total{listener="admin",reason="bad-token"} 4`,
      `${p}http_auth_refusals_total{listener="public",reason="login-failed"} 1`,
      `${p}lane_display_refusals_total{lane="L1",reason="CLIENT_STREAMS_FULL"} 3`,
      `${p}lane_display_refusals_total{lane="L1",reason="SLOW_CLIENT"} 1`,
      `${p}config_reloads_total{result="applied"} 2`,
      `${p}config_reloads_total{result="failed"} 1`,
      `${p}config_reloads_total{result="invalid"} 3`,
      `${p}config_last_reload_timestamp_seconds ${(NOW - 7000) / 1000}`,
      `${p}config_restart_required 1`,
    ]) {
      expect(t, line).toContain(line + "\n");
    }
    for (const c of ["tls_reload_errors_total", "http_auth_refusals_total", "lane_display_refusals_total", "config_reloads_total"]) expect(t).toContain(`# TYPE ${p}${c} counter`);
    for (const g of ["tls_certificate_expiry_timestamp_seconds", "config_last_reload_timestamp_seconds", "config_restart_required"]) expect(t).toContain(`# TYPE ${p}${g} gauge`);

    // Without TLS no certificate series; before the first reload no timestamp, and no restart pending reads 0.
    m.setCollectors({ tls: () => [], configReloads: () => ({ applied: 0, failed: 0, invalid: 0, restartRequired: false }) });
    const plain = await m.render();
    expect(plain).not.toMatch(new RegExp(`^${p}tls_(certificate_expiry_timestamp_seconds|reload_errors_total)\\{`, "m"));
    expect(plain).not.toMatch(new RegExp(`^${p}config_last_reload_timestamp_seconds `, "m"));
    expect(plain).toContain(`${p}config_restart_required 0\n`);
    expect(plain).toContain(`${p}config_reloads_total{result="failed"} 0\n`);
  });

  it("exports an untrusted clock as 1 (a signed list issued a day after the local clock's time)", async () => {
    const m = new GatewayMetrics({ processMetrics: false, now: () => NOW });
    m.setCollectors({ ...collectors(), trust: () => ({ version: "tl-1", stale: false, clockUntrusted: { basis: "signed-time", offsetMs: -86_400_000 }, sources: [] }) });
    const t = await m.render();
    expect(t).toContain(`${p}trust_clock_untrusted 1`);
    // No Date header seen: no drift sample (its HELP line stays).
    expect(t).not.toMatch(new RegExp(`^${p}trust_clock_drift_seconds `, "m"));
  });

  it("exports MQTT publish errors per kind and the keys each trust source skipped (0 for a source with none, credentials masked)", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors(collectors());
    const t = await m.render();
    for (const line of [
      `${p}mqtt_publish_errors_total{kind="verdict"} 4`,
      `${p}mqtt_publish_errors_total{kind="stats"} 1`,
      `${p}mqtt_publish_errors_total{kind="status"} 0`,
      `${p}trust_keys_skipped{source="https://***:***@trust.example/l.jws"} 3`,
      `${p}trust_keys_skipped{source="/etc/cpgw/dsc"} 0`,
    ]) {
      expect(t, line).toContain(line + "\n");
    }
    expect(t.match(new RegExp(`^${p}mqtt_publish_errors_total\\{`, "gm"))).toHaveLength(5);
    expect(t).toContain(`# TYPE ${p}mqtt_publish_errors_total counter`);
    expect(t).toContain(`# TYPE ${p}trust_keys_skipped gauge`);
    expect(t).not.toContain("secretpw");
    // Without MQTT there is no publish error series at all, rather than zeros for an output that is not there.
    m.setCollectors({ mqtt: () => undefined });
    expect(await m.render()).not.toMatch(new RegExp(`^${p}mqtt_publish_errors_total\\{`, "m"));
  });

  it("counts a throwing collector once per scrape under its name, healthy collectors at 0", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors({
      ...collectors(),
      lanes: () => {
        throw new Error("boom");
      },
    });
    const first = await m.render();
    // Its series are gone (so CheckpointLaneOutOfService could not fire): the counter is what is left.
    expect(first).not.toMatch(new RegExp(`^${p}lane_state\\{`, "m"));
    expect(first).toContain(`${p}metrics_collector_errors_total{collector="lanes"} 1\n`);
    expect(first).toContain(`${p}metrics_collector_errors_total{collector="cameras"} 0\n`);
    expect(first).toContain(`# TYPE ${p}metrics_collector_errors_total counter`);
    // lanes is read by four series in a scrape; each scrape counts once.
    expect(await m.render()).toContain(`${p}metrics_collector_errors_total{collector="lanes"} 2\n`);
    m.setCollectors({ lanes: () => [] });
    expect(await m.render()).toContain(`${p}metrics_collector_errors_total{collector="lanes"} 2\n`);
  });

  it("counts a series whose samples throw on a malformed collector answer under that collector", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors({ ...collectors(), laneCounters: () => ({ L1: null as never }) });
    const t = await m.render();
    expect(t).toContain(`${p}metrics_collector_errors_total{collector="laneCounters"} 1\n`);
    expect(t).toContain(`${p}lane_in_service{lane="L1"} 1`);
  });

  it("counts verdicts and records the lane's last verdict time", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    const at = NOW + 1234;
    m.observeVerdict({ id: "g:L1:1", gatewayId: "g", lane: "L1", cameraId: "cam-1", seq: 1, at, verdict: "FLAG", reason: "EXPIRED", format: "pass", payloadHash: "ab", frameToVerdictMs: 40, firstSeenToVerdictMs: 120 } as never);
    const t = await m.render();
    expect(t).toContain(`${p}verdicts_total{lane="L1",verdict="FLAG",reason="EXPIRED"} 1\n`);
    expect(t).toContain(`${p}lane_last_verdict_timestamp_seconds{lane="L1"} ${at / 1000}\n`);
    expect(t).toContain(`${p}frame_to_verdict_seconds_bucket{le="0.05",lane="L1"} 1\n`);
  });

  it("each lane's INTERNAL_ERROR verdicts are exported at 0 before any verdict, a lane added by a reload from the next scrape on", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    const bus = new GatewayBus();
    m.attach(bus);
    const lanes = [{ lane: "L1", state: "idle" as const, problems: [] }, { lane: "L2", state: "paused" as const, problems: [] }];
    m.setCollectors({ lanes: () => lanes });
    const series = (t: string) => [...t.matchAll(new RegExp(`^${p}verdicts_total\\{(.*)\\} (\\d+)$`, "gm"))].map((x) => `${x[1]} ${x[2]}`);
    expect(series(await m.render())).toEqual(['lane="L1",verdict="ERROR",reason="INTERNAL_ERROR" 0', 'lane="L2",verdict="ERROR",reason="INTERNAL_ERROR" 0']);
    lanes.push({ lane: "L3", state: "idle", problems: [] });
    expect(series(await m.render())).toContain('lane="L3",verdict="ERROR",reason="INTERNAL_ERROR" 0');
    bus.emit("verdict", { id: "g:L3:1", gatewayId: "g", lane: "L3", cameraId: "c", seq: 1, at: NOW, verdict: "ERROR", reason: "INTERNAL_ERROR", format: "unknown", payloadHash: "ab", frameToVerdictMs: 1, firstSeenToVerdictMs: 1 } as never);
    expect(series(await m.render())).toContain('lane="L3",verdict="ERROR",reason="INTERNAL_ERROR" 1');
  });

  it("a lane closed because the paused-lane state could not be read is 1 in lane_pause_state_unknown, every other lane 0", async () => {
    const m = new GatewayMetrics({ processMetrics: false });
    m.setCollectors({ ...collectors(), pauses: () => ({ loadErrors: 1, saveErrors: 0, unknownLanes: ["L2"] }) });
    const t = await m.render();
    expect(t).toContain(`${p}lane_pause_state_unknown{lane="L1"} 0\n`);
    expect(t).toContain(`${p}lane_pause_state_unknown{lane="L2"} 1\n`);
    m.setCollectors({ pauses: undefined });
    expect(await m.render()).not.toContain("lane_pause_state_unknown{");
  });

  it("default process metrics carry no project prefix (standard Node.js dashboards match)", async () => {
    const t = await new GatewayMetrics().render();
    expect(t).toMatch(/^process_cpu_seconds_total /m);
    expect(t).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(t).toMatch(/^process_resident_memory_bytes /m);
    expect(t).not.toContain(`${p}process_`);
    expect(t).not.toContain(`${p}nodejs_`);
  });
});

describe("docs/metrics.md", () => {
  it("lists every series the gateway exports, and no series it does not", async () => {
    const m = new GatewayMetrics({ processMetrics: false, now: () => NOW });
    m.setCollectors(collectors());
    m.observeDecode(5, "cam-1");
    const text = await m.render();
    const exported = new Set([...text.matchAll(new RegExp(`^# TYPE ${p}(\\w+) `, "gm"))].map((x) => x[1]!));
    const doc = readFileSync("docs/metrics.md", "utf8");
    const table = doc.slice(doc.indexOf("## Series"), doc.indexOf("## Scraping"));
    const documented = new Set([...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((x) => x[1]!));
    expect(exported.size).toBeGreaterThan(45);
    expect([...exported].filter((n) => !documented.has(n)), "exported but not documented").toEqual([]);
    expect([...documented].filter((n) => !exported.has(n)), "documented but not exported").toEqual([]);
  });
});
