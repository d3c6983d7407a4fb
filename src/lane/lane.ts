import { clampTimerMs, type Clock, type TimerHandle } from "../core/clock.js";
import { recordFault } from "../core/faults.js";
import type { GatewayBus } from "../core/bus.js";
import type { Logger } from "../core/logger.js";
import { shortHash } from "../core/hash.js";
import type { DecodeResult, LaneStatus, Verdict } from "../core/types.js";
import type { LaneConfig } from "./options.js";
import { PresenceTracker, type Presentation } from "./presence.js";
import { ChunkGatherer, isShcChunk, type AssembledCard, type ChunkAssemblerPort } from "./chunks.js";
import { shcChunkProblem } from "../verify/shc/chunks.js";
import type { ReplayGuard } from "./replay-guard.js";
import { LaneStateMachine, type LaneProblem } from "./state.js";
import { buildVerdictEvent, asReplay } from "./event.js";
import type { SeqStore } from "./seq-store.js";
import { newTelemetry, RECENT_MAX, type LaneTelemetry } from "./telemetry.js";

/** What the lane needs from the verifier (the shape of `createVerifier(...).verify`). */
export type VerifyFn = (text: string, ctx: { nowMs: number; lane: { id: string; area?: string; accept: LaneConfig["accept"]; rules: LaneConfig["rules"] } }) => Verdict | Promise<Verdict>;

export interface LaneOptions {
  config: LaneConfig;
  gatewayId: string;
  cameraIds: readonly string[];
  verify: VerifyFn;
  replay: ReplayGuard;
  bus: GatewayBus;
  clock: Clock;
  logger: Logger;
  /** Salt for payload hashes (presentation keys, payloadHash). */
  salt: string;
  seq: SeqStore;
  /** Chunked SHC assembler (from the verifier); without it chunks are verified one by one. */
  chunkAssembler?: ChunkAssemblerPort;
  /**
   * How long after it is built the lane shows STARTING rather than CAMERAS_DOWN while no camera is
   * up yet: the time its cameras get for a first frame (the wiring derives it from ingest's
   * `startupGraceMs`). 0: CAMERAS_DOWN at once.
   */
  startupGraceMs: number;
  /**
   * What a lane with the same id that this one replaces (a config reload) knew about the codes in
   * view: a code held through the reload stays one presentation, with one verdict.
   */
  from?: LaneCarryOver;
}

/** A lane's presentations and assembled chunked cards, handed to the lane that replaces it. */
export interface LaneCarryOver {
  presence: PresenceTracker;
  chunks: ChunkGatherer | undefined;
}

/**
 * Reasons a spliced chunked card gives (decoding, key and signature checks: steps 2 and 3 of
 * docs/reasons.md). A card assembled while another card's chunks were in view that fails with one
 * of these was most likely put together from two travellers' chunks: it is no presentation.
 */
const SPLICE_REASONS: ReadonlySet<string> = new Set([
  "NUMERIC_INVALID",
  "DECOMPRESS_FAILED",
  "SIZE_LIMIT",
  "STRUCTURE_INVALID",
  "KID_MISSING",
  "KEY_UNKNOWN",
  "ALG_UNSUPPORTED",
  "ALG_KEY_MISMATCH",
  "SIGNATURE_INVALID",
  "ISSUER_UNTRUSTED",
]);

/**
 * One lane: decode results of its cameras in, one VerdictEvent per presentation out (on the bus),
 * and the lane state the display shows. Never throws into the frame path.
 */
export class Lane {
  readonly id: string;
  readonly leaveMs: number;
  private readonly presence: PresenceTracker;
  private readonly chunks: ChunkGatherer | undefined;
  private readonly machine: LaneStateMachine;
  private readonly cameraUp = new Map<string, boolean>();
  private readonly tel: LaneTelemetry = newTelemetry();
  private readonly pending = new Set<Promise<void>>();
  /** Set while the lane is STARTING: ends at the first camera up or when the grace runs out. */
  private startup: TimerHandle | undefined;

  constructor(private readonly o: LaneOptions) {
    this.id = o.config.id;
    this.leaveMs = o.config.leaveMs;
    this.presence = new PresenceTracker(o.config.leaveMs, o.from?.presence);
    const hash = (t: string) => shortHash(t, o.salt);
    this.chunks = o.chunkAssembler ? new ChunkGatherer(o.chunkAssembler, hash, o.config.leaveMs, o.from?.chunks) : undefined;
    this.machine = new LaneStateMachine({
      lane: this.id,
      passHoldMs: o.config.passHoldMs,
      flagHoldMs: o.config.flagHoldMs,
      clock: o.clock,
      onChange: (s) => o.bus.emit("lane-status", s),
    });
    for (const c of o.cameraIds) this.cameraUp.set(c, false);
    // Until a camera delivers, the lane cannot see: fail safe from the first moment. Cameras that
    // are still opening their stream are not down yet (a boot must not read as a camera failure).
    const grace = Number.isFinite(o.startupGraceMs) ? clampTimerMs(o.startupGraceMs) : 0;
    if (this.cameraUp.size > 0 && grace > 0) {
      this.machine.setProblem("STARTING", true);
      this.startup = o.clock.setTimeout(() => this.endStartup(), grace, "lane.startup");
    } else this.machine.setProblem("CAMERAS_DOWN", true);
    if (o.seq.failure(this.id)) this.machine.setProblem("EVENTS_SEQ_ERROR", true);
  }

