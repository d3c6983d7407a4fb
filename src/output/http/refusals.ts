/** One count of a tally: what was refused (a listener or a lane), why, and how often since start. */
export interface RefusalCount<R extends string = string> {
  key: string;
  reason: R;
  count: number;
}

/** Why the read-only or the admin listener refused a request (what the guard decided, never what was sent). */
export type AuthRefusalReason = "bad-host" | "no-token" | "bad-token" | "bad-origin" | "login-failed";

/** Why a lane display stream was refused or cut off (the codes the stream limits and the SSE writer use). */
export type DisplayRefusalReason = "LANE_STREAMS_FULL" | "CLIENT_STREAMS_FULL" | "SLOW_CLIENT";

/**
 * Refusals since start by key and reason, for /metrics. Both keys are ours, never a header value or
 * a client address: the listeners are fixed, lanes are the configured ones (an unknown lane is
 * refused before it is counted) and reasons a closed set, so the table stays bounded under a flood.
 */
export class RefusalTally<R extends string> {
  private readonly counts = new Map<string, Map<R, number>>();

  add(key: string, reason: R): void {
    let byReason = this.counts.get(key);
    if (!byReason) this.counts.set(key, (byReason = new Map()));
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }

  list(): Array<RefusalCount<R>> {
    return [...this.counts].flatMap(([key, byReason]) => [...byReason].map(([reason, count]) => ({ key, reason, count })));
  }
}
