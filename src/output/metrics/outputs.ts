import { flag, one, sec, type SeriesKit } from "./series.js";

/** Why the spool's forwarding can be held while Redis answers (SpoolStats.forwardBlocked). */
const FORWARD_BLOCK_REASONS = ["wrongtype"] as const;

/** Where verdicts go: MQTT, Redis and the event spool, the lanes' event ids, the ledger and its anchors. */
export function registerOutputSeries({ series, read }: SeriesKit): void {
  const mqtt = () => read("mqtt");
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
  series("redisConnected", "gauge", "redis_connected", "1 when the configured Redis is connected (absent without Redis).", [], () => flag(read("redisConnected")));

  const spool = () => read("spool");
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
  // Every reason at 0 while the spool runs, so an alert sees the 0 before the 1; an unlisted reason still shows as 1.
  series("spool", "gauge", "events_forward_blocked", "1 while forwarding to the Redis stream is held though Redis answers, by reason (wrongtype: the stream or the spool's id set key holds another Redis type, GW_EVENTS_REDIS_WRONGTYPE; nothing is written until a person deletes or renames the key, the spool keeps the events up to its bound); 0 otherwise.", ["reason"], () => {
    const s = spool();
    if (!s) return [];
    return [...new Set([...FORWARD_BLOCK_REASONS, ...(s.forwardBlocked ? [s.forwardBlocked] : [])])].map((reason) => ({ labels: { reason }, value: s.forwardBlocked === reason ? 1 : 0 }));
  });
  series("spool", "counter", "events_spool_write_errors_total", "Spool writes that failed (record append, state file, compaction rewrite).", [], () => one(spool()?.writeErrors));
  series("spool", "counter", "events_spool_fsync_errors_total", "Spool fsync or close calls that failed (records perhaps not on disk).", [], () => one(spool()?.fsyncErrors));
  series("spool", "gauge", "events_spool_degraded", "1 while events whose append failed are held in memory only (lost if the process dies before Redis takes them).", [], () => flag(spool()?.degraded));
  // What the spool found on disk at its start: a backlog left by the last run, damage, a lost state file.
  series("spool", "gauge", "events_spool_recovered_at_start", "Verdict events the last run left in the spool file, queued again for the stream when the spool started.", [], () => one(spool()?.recoveredAtStart));
  series("spool", "counter", "events_spool_records_damaged_total", "Spool file lines dropped as unreadable when the spool started (torn by a crash or damaged): those events may never reach the stream.", [], () => one(spool()?.recordsDamaged));
  series("spool", "gauge", "events_spool_state_recovered", "1 when the spool's state file was missing at start and its epoch and position floor were recovered from the spool file's header.", [], () => flag(spool()?.stateRecovered));
  series("spool", "gauge", "events_spool_state_lost", "1 when the spool's state file and header were both missing at start: pending events were resent under a new epoch (the stream may get duplicates).", [], () => flag(spool()?.stateLost));
  const seqs = () => Object.entries(read("eventSeq") ?? {});
  series("eventSeq", "gauge", "events_seq_recovered", "1 when the lane's event sequence file was missing, damaged or behind the recorded events at start and ids resumed after the highest recorded id plus a gap.", ["lane"], () =>
    seqs().map(([lane, s]) => ({ labels: { lane }, value: s.recovered ? 1 : 0 })),
  );
  series("eventSeq", "gauge", "events_seq_ids_skipped", "Event ids the lane's sequence recovery at start left unused (0 without a recovery).", ["lane"], () => seqs().map(([lane, s]) => ({ labels: { lane }, value: s.idsSkipped })));

  const ledger = () => read("ledger");
  series("ledger", "gauge", "ledger_entries", "Entries in the hash-chained ledger.", [], () => one(ledger()?.entries));
  series("ledger", "gauge", "ledger_last_write_timestamp_seconds", "When the ledger was last appended to.", [], () => one(sec(ledger()?.lastWriteAt)));
  series("ledger", "counter", "ledger_write_errors_total", "Ledger writes that failed (entry or head file).", [], () => one(ledger()?.writeErrors));
  series("ledger", "counter", "ledger_fsync_errors_total", "Ledger fsync or close calls that failed (entries perhaps not on disk).", [], () => one(ledger()?.fsyncErrors));
  series("ledger", "counter", "ledger_torn_entries_cut_total", "Partial last lines (an entry torn by a crash or power cut) cut from the ledger files when the ledger started: those entries are not in the ledger.", [], () => one(ledger()?.tornEntriesCut));
  series("ledger", "gauge", "ledger_degraded", "1 once a ledger write or fsync failed since start (durability not guaranteed).", [], () => flag(ledger()?.degraded));
  series("ledger", "gauge", "ledger_damaged", "1 when the ledger did not start because its newest file's last entry is damaged: no verdict is written to it until the file is repaired.", [], () => flag(ledger()?.damaged));
  // The head anchored outside the ledger dir (Redis, retained MQTT): what a rewrite of the files cannot change.
  const anchor = () => read("ledgerAnchor");
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
}
