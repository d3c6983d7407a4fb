import { FakeClock } from "../../src/core/clock.js";
import { GatewayBus } from "../../src/core/bus.js";
import { silentLogger, type Logger } from "../../src/core/logger.js";
import type { DecodeResult, LaneStatus, Verdict, VerdictEvent } from "../../src/core/types.js";
import { laneSchema } from "../../src/lane/options.js";
import { Lane, type VerifyFn } from "../../src/lane/lane.js";
import { LocalReplayGuard, type ReplayGuard } from "../../src/lane/replay-guard.js";
import { MemorySeqStore, type SeqStore } from "../../src/lane/seq-store.js";
import type { ChunkAssemblerPort } from "../../src/lane/chunks.js";

/** The rig's lane start-up grace (twice ingest's default startupGraceMs, as the wiring derives it). */
export const STARTUP_GRACE_MS = 20_000;

/** A verifier fake: the QR text names the verdict, e.g. "VALID:alice", "EXPIRED:bob". */
export const fakeVerify: VerifyFn = (text) => {
  const [kind, id] = text.split(":");
  const v: Verdict =
    kind === "VALID"
      ? { verdict: "PASS", reason: "OK", format: "pass", credentialHash: `cred-${id}` }
      : { verdict: "FLAG", reason: kind ?? "PREFIX_UNKNOWN", format: "pass", credentialHash: `cred-${id}` };
  return v;
};

export function result(cameraId: string, seq: number, receivedAt: number, texts: string[], error?: DecodeResult["error"]): DecodeResult {
  return {
    cameraId,
    seq,
    receivedAt,
    codes: texts.map((text) => ({ text, bytes: new TextEncoder().encode(text), format: "QRCode" as const, corners: [[0, 0], [1, 0], [1, 1], [0, 1]] })),
    timings: { queueMs: 0, decodeMs: 1, passes: ["fast"] },
    ...(error ? { error } : {}),
  };
}

export interface Rig {
  clock: FakeClock;
  bus: GatewayBus;
  verdicts: VerdictEvent[];
  statuses: LaneStatus[];
  replay: ReplayGuard;
  lanes: Map<string, Lane>;
  /** Cameras are reported up at once unless `camerasUp` is false (the lane then starts in STARTING for `startupGraceMs`). */
  lane(id: string, cameras: string[], over?: Record<string, unknown>, opts?: { verify?: VerifyFn; chunkAssembler?: ChunkAssemblerPort; startupGraceMs?: number; camerasUp?: boolean }): Lane;
}

/** `seq`, `logger`, `gatewayId`: for lanes on a real (file) sequence store whose log lines a test reads; `replay`: a guard made on the rig's clock. */
export function rig(replayWindowMs = 600_000, o: { seq?: SeqStore; logger?: Logger; gatewayId?: string; replay?: (clock: FakeClock) => ReplayGuard } = {}): Rig {
  const clock = new FakeClock();
  const bus = new GatewayBus((e) => {
    throw e;
  });
  const verdicts: VerdictEvent[] = [];
  const statuses: LaneStatus[] = [];
  bus.on("verdict", (v) => verdicts.push(v));
  bus.on("lane-status", (s) => statuses.push(s));
  const replay = o.replay ? o.replay(clock) : new LocalReplayGuard(clock, replayWindowMs);
  const seq = o.seq ?? new MemorySeqStore();
  const lanes = new Map<string, Lane>();
  return {
    clock,
    bus,
    verdicts,
    statuses,
    replay,
    lanes,
    lane(id, cameras, over = {}, opts = {}) {
      const lane = new Lane({
        config: laneSchema.parse({ id, leaveMs: 1000, passHoldMs: 3000, flagHoldMs: 5000, ...over }),
        gatewayId: o.gatewayId ?? "gw-t",
        cameraIds: cameras,
        verify: opts.verify ?? fakeVerify,
        replay,
        bus,
        clock,
        logger: o.logger ?? silentLogger,
        salt: "test-salt-0123456789",
        seq,
        startupGraceMs: opts.startupGraceMs ?? STARTUP_GRACE_MS,
        ...(opts.chunkAssembler ? { chunkAssembler: opts.chunkAssembler } : {}),
      });
      if (opts.camerasUp !== false) for (const c of cameras) lane.setCameraUp(c, true);
      lanes.set(id, lane);
      return lane;
    },
  };
}
