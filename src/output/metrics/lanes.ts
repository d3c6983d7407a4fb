import type { LaneState } from "../../core/types.js";
import type { LaneCounters } from "./types.js";
import { flag, type SeriesKit } from "./series.js";

/** Every state is emitted (1 for the current one, 0 for the rest), so `== 0` alerts work. The record keeps the list complete. */
const LANE_STATES = Object.keys({ idle: 1, pass: 1, flag: 1, "out-of-service": 1, paused: 1 } satisfies Record<LaneState, 1>);

/** Per-lane series: state and problems, displays, the lane's counters, and the safety state kept outside the lanes. */
export function registerLaneSeries({ series, read }: SeriesKit): void {
  const lanes = () => read("lanes") ?? [];
  series("lanes", "gauge", "lane_state", "1 for the lane's current state, 0 for every other state.", ["lane", "state"], () =>
    lanes().flatMap((l) => LANE_STATES.map((state) => ({ labels: { lane: l.lane, state }, value: l.state === state ? 1 : 0 }))),
  );
  series("lanes", "gauge", "lane_in_service", "1 when the lane accepts travellers (idle, pass or flag).", ["lane"], () =>
    lanes().map((l) => ({ labels: { lane: l.lane }, value: l.state === "idle" || l.state === "pass" || l.state === "flag" ? 1 : 0 })),
  );
  series("lanes", "gauge", "lane_problem", "1 for each problem that keeps a lane out of service (CAMERAS_DOWN, DECODE_DOWN, INGEST_ERROR, TRUST_STALE, ...).", ["lane", "problem"], () =>
    lanes().flatMap((l) => l.problems.map((problem) => ({ labels: { lane: l.lane, problem }, value: 1 }))),
  );
  series("displays", "gauge", "lane_displays", "Lane displays connected (SSE streams).", ["lane"], () => {
    const d = read("displays");
    if (!d) return [];
    // Every configured lane, so a lane with no screen shows 0 rather than nothing.
    const ids = new Set([...lanes().map((l) => l.lane), ...Object.keys(d)]);
    return [...ids].map((lane) => ({ labels: { lane }, value: d[lane] ?? 0 }));
  });
  const laneCounter = (name: string, help: string, pick: (k: LaneCounters) => number | undefined) =>
    series("laneCounters", "counter", name, help, ["lane"], () => Object.entries(read("laneCounters") ?? {}).map(([lane, k]) => ({ labels: { lane }, value: pick(k) })));
  laneCounter("lane_frames_decoded_total", "Decode results received for the lane's cameras.", (k) => k.framesDecoded);
  laneCounter("lane_codes_read_total", "Codes read at the lane (one per code per frame).", (k) => k.codesRead);
  laneCounter("lane_missed_reads_total", "Frames in which a code in view was not read.", (k) => k.missedReads);
  laneCounter("lane_read_failures_total", "Frames the decoder could not process (deadline, crash, bad frame).", (k) => k.readFailures);
  laneCounter("lane_presentations_total", "Presentations (a code shown) at the lane.", (k) => k.presentations);
  laneCounter("lane_replay_degraded_total", "Replay checks answered locally because the shared guard (Redis) was down.", (k) => k.replayDegraded);
  laneCounter("lane_verdicts_dropped_total", "Verdicts dropped because the lane left service while deciding.", (k) => k.verdictsDropped);
  laneCounter("lane_decision_errors_total", "Decisions that failed outside verification (sequence store, event build): a code was read and no verdict was published.", (k) => k.decisionErrors);

  // Lane safety state kept outside the lanes: the shared replay guard, the paused-lane state file.
  series("replayGuardDegraded", "gauge", "replay_guard_degraded", "1 while the shared (Redis) replay guard is down or slow and replays are checked on this gateway only (absent without Redis).", [], () => flag(read("replayGuardDegraded")));
  series("pauses", "gauge", "lane_pause_state_unknown", "1 while the lane is closed only because the paused-lane state file could not be read at start (no officer has paused or resumed it since), 0 for the other lanes.", ["lane"], () => {
    const ps = read("pauses");
    if (!ps) return [];
    const held = new Set(ps.unknownLanes ?? []);
    return [...new Set([...lanes().map((l) => l.lane), ...held])].map((lane) => ({ labels: { lane }, value: held.has(lane) ? 1 : 0 }));
  });
  series("pauses", "counter", "lane_pause_store_errors_total", "Paused-lane state file errors by op: load (unreadable at start, every lane started paused), save (a restart would reopen the lanes paused since).", ["op"], () => {
    const ps = read("pauses");
    return ps ? [{ labels: { op: "load" }, value: ps.loadErrors }, { labels: { op: "save" }, value: ps.saveErrors }] : [];
  });
}