  /** Feeds one decode result. The returned promise settles when its verdicts (if any) are published; it never rejects. */
  onDecode(r: DecodeResult): Promise<void> {
    if (!this.machine.accepting) {
      this.tel.framesIgnored++;
      return Promise.resolve();
    }
    this.tel.framesDecoded++;
    if (r.error) {
      this.tel.readFailures++;
      this.tel.missedReads += this.presence.frame(r.receivedAt, new Set());
      return Promise.resolve();
    }
    const read = new Set<string>();
    const work: Promise<void>[] = [];
    const sighted = (key: string, text: string, firstSeen: number, card?: AssembledCard): void => {
      read.add(key);
      const s = this.presence.sight(key, r.receivedAt);
      if (s.kind !== "new") return;
      s.presentation.firstSeen = Math.min(firstSeen, s.presentation.firstSeen);
      this.tel.presentations++;
      work.push(this.decide(text, s.presentation, r, card));
    };
    const chunkTexts: string[] = [];
    for (const code of r.codes) {
      this.tel.codesRead++;
      // A chunk header that can never make a card (index past the count, too many chunks) is
      // verified on its own: a FLAG with its reason, not a code that never gets a verdict.
      if (this.chunks && isShcChunk(code.text) && shcChunkProblem(code.text) === undefined) chunkTexts.push(code.text);
      else sighted(shortHash(code.text, this.o.salt), code.text, r.receivedAt);
    }
    // All chunks of the frame at once: a card is made from chunks seen together where it can be.
    if (this.chunks && chunkTexts.length > 0) for (const c of this.chunks.frame(chunkTexts, r.receivedAt)) sighted(c.key, c.card.text, c.firstSeen, c.card);
    this.tel.missedReads += this.presence.frame(r.receivedAt, read);
    if (work.length === 0) return Promise.resolve();
    // Handled here, once: a derived promise (`p.finally(...)`) would re-reject on its own and reach
    // the process as an unhandled rejection even when the caller handles `p`.
    const p: Promise<void> = Promise.all(work)
      .then(
        () => undefined,
        (e: unknown) => this.decisionFailed(e),
      )
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
    return p;
  }

  /** A decision that failed outside the verifier and replay guard (e.g. sequence store, event build): counted, logged, never thrown. */
  private decisionFailed(e: unknown): void {
    this.tel.decisionErrors++;
    recordFault("callback", "lane.decide", e);
    this.o.logger.error({ code: "GW_LANE_DECISION_FAILED", err: e instanceof Error ? e.message : String(e) }, "a decision failed; no verdict was published for it");
  }

  private async decide(text: string, pres: Presentation, r: DecodeResult, card?: AssembledCard): Promise<void> {
    const cfg = this.o.config;
    let v: Verdict;
    try {
      v = await this.o.verify(text, { nowMs: this.o.clock.now(), lane: { id: cfg.id, area: cfg.area, accept: cfg.accept, rules: cfg.rules } });
    } catch (e) {
      this.o.logger.error({ err: (e as Error).message, payloadHash: pres.key }, "verifier threw");
      v = { verdict: "ERROR", reason: "INTERNAL_ERROR", format: "unknown" };
    }
    // Two cards' chunks in view can make a card neither traveller holds: not a presentation. Its
    // chunks go back to the assembler, which offers the other combinations (each traveller's own card).
    if (card?.ambiguous && v.verdict !== "PASS" && SPLICE_REASONS.has(v.reason)) {
      this.tel.splicedCards++;
      this.presence.forget(pres);
      this.chunks?.reject(card);
      return;
    }
    // A lane that left service while the verifier ran drops the verdict: it must not claim the
    // credential either, or the traveller's next presentation (here or, through Redis, anywhere
    // on the site) is a false REPLAYED.
    if (!this.machine.accepting) return this.drop(pres);
    let claimed: string | undefined;
    if (v.verdict === "PASS" && v.credentialHash) {
      try {
        const claim = await this.o.replay.claim(v.credentialHash, this.id);
        if (claim.degraded) this.tel.replayDegraded++;
        if (claim.replayed) {
          this.tel.replays++;
          v = asReplay(v);
        } else claimed = v.credentialHash;
      } catch (e) {
        // A guard that cannot answer must not turn a replay into a PASS.
        this.o.logger.error({ err: (e as Error).message }, "replay guard failed");
        v = { ...v, verdict: "ERROR", reason: "INTERNAL_ERROR" };
      }
    }
    // Left service during the claim: the claim is given back, as if never made.
    if (!this.machine.accepting) return this.drop(pres, claimed);
    let seq: number;
    try {
      seq = this.o.seq.next(this.id);
    } catch (e) {
      // An id that is not on disk could be handed out again after a restart and the event lost: fail safe.
      this.o.logger.error({ code: "GW_EVENTS_SEQ_FAILED", err: (e as Error).message, verdict: v.verdict, reason: v.reason, payloadHash: pres.key }, "verdict dropped: its event id cannot be persisted");
      this.machine.setProblem("EVENTS_SEQ_ERROR", true);
      return this.drop(pres, claimed);
    }
    pres.decided = true;
    const ev = buildVerdictEvent(v, {
      gatewayId: this.o.gatewayId,
      lane: this.id,
      cameraId: r.cameraId,
      seq,
      at: this.o.clock.now(),
      decidedMono: this.o.clock.monotonic(),
      frameReceivedAt: r.receivedAt,
      firstSeen: pres.firstSeen,
      payloadHash: pres.key,
    });
    this.tel.verdicts++;
    this.tel.byReason[ev.reason] = (this.tel.byReason[ev.reason] ?? 0) + 1;
    const framesTried = Math.max(1, pres.framesTried);
    this.tel.framesTriedTotal += framesTried;
    this.tel.recentFirstSeenMs.push(ev.firstSeenToVerdictMs);
    if (this.tel.recentFirstSeenMs.length > RECENT_MAX) this.tel.recentFirstSeenMs.shift();
    this.tel.last = { firstSeenToVerdictMs: ev.firstSeenToVerdictMs, frameToVerdictMs: ev.frameToVerdictMs, framesTried };
    this.o.logger.info({ id: ev.id, verdict: ev.verdict, reason: ev.reason, format: ev.format, payloadHash: ev.payloadHash, credentialHash: ev.credentialHash, frameToVerdictMs: ev.frameToVerdictMs }, "verdict");
    this.o.bus.emit("verdict", ev);
    this.machine.showVerdict(ev);
  }

