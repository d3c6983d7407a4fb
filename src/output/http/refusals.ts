/** One count of a tally: what was refused (a listener or a lane), why, and how often since start. */
export interface RefusalCount<R extends string = string> {
  key: string;
  reason: R;
  count: number;
}

/** Why the read-only or the admin listener refused a request (what the guard decided, never what was sent). */
export type AuthRefusalReason = "bad-host" | "no-token" | "bad-token" | "bad-origin" | "login-failed";
export const AUTH_REFUSAL_REASONS: readonly AuthRefusalReason[] = ["bad-host", "no-token", "bad-token", "bad-origin", "login-failed"];
/** The admin listener checks the bearer token only. */
export const ADMIN_REFUSAL_REASONS: readonly AuthRefusalReason[] = ["no-token", "bad-token"];

/** Why a lane display stream was refused or cut off (the codes the stream limits and the SSE writer use). */
export type DisplayRefusalReason = "LANE_STREAMS_FULL" | "CLIENT_STREAMS_FULL" | "SLOW_CLIENT";

/**
 * Refusals since start by key and reason, for /metrics. Both keys are ours, never a header value or
 * a client address: the listeners are fixed, lanes are the configured ones (an unknown lane is
 * refused before it is counted) and reasons a closed set, so the table stays bounded under a flood.
 */
export class RefusalTally<R extends string> {
  private readonly counts = new Map<string, Map<R, number>>();

  /**
   * Lists each pair at 0 before its first refusal: a counter series born at its first value is
   * invisible to increase(), so a first burst would never alert.
   */
  seed(key: string, reasons: readonly R[]): void {
    let byReason = this.counts.get(key);
    if (!byReason) this.counts.set(key, (byReason = new Map()));
    for (const r of reasons) if (!byReason.has(r)) byReason.set(r, 0);
  }

  add(key: string, reason: R): void {
    let byReason = this.counts.get(key);
    if (!byReason) this.counts.set(key, (byReason = new Map()));
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }

  list(): Array<RefusalCount<R>> {
    return [...this.counts].flatMap(([key, byReason]) => [...byReason].map(([reason, count]) => ({ key, reason, count })));
  }
}

/** Log lines per kind of refusal and minute; the rest are counted and named in the next line. */
export const REFUSAL_LOG_LINES_PER_MINUTE = 10;
const WINDOW_MS = 60_000;

/**
 * Keeps a flood of refusals (a token guesser, a rebinding page) from burying the log: each kind is
 * logged at most REFUSAL_LOG_LINES_PER_MINUTE times a minute, and the first line after a gap says
 * how many were left out. /metrics still counts every one (RefusalTally). Kinds are a closed set.
 */
export class RefusalLog {
  private readonly windows = new Map<string, { start: number; logged: number; skipped: number }>();

  constructor(
    private readonly now: () => number,
    private readonly perMinute = REFUSAL_LOG_LINES_PER_MINUTE,
  ) {}

  /** undefined: leave this one out of the log; else log it, with how many were left out before it. */
  take(kind: string): number | undefined {
    const t = this.now();
    let w = this.windows.get(kind);
    if (!w || t - w.start >= WINDOW_MS || t < w.start) this.windows.set(kind, (w = { start: t, logged: 0, skipped: w?.skipped ?? 0 }));
    if (w.logged >= this.perMinute) {
      w.skipped++;
      return undefined;
    }
    w.logged++;
    const skipped = w.skipped;
    w.skipped = 0;
    return skipped;
  }
}

/** The fields a refusal log line adds when some were left out before it. */
export const skippedField = (skipped: number): { suppressed?: number } => (skipped > 0 ? { suppressed: skipped } : {});
