import type { Clip } from "./e2e-clips.js";
import { quantile, summarize, type Summary } from "./stats.js";

/**
 * `bench:e2e`'s unit of measure, a showing: one stretch of clip frames in which a code is in view
 * of one camera, from the first received frame that showed it to its verdict. Pure: frames and
 * events go in, latencies and their percentiles come out.
 */

export interface Showing {
  camera: string;
  kind: Clip["kind"];
  /** Which showing of its clip (for a photo clip, which photo). */
  show: number;
  firstAt: number;
  verdictAt?: number;
  /** The verdict's own frame -> verdict (the read frame's wait for a worker, its decode, verification). */
  frameToVerdictMs?: number;
  /** The first decode of this showing that read a code: its wait, its decode, when it finished. */
  readDecode?: { queueMs: number; decodeMs: number; doneAt: number };
}

export type Dist = Summary & { p90: number };
export const dist = (xs: number[]): Dist => ({ ...summarize(xs), p90: quantile([...xs].sort((a, b) => a - b), 0.9) });

/** Which showing each camera has in view, from the frame clock of the frames it delivers. */
export class ShowingTracker {
  /** The showings that began while measuring, in order. */
  readonly showings: Showing[] = [];
  private readonly current = new Map<string, { show: number; s: Showing }>();

  constructor(private readonly clipOf: ReadonlyMap<string, Pick<Clip, "kind" | "shows">>) {}

  /** A frame of `camera` carrying clip frame `index` (undefined: no readable frame clock; it changes nothing). */
  frame(camera: string, index: number | undefined, receivedAt: number, measuring: boolean): void {
    const clip = this.clipOf.get(camera);
    if (index === undefined || !clip) return;
    const show = clip.shows.findIndex(([a, b]) => index >= a && index < b);
    const cur = this.current.get(camera);
    if (show < 0) {
      this.current.delete(camera);
      return;
    }
    if (cur && cur.show === show) return;
    const s: Showing = { camera, kind: clip.kind, show, firstAt: receivedAt };
    this.current.set(camera, { show, s });
    if (measuring) this.showings.push(s);
  }

  /** The showing in view of `camera` now, if any. */
  inView(camera: string): Showing | undefined {
    return this.current.get(camera)?.s;
  }
}

/** First appearance -> verdict (ms) of the showings that got a verdict. */
export const firstToVerdict = (xs: readonly Showing[]): number[] => xs.filter((s) => s.verdictAt !== undefined).map((s) => s.verdictAt! - s.firstAt);

/** Percentiles and read counts of a row's showings, overall and per clip kind. */
export function showingStats(done: readonly Showing[]) {
  const kinds = [...new Set(done.map((s) => s.kind))];
  return {
    kinds,
    firstToVerdict: dist(firstToVerdict(done)),
    firstToVerdictByKind: Object.fromEntries(kinds.map((k) => [k, dist(firstToVerdict(done.filter((s) => s.kind === k)))])),
    // Where the photo tail comes from: first appearance -> verdict (ms, null = not read) per photo shown.
    photoLatencyByShow: Object.fromEntries(
      [...new Set(done.filter((s) => s.kind === "photos").map((s) => s.show))].sort((a, b) => a - b).map((k) => [k, done.filter((s) => s.kind === "photos" && s.show === k).map((s) => (s.verdictAt === undefined ? null : Math.round(s.verdictAt - s.firstAt)))]),
    ) as Record<string, Array<number | null>>,
    // The slowest showings: first appearance -> verdict against the read frame's own frame -> verdict
    // (a large gap: the earlier frames were not read; a large frame -> verdict: the read frame waited).
    slowest: done
      .filter((s) => s.verdictAt !== undefined)
      .sort((a, b) => b.verdictAt! - b.firstAt - (a.verdictAt! - a.firstAt))
      .slice(0, 12)
      .map((s) => ({
        camera: s.camera, kind: s.kind as string, show: s.show, firstToVerdictMs: Math.round(s.verdictAt! - s.firstAt), frameToVerdictMs: s.frameToVerdictMs,
        ...(s.readDecode ? { readQueueMs: s.readDecode.queueMs, readDecodeMs: s.readDecode.decodeMs, decodedToVerdictMs: Math.round(s.verdictAt! - s.readDecode.doneAt) } : {}),
      })),
    showings: done.length,
    read: firstToVerdict(done).length,
    readByKind: Object.fromEntries(kinds.map((k) => [k, { showings: done.filter((s) => s.kind === k).length, read: firstToVerdict(done.filter((s) => s.kind === k)).length }])),
  };
}

/**
 * Median decode-slot wait in the first and the last third of a window of `wallMs` from `startAt`
 * (equal: no queue grows over the window).
 */
export function slotWaitEarlyLate(queue: ReadonlyArray<{ at: number; ms: number }>, startAt: number, wallMs: number): { early: number; late: number } {
  const third = wallMs / 3;
  const early = queue.filter((q) => q.at < startAt + third).map((q) => q.ms);
  const late = queue.filter((q) => q.at >= startAt + 2 * third).map((q) => q.ms);
  return { early: summarize(early).median, late: summarize(late).median };
}