  /**
   * A verdict not published: its presentation is forgotten (the code's next sighting is decided
   * afresh, not left waiting for a verdict that never comes) and a replay claim it made is given
   * back. A claim that cannot be given back (Redis down) stands: counted and logged, never a PASS.
   */
  private async drop(pres: Presentation, claimed?: string): Promise<void> {
    this.tel.verdictsDropped++;
    this.presence.forget(pres);
    if (claimed === undefined) return;
    try {
      await this.o.replay.release(claimed, this.id);
    } catch (e) {
      this.tel.replayReleaseFailures++;
      this.o.logger.warn({ err: (e as Error).message, payloadHash: pres.key }, "replay claim of a dropped verdict not given back: the credential stays claimed for the replay window");
    }
  }

  /** Its presentations and assembled cards, for the lane that replaces this one on a reload (after it settled). */
  carryOver(): LaneCarryOver {
    return { presence: this.presence, chunks: this.chunks };
  }

  /**
   * What is in view (read within leaveMs), for frame gating: "pending" while a presentation awaits
   * its verdict, "decided" while only decided ones remain, "none" otherwise.
   */
  codesInView(): "none" | "decided" | "pending" {
    if (this.presence.size === 0) return "none";
    return this.presence.anyUndecided() ? "pending" : "decided";
  }

  /** Ingest reports camera state: the lane is out of service when none of its cameras delivers. */
  setCameraUp(cameraId: string, up: boolean): void {
    if (!this.cameraUp.has(cameraId)) return;
    this.cameraUp.set(cameraId, up);
    if (this.startup) {
      if (up) this.endStartup();
      return;
    }
    this.machine.setProblem("CAMERAS_DOWN", !this.anyCameraUp());
  }

  private anyCameraUp(): boolean {
    return [...this.cameraUp.values()].some(Boolean);
  }

  /** Leaves STARTING (a camera is up, or the grace ran out) for the normal camera rule. */
  private endStartup(): void {
    if (!this.startup) return;
    this.o.clock.clearTimeout(this.startup);
    this.startup = undefined;
    // One change: the lane must not look in service between STARTING and CAMERAS_DOWN.
    this.machine.setProblems({ CAMERAS_DOWN: !this.anyCameraUp(), STARTING: false });
  }

  setProblem(problem: LaneProblem, on: boolean): void {
    this.machine.setProblem(problem, on);
  }

  hasProblem(problem: LaneProblem): boolean {
    return this.machine.hasProblem(problem);
  }

  setPaused(paused: boolean): void {
    this.machine.setPaused(paused);
  }

  status(): LaneStatus {
    return this.machine.status();
  }

  stats(): LaneTelemetry & { state: string; inView: number; cameras: Record<string, boolean> } {
    return { ...this.tel, byReason: { ...this.tel.byReason }, recentFirstSeenMs: [...this.tel.recentFirstSeenMs], state: this.machine.state, inView: this.presence.size, cameras: Object.fromEntries(this.cameraUp) };
  }

  /** Waits for decisions in flight (used by shutdown and tests). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  close(): void {
    if (this.startup) this.o.clock.clearTimeout(this.startup);
    this.startup = undefined;
    this.machine.close();
  }
}
