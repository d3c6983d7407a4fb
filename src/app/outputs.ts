import { join } from "node:path";
import type { Cluster, Redis } from "ioredis";
import type { GatewayBus } from "../core/bus.js";
import type { Logger } from "../core/logger.js";
import type { GatewayConfig } from "../config/schema.js";
import { createEventSpool, type EventSpool } from "../output/events/index.js";
import { createHeadAnchor, createLedger, LedgerDamagedError, LedgerLockedError, ledgerHeadKey, ledgerHeadTopic, loadHeadSigner, mqttHeadSink, redisHeadSink, type HeadAnchor, type HeadAnchorStats, type HeadSink, type Ledger } from "../output/ledger/index.js";
import type { HeadSigner } from "../output/ledger/anchor.js";
import { systemClock } from "../core/clock.js";
import { createMqttOutput, type LaneActions, type MqttOutput, type StatsSnapshot } from "../output/mqtt/index.js";
import type { LedgerStats, MqttStats, SpoolStats } from "../output/metrics/index.js";
import type { LaneStatus, VerdictEvent } from "../core/types.js";

/** The parts of the outputs, each started on its own: one that cannot start costs only itself. */
export type OutputPart = "ledger" | "spool" | "mqtt";

export interface Outputs {
  spool?: EventSpool;
  ledger?: Ledger;
  mqtt?: MqttOutput;
  /** Ledger entries, last write, write/fsync errors, degraded and torn entries cut at start (for /metrics). */
  ledgerStats?: () => LedgerStats;
  /** Anchor progress per sink (published, failures, anchoredSeq) and sign errors (for /metrics). */
  anchorStats?: () => HeadAnchorStats;
  /** The spool's numbers, or a spool left off: its start and every verdict since as failed writes (for /metrics). */
  spoolStats?: () => SpoolStats;
  /** MQTT's numbers, or MQTT left off: no connection up and every verdict since dropped (for /metrics). */
  mqttStats?: () => MqttStats;
  /** Configured parts that could not start and are left off, with why (each logged with a code when it was left off). */
  off: ReadonlyMap<OutputPart, Error>;
  /** Flushes and closes in dependency order; never throws. */
  close(): Promise<void>;
}

/**
 * Durable and device outputs, each optional: the ledger (on disk, default on), the Redis Streams
 * spool (only with Redis: it is the queue in front of the stream), MQTT (only when configured).
 * Each subscribes to the bus; the bus isolates a throwing listener from the others.
 */
/** What MQTT needs from the running gateway: real lane states, stats, and the pause/resume actions. */
export interface OutputDeps {
  laneStatus?: (lane: string) => LaneStatus | undefined;
  stats?: () => StatsSnapshot;
  actions?: LaneActions;
  now?: () => number;
  /** Outputs started by a swap (swapOutputs): the verdicts it holds, taken when each output subscribes. */
  handoff?: Handoff;
}

/**
 * The verdicts a running swap holds for the outputs it starts, and how many of them (from the
 * start) each output has written: a ledger or spool that wrote some and then failed to start wrote
 * them to the same files its restored successor resumes from.
 */
export interface Handoff {
  held: VerdictEvent[];
  written: Map<"ledger" | "spool", number>;
}

/**
 * Subscribes an output to verdicts. During a swap it first writes what the swap held so far and it
 * has not written yet, in the same synchronous step: the output then has every verdict once and in
 * order, and the swap does not replay them again (a verdict decided while the spool or MQTT still
 * start was written twice). It keeps counting what it writes while the swap still holds.
 */
