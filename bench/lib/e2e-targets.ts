import { fmt } from "./stats.js";

/**
 * `bench:e2e`'s targets, for the camera counts present in the run: latency at 4 and 8 cameras, no
 * growing queue and few frames dropped while a code is in view at 8, and an idle camera's cost.
 */

/** `a` as a percentage of `b` (0 when `b` is 0). */
export const pct = (a: number, b: number): number => (100 * a) / Math.max(1, b);

/** The fields of a row the targets read. */
export interface TargetRow {
  cameras: number;
  firstToVerdict: { median: number; p99: number };
  queueEarlyMs: number;
  queueLateMs: number;
  dropped: { supersededInView: number; queuedInView: number };
}

/** The missed targets, each as a line naming the row, the value and the limit. */
export function e2eMisses(results: readonly TargetRow[], idle?: { gatewayCpu: number; ffmpegCpu: number }): string[] {
  const misses: string[] = [];
  const row = (n: number) => results.find((r) => r.cameras === n);
  const r8 = row(8), r4 = row(4);
  if (r8) {
    if (r8.firstToVerdict.p99 > 150) misses.push(`8 cameras: first->verdict p99 ${fmt(r8.firstToVerdict.p99)} > 150 ms`);
    if (r8.firstToVerdict.median > 60) misses.push(`8 cameras: p50 ${fmt(r8.firstToVerdict.median)} > 60 ms`);
    if (r8.queueLateMs > r8.queueEarlyMs + 20) misses.push(`8 cameras: queue grows (${fmt(r8.queueEarlyMs)} -> ${fmt(r8.queueLateMs)} ms)`);
    if (pct(r8.dropped.supersededInView, r8.dropped.queuedInView) >= 2) misses.push(`8 cameras: ${fmt(pct(r8.dropped.supersededInView, r8.dropped.queuedInView))}% dropped while a code is in view (>= 2%)`);
  }
  if (r4 && r4.firstToVerdict.p99 > 100) misses.push(`4 cameras: first->verdict p99 ${fmt(r4.firstToVerdict.p99)} > 100 ms`);
  if (idle && idle.gatewayCpu + idle.ffmpegCpu > 20) misses.push(`idle camera ${fmt(idle.gatewayCpu + idle.ffmpegCpu)}% > 20% of a core`);
  return misses;
}
