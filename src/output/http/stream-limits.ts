export interface StreamLimitOptions {
  perLane: () => number;
  perClient: () => number;
}

export type Admission = { ok: true; release: () => void } | { ok: false; code: "LANE_STREAMS_FULL" | "CLIENT_STREAMS_FULL" };

/**
 * Bounds open display streams per lane and per client address, so one client (or a flood of
 * them from one address) cannot take the streams a real kiosk needs. Only configured lanes reach
 * here, so the maps are bounded by the lanes and by the clients that hold a stream right now:
 * an entry is deleted with its last stream.
 */
export class StreamLimits {
  private readonly byLane = new Map<string, number>();
  private readonly byClient = new Map<string, number>();

  constructor(private readonly o: StreamLimitOptions) {}

  admit(lane: string, client: string): Admission {
    if ((this.byClient.get(client) ?? 0) >= this.o.perClient()) return { ok: false, code: "CLIENT_STREAMS_FULL" };
    if ((this.byLane.get(lane) ?? 0) >= this.o.perLane()) return { ok: false, code: "LANE_STREAMS_FULL" };
    bump(this.byLane, lane, 1);
    bump(this.byClient, client, 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        bump(this.byLane, lane, -1);
        bump(this.byClient, client, -1);
      },
    };
  }

  /** Keys held (lanes, client addresses): what a flood could make grow. */
  size(): { lanes: number; clients: number } {
    return { lanes: this.byLane.size, clients: this.byClient.size };
  }
}

function bump(m: Map<string, number>, k: string, d: number): void {
  const n = (m.get(k) ?? 0) + d;
  if (n <= 0) m.delete(k);
  else m.set(k, n);
}
