export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Relative jitter, e.g. 0.2 gives +/-20 %. */
  jitter: number;
}

/**
 * Delay before restart attempt `attempt` (0-based): initial * 2^attempt, capped, with jitter.
 * `random` is injected (0 <= r < 1) so tests are deterministic. Never below 10 ms: no busy loop.
 */
export function backoffDelay(attempt: number, p: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(p.maxMs, p.initialMs * 2 ** Math.min(attempt, 30));
  const j = 1 + p.jitter * (2 * random() - 1);
  return Math.max(10, Math.round(base * j));
}