function subscribeVerdicts(bus: GatewayBus, name: "ledger" | "spool", write: (ev: VerdictEvent) => void, h: Handoff | undefined): () => void {
  if (!h) return bus.on("verdict", write);
  for (const ev of h.held.slice(h.written.get(name) ?? 0)) write(ev);
  h.written.set(name, h.held.length);
  // The swap's own listener came first, so a verdict is held before it reaches this one.
  return bus.on("verdict", (ev) => {
    write(ev);
    const n = h.written.get(name) ?? 0;
    if (h.held[n] === ev) h.written.set(name, n + 1);
  });
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/**
 * Starts each configured part on its own and never throws: a part that cannot start (a spool
 * directory gone read-only, an MQTT CA file removed during a rotation, a ledger directory that
 * cannot be opened) is left off, logged with its code, counted on /metrics and listed in `off`,
 * while the others start and record. One bad part used to close the others again, so a reload
 * whose restore failed the same way left no ledger, no spool and no MQTT behind.
 */
export async function startOutputs(cfg: GatewayConfig, bus: GatewayBus, logger: Logger, redis: Redis | Cluster | undefined, deps: OutputDeps = {}): Promise<Outputs> {
  const log = logger.child({ module: "app.outputs" });
  const unsub: Array<() => void> = [];
  const off = new Map<OutputPart, Error>();
  const out: Outputs = { off, close: async () => {} };
  let anchor: HeadAnchor | undefined;
  out.close = async () => {
    for (const u of unsub.splice(0)) u();
    const step = async (what: string, fn: (() => Promise<unknown>) | undefined) => {
      try {
        await fn?.();
      } catch (e) {
        log.warn({ output: what, err: (e as Error).message }, "output close failed");
      }
    };
    await step("spool", out.spool && (async () => {
      await out.spool!.flush();
      await out.spool!.close();
    }));
    await step("ledger", out.ledger && (() => out.ledger!.close()));
    await step("ledger head", anchor && (() => anchor!.close()));
    // MQTT last: lanes' retained status goes offline only after every verdict is out.
    await step("mqtt", out.mqtt && (() => out.mqtt!.close()));
  };

  /** Leaves a part off, loudly; returns how many verdicts it has missed since (for its /metrics stand-in). */
  const leaveOff = (part: OutputPart, e: unknown, fields: Record<string, unknown>, msg: string): (() => number) => {
    const err = asError(e);
    off.set(part, err);
    log.error({ ...fields, output: part, err: err.message }, msg);
    let missed = 0;
    unsub.push(bus.on("verdict", () => void missed++));
    return () => missed;
  };

  if (cfg.events.ledger) {
    // The head is anchored outside the ledger dir (Redis, retained MQTT), signed when a key is set.
    const sinks = (): HeadSink[] => [
      ...(redis && cfg.redis ? [redisHeadSink(redis, ledgerHeadKey(cfg.redis.keyPrefix, cfg.gateway.id))] : []),
      ...(out.mqtt && cfg.mqtt ? [mqttHeadSink((t, p, o) => out.mqtt!.publish(t, p, o), ledgerHeadTopic(cfg.mqtt.topicPrefix, cfg.gateway.id))] : []),
    ];
    let signer: HeadSigner | undefined;
    if (cfg.gateway.signingKey) {
      try {
        signer = await loadHeadSigner(cfg.gateway.signingKey);
      } catch (e) {
        // A key file that cannot be read must not cost the ledger itself: heads go out unsigned,
        // each one counted as a sign error (ledger_anchor_sign_errors_total), until it can be read.
        const err = asError(e);
        log.error({ code: "GW_LEDGER_ANCHOR", err: err.message }, "ledger signing key cannot be loaded; ledger heads are published unsigned");
        signer = { sign: () => Promise.reject(err) };
      }
    }
    const a = createHeadAnchor({ gatewayId: cfg.gateway.id, sinks, ...(signer ? { signer } : {}), clock: systemClock, logger });
    anchor = a;
    // The last write is the last head the ledger moved to: a failed write does not move it.
    let lastWriteAt: number | undefined;
    const now = deps.now ?? Date.now;
    let ledger: Ledger | undefined;
    try {
      ledger = createLedger({
        dir: join(cfg.gateway.stateDir, "ledger"),
        gatewayId: cfg.gateway.id,
        logger,
        fsync: cfg.events.fsync,
        onHead: (h) => {
          lastWriteAt = now();
          a.update(h);
        },
      });
    } catch (e) {
      await a.close();
      anchor = undefined;
      if (e instanceof LedgerDamagedError) {
        // A damaged last entry needs a person (ledger.ts): the ledger stays off, loudly, and the
        // lanes, the spool and MQTT go on, instead of the whole gateway refusing to start.
        off.set("ledger", e);
        log.error({ code: e.code, file: e.file, line: e.line }, "ledger cannot continue its chain: its newest file's last entry is damaged; the ledger is off until the file is repaired (ledger verify, docs/events.md)");
        out.ledgerStats = () => ({ entries: 0, writeErrors: 0, degraded: true, damaged: true });
      } else if (e instanceof LedgerLockedError) {
        const missed = leaveOff("ledger", e, { code: e.code, holder: e.holder }, "ledger is locked by another live gateway (gateway.stateDir shared?): it is off here, so one chain is not interleaved with another; give each gateway its own stateDir");
        out.ledgerStats = () => ({ entries: 0, writeErrors: 1 + missed(), degraded: true, damaged: false });
      } else {
        const missed = leaveOff("ledger", e, { code: "GW_LEDGER_FSYNC" }, "ledger cannot start: it is off (verdicts are not written to it) until a reload or a restart starts it; check the disk under gateway.stateDir");
        out.ledgerStats = () => ({ entries: 0, writeErrors: 1 + missed(), degraded: true, damaged: false });
      }
    }
    if (ledger) {
      const l = ledger;
      const h = l.head();
      if (h) a.update(h);
      // The ledger contains its own write failures (a worn card must not kill the gateway) and counts them.
      unsub.push(subscribeVerdicts(bus, "ledger", (ev) => l.append(ev), deps.handoff));
      out.ledger = l;
      out.anchorStats = () => a.stats();
      out.ledgerStats = () => {
        const st = l.stats();
        return { entries: l.head()?.seq ?? 0, writeErrors: st.writeErrors, fsyncErrors: st.fsyncErrors, degraded: st.degraded, damaged: false, tornEntriesCut: st.tornEntriesCut, ...(lastWriteAt !== undefined ? { lastWriteAt } : {}) };
      };
    }
  }
  if (redis && cfg.redis) {
    let spool: EventSpool | undefined;
    try {
      const s = createEventSpool({
        dir: join(cfg.gateway.stateDir, "spool"),
        fsync: cfg.events.fsync,
        maxBytes: cfg.events.spoolMaxBytes,
        redis,
        stream: cfg.redis.stream,
        ...(cfg.redis.streamMaxLen ? { maxLen: cfg.redis.streamMaxLen } : {}),
        gatewayId: cfg.gateway.id,
        logger,
      });
      spool = s;
      await s.start();
      unsub.push(subscribeVerdicts(bus, "spool", (ev) => s.append(ev), deps.handoff));
      out.spool = s;
      out.spoolStats = () => s.stats();
    } catch (e) {
      await spool?.close().catch(() => undefined);
      const missed = leaveOff("spool", e, { errno: (e as NodeJS.ErrnoException | null)?.code }, "event spool cannot start: it is off (verdicts do not reach the Redis stream) until a reload or a restart starts it; check the disk under gateway.stateDir");
      out.spoolStats = () => ({ spooled: 0, forwarded: 0, pending: 0, pendingBytes: 0, dropped: 0, writeErrors: 1 + missed() });
    }
  }
  if (cfg.mqtt) {
    let mqtt: MqttOutput | undefined;
    try {
      mqtt = createMqttOutput({
        config: cfg.mqtt,
        gatewayId: cfg.gateway.id,
        lanes: cfg.lanes.map((l) => l.id),
        bus,
        logger,
        heartbeatMs: cfg.display.heartbeatMs,
        // Published through this output's connection, under its prefix: never a removed lane's topic to clear.
        keepRetained: [ledgerHeadTopic(cfg.mqtt.topicPrefix, cfg.gateway.id)],
        ...(deps.laneStatus ? { laneStatus: deps.laneStatus } : {}),
        ...(deps.stats ? { stats: deps.stats } : {}),
        ...(deps.actions ? { actions: deps.actions } : {}),
      });
      // start() waits at most connectTimeoutMs and keeps retrying: a missing broker never blocks start-up.
      await mqtt.start().catch((e: unknown) => log.warn({ err: (e as Error).message }, "MQTT not connected yet; retrying"));
      const m = mqtt;
      out.mqtt = m;
      out.mqttStats = () => m.stats();
    } catch (e) {
      await mqtt?.close().catch(() => undefined);
      const links = cfg.lanes.length + 1;
      const missed = leaveOff("mqtt", e, { code: "GW_MQTT_UNAVAILABLE" }, "MQTT cannot start: it is off (lights and barriers get no status or verdict) until a reload or a restart starts it");
      out.mqttStats = () => ({ connected: 0, links, reconnects: 0, verdictsPublished: 0, verdictsDropped: missed() });
    }
  }
  return out;
}

/**
 * Replaces the running outputs (a reload of `mqtt` or `events`). Verdicts decided during the swap
 * are held and written to the new ledger and spool, so none falls between the old and the new and
 * none is written twice: `start` gets the handoff to pass to `startOutputs` (deps.handoff), whose
 * outputs take the held ones when they subscribe; only an output that did not is given them here.
 * The new outputs fail when `start` throws or leaves off a part the old ones ran: with `restore`
 * they are closed and the previous ones started again (same handoff), `failed` is the error, and
 * the reload fails while verdicts keep reaching every part that can run. A part that was already
 * off before is no failure (the new outputs stay): a reload must not be refused for a problem it
 * did not cause, and it is what tries that part again.
 */
export async function swapOutputs(bus: GatewayBus, old: Outputs, start: (handoff: Handoff) => Promise<Outputs>, restore?: (handoff: Handoff) => Promise<Outputs>): Promise<{ outputs: Outputs; failed?: Error }> {
  const h: Handoff = { held: [], written: new Map() };
  const off = bus.on("verdict", (ev) => h.held.push(ev));
  let next: Outputs | undefined;
  let failed: Error | undefined;
  try {
    await old.close();
    try {
      next = await start(h);
      failed = [...next.off].find(([part]) => !old.off.has(part))?.[1];
    } catch (e) {
      if (!restore) throw e;
      failed = asError(e);
    }
    if (failed && restore) {
      // The new ones share the previous ones' files (ledger dir, spool lock): they must be closed first.
      await next?.close();
      next = await restore(h);
    }
  } finally {
    off();
  }
  const running = next!;
  for (const [name, o] of [["ledger", running.ledger], ["spool", running.spool]] as const) for (const ev of h.held.slice(h.written.get(name) ?? 0)) o?.append(ev);
  return { outputs: running, ...(failed ? { failed } : {}) };
}
