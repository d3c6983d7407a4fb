/**
 * Load-aware escalation. Escalation passes cost 2-4x the cheap pass and, on the common empty
 * frame, find nothing. When other cameras' frames are already waiting for a worker, spending them
 * on one camera's empty frame delays a frame that may hold a code. So under backlog a camera gets
 * the full budget at most once per `intervalMs`; its other frames get the cheap pass only (crops
 * around located symbols and the camera's last code still run: they are budget-exempt and small).
 * A code held up to a camera stays in view for many frames, so it still meets an escalated frame.
 */
export class EscalationGovernor {
  private readonly lastFull = new Map<string, number>();

  constructor(private readonly intervalMs: number) {}

  budgetFor(cameraId: string, fullBudgetMs: number, nowMs: number, backlog: boolean): number {
    const last = this.lastFull.get(cameraId);
    if (backlog && this.intervalMs > 0 && last !== undefined && nowMs - last < this.intervalMs) return 0;
    this.lastFull.set(cameraId, nowMs);
    return fullBudgetMs;
  }
}
