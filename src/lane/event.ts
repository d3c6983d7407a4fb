import type { Verdict, VerdictEvent } from "../core/types.js";

export interface EventContext {
  gatewayId: string;
  lane: string;
  cameraId: string;
  seq: number;
  /** Epoch ms of the decision. */
  at: number;
  /** Monotonic ms of the decision, of the frame that completed the read, and of the first sighting. */
  decidedMono: number;
  frameReceivedAt: number;
  firstSeen: number;
  payloadHash: string;
}

/** Pure: the one place a VerdictEvent is shaped, so every output sees the same fields. */
export function buildVerdictEvent(v: Verdict, c: EventContext): VerdictEvent {
  return {
    ...v,
    id: `${c.gatewayId}:${c.lane}:${c.seq}`,
    gatewayId: c.gatewayId,
    lane: c.lane,
    cameraId: c.cameraId,
    seq: c.seq,
    at: c.at,
    frameToVerdictMs: round(c.decidedMono - c.frameReceivedAt),
    firstSeenToVerdictMs: round(c.decidedMono - c.firstSeen),
    payloadHash: c.payloadHash,
  };
}

/** A replayed credential: same verdict facts, but FLAG with reason REPLAYED. */
export function asReplay(v: Verdict): Verdict {
  return { ...v, verdict: "FLAG", reason: "REPLAYED" };
}

function round(ms: number): number {
  return Math.max(0, Math.round(ms * 100) / 100);
}
