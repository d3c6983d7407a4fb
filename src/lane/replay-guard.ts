import type { Clock } from "../core/clock.js";

/**
 * Replay guard: the first accepted use of a credential claims it for `windowMs`; another
 * presentation of the same credential (at any lane, or again at this one) inside the window is
 * a replay. Keys are the verifier's salted `credentialHash`, never the credential id.
 */
export interface ReplayClaim {
  replayed: boolean;
  /** Lane that holds the claim (the first use), when known. */
  firstLane?: string;
  /** True when the shared store was unreachable and the local fallback answered. */
  degraded?: boolean;
}

export interface ReplayGuard {
  claim(credentialHash: string, lane: string): Promise<ReplayClaim>;
  close(): Promise<void>;
}

/** A guard whose window a config reload can change (display.replayWindowS). */
export interface ResizableReplayGuard extends ReplayGuard {
  setWindowMs(windowMs: number): void;
}

/** In-process guard: shared by all lanes of this gateway. Bounded by expiring entries. */
export class LocalReplayGuard implements ResizableReplayGuard {
  private readonly claims = new Map<string, { lane: string; until: number }>();
  private lastSweep = 0;

  constructor(
    private readonly clock: Clock,
    private windowMs: number,
  ) {}

  /**
   * A new window for every claim held too, counted from its first use: a reload that lengthens
   * the window (or turns it on) must not let a credential claimed a moment ago pass again. Claims
   * already over when it changes stay over, whatever the new window; a window of 0 holds none.
   */
  setWindowMs(windowMs: number): void {
    const now = this.clock.monotonic();
    const by = windowMs - this.windowMs;
    for (const [k, v] of this.claims) {
      if (v.until <= now || v.until + by <= now) this.claims.delete(k);
      else v.until += by;
    }
    this.windowMs = windowMs;
  }

  claimSync(credentialHash: string, lane: string): ReplayClaim {
    if (this.windowMs <= 0) return { replayed: false };
    const now = this.clock.monotonic();
    this.sweep(now);
    const cur = this.claims.get(credentialHash);
    if (cur && cur.until > now) return { replayed: true, firstLane: cur.lane };
    this.claims.set(credentialHash, { lane, until: now + this.windowMs });
    return { replayed: false };
  }

  /** The lane holding a claim on the credential within the window, if this gateway made or learnt one; claims nothing. */
  holder(credentialHash: string): string | undefined {
    if (this.windowMs <= 0) return undefined;
    const now = this.clock.monotonic();
    this.sweep(now);
    const cur = this.claims.get(credentialHash);
    return cur && cur.until > now ? cur.lane : undefined;
  }

  /**
   * Records a claim made elsewhere (the shared store), so a later Redis outage or a lost key still
   * remembers it. A claim held here and still in its window is kept (it is the older one); an
   * expired one is replaced, or the new use's window would end with the old one's.
   */
  remember(credentialHash: string, lane: string): void {
    if (this.windowMs <= 0) return;
    const now = this.clock.monotonic();
    this.sweep(now);
    const cur = this.claims.get(credentialHash);
    if (cur === undefined || cur.until <= now) this.claims.set(credentialHash, { lane, until: now + this.windowMs });
  }

  claim(credentialHash: string, lane: string): Promise<ReplayClaim> {
    return Promise.resolve(this.claimSync(credentialHash, lane));
  }

  get size(): number {
    return this.claims.size;
  }

  close(): Promise<void> {
    this.claims.clear();
    return Promise.resolve();
  }

  private sweep(now: number): void {
    // Amortised: at most one full scan per tenth of a window.
    if (now - this.lastSweep < this.windowMs / 10) return;
    this.lastSweep = now;
    for (const [k, v] of this.claims) if (v.until <= now) this.claims.delete(k);
  }
}
