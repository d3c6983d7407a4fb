import { randomUUID } from "node:crypto";
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
  /**
   * Gives back a claim this gateway's `lane` made and then did not use (its verdict was dropped), so
   * the traveller's next presentation, here or at another lane, is a first use again. Removes only
   * that claim, never one another gateway or a later use made. Rejects when it cannot tell the
   * shared store (Redis down): the claim then stands, as if it had been used.
   */
  release(credentialHash: string, lane: string): Promise<void>;
  close(): Promise<void>;
}

/** A claim as held: the lane that made it, when its window ends (monotonic), and, for a claim this gateway made itself, its unique token. */
export interface HeldClaim {
  lane: string;
  until: number;
  token?: string;
}

/** A guard whose window a config reload can change (display.replayWindowS). */
export interface ResizableReplayGuard extends ReplayGuard {
  setWindowMs(windowMs: number): void;
}

/** In-process guard: shared by all lanes of this gateway. Bounded by expiring entries. */
export class LocalReplayGuard implements ResizableReplayGuard {
  private readonly claims = new Map<string, HeldClaim>();
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

  /** `token`: the claim's unique id (the shared store's, when it answers for one that timed out). */
  claimSync(credentialHash: string, lane: string, token: string = randomUUID()): ReplayClaim {
    if (this.windowMs <= 0) return { replayed: false };
    const now = this.clock.monotonic();
    this.sweep(now);
    const cur = this.claims.get(credentialHash);
    if (cur && cur.until > now) return { replayed: true, firstLane: cur.lane };
    this.claims.set(credentialHash, { lane, until: now + this.windowMs, token });
    return { replayed: false };
  }

  /**
   * Takes back the claim `lane` made itself on the credential, if it still holds it, and returns it
   * (for a shared store to release its copy, and to be restored if that fails). A claim learnt from
   * elsewhere, or another lane's, is left alone.
   */
  takeOwn(credentialHash: string, lane: string): HeldClaim | undefined {
    const cur = this.claims.get(credentialHash);
    if (!cur || cur.token === undefined || cur.lane !== lane || cur.until <= this.clock.monotonic()) return undefined;
    this.claims.delete(credentialHash);
    return cur;
  }

  /** Puts back a claim taken with takeOwn, unless another is held by now. */
  restore(credentialHash: string, claim: HeldClaim): void {
    const cur = this.claims.get(credentialHash);
    if (cur === undefined || cur.until <= this.clock.monotonic()) this.claims.set(credentialHash, claim);
  }

  release(credentialHash: string, lane: string): Promise<void> {
    this.takeOwn(credentialHash, lane);
    return Promise.resolve();
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
   * Records a claim made through the shared store (Redis), so a later Redis outage or a lost key
   * still remembers it; `token` is set when this gateway made the claim itself (so it can release
   * it). A claim held here and still in its window is kept (it is the older one); an expired one is
   * replaced, or the new use's window would end with the old one's.
   */
  remember(credentialHash: string, lane: string, token?: string): void {
    if (this.windowMs <= 0) return;
    const now = this.clock.monotonic();
    this.sweep(now);
    const cur = this.claims.get(credentialHash);
    if (cur === undefined || cur.until <= now) this.claims.set(credentialHash, { lane, until: now + this.windowMs, ...(token !== undefined ? { token } : {}) });
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
