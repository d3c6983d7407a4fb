/** Per-lane read telemetry, exported by /metrics and `stats()`. Counters only grow. */
export interface LaneTelemetry {
  /** Decode results received for this lane's cameras. */
  framesDecoded: number;
  /** Frames ignored because the lane was paused or out of service. */
  framesIgnored: number;
  /** Frames the decoder could not process (deadline, worker crash, bad frame). */
  readFailures: number;
  /** Frames in which a code in view (of a live presentation) was not read. */
  missedReads: number;
  /** Codes read (one per code per frame). */
  codesRead: number;
  presentations: number;
  verdicts: number;
  byReason: Record<string, number>;
  replays: number;
  /** Replay checks answered by the local guard because the shared one (Redis) was down. */
  replayDegraded: number;
  /** Verdicts dropped because the lane left service while the decision was being made. */
  verdictsDropped: number;
  /** Decisions that failed outside verification (sequence store, event build): no verdict was published. */
  decisionErrors: number;
  /** Replay claims of dropped verdicts that could not be given back (Redis down): those credentials stay claimed. */
  replayReleaseFailures: number;
  /** Chunked cards put together from two cards' chunks (their signature failed while another card's chunks were in view): no verdict. */
  splicedCards: number;
  /** Sum of frames tried from first sighting to verdict, over all verdicts (mean = /verdicts). */
  framesTriedTotal: number;
  last?: { firstSeenToVerdictMs: number; frameToVerdictMs: number; framesTried: number };
  /** The most recent first-sighting-to-verdict times (ms), oldest first, at most RECENT_MAX. */
  recentFirstSeenMs: number[];
}

export const RECENT_MAX = 200;

/** p50/p99 of the recent first-sighting-to-verdict times, for the dashboard. */
export function recentQuantiles(t: Pick<LaneTelemetry, "recentFirstSeenMs">): { p50: number; p99: number } | undefined {
  const s = [...t.recentFirstSeenMs].sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { p50: q(0.5), p99: q(0.99) };
}

export function newTelemetry(): LaneTelemetry {
  return {
    framesDecoded: 0,
    framesIgnored: 0,
    readFailures: 0,
    missedReads: 0,
    codesRead: 0,
    presentations: 0,
    verdicts: 0,
    byReason: {},
    replays: 0,
    replayDegraded: 0,
    verdictsDropped: 0,
    decisionErrors: 0,
    replayReleaseFailures: 0,
    splicedCards: 0,
    framesTriedTotal: 0,
    recentFirstSeenMs: [],
  };
}
