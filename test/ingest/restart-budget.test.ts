import { describe, expect, it } from "vitest";
import { RestartBudget, type RestartPolicy } from "../../src/ingest/restart-budget.js";

const policy: RestartPolicy = { restartBudget: 3, restartWindowMs: 60_000, failedRetryMs: 20_000, backoffInitialMs: 500, backoffMaxMs: 4000, backoffJitter: 0.2 };
/** random() = 0.5: no jitter. */
const budget = (over: Partial<RestartPolicy> = {}, random = () => 0.5) => new RestartBudget({ ...policy, ...over }, random);

describe("RestartBudget", () => {
  it("backs off exponentially up to the cap; uncounted exits never fail the camera", () => {
    const b = budget();
    const plans = Array.from({ length: 8 }, (_, i) => b.next(false, i * 1000));
    expect(plans.map((p) => p.delayMs)).toEqual([500, 1000, 2000, 4000, 4000, 4000, 4000, 4000]);
    expect(plans.map((p) => p.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(plans.every((p) => p.state === "backoff" && !p.newlyFailed && p.restartsInWindow === 0)).toBe(true);
    expect(b.failed).toBe(false);
  });

  it("applies the injected jitter within the configured fraction", () => {
    expect(budget({}, () => 0).next(false, 0).delayMs).toBe(400);
    expect(budget({}, () => 0.999).next(false, 0).delayMs).toBe(600);
  });

  it("fails the camera once the counted exits in the window exceed the budget, and says so once", () => {
    const b = budget();
    const plans = [0, 1000, 2000, 3000, 4000].map((t) => b.next(true, t));
    expect(plans.map((p) => p.state)).toEqual(["backoff", "backoff", "backoff", "failed", "failed"]);
    expect(plans.map((p) => p.newlyFailed)).toEqual([false, false, false, true, false]);
    expect(plans.map((p) => p.restartsInWindow)).toEqual([1, 2, 3, 4, 5]);
    expect(plans[3]!.delayMs).toBe(20_000);
    expect(b.failed).toBe(true);
    // A failed camera is retried slowly whatever the next exit is.
    expect(b.next(false, 5000)).toMatchObject({ state: "failed", delayMs: 20_000, newlyFailed: false });
  });

  it("counts only exits within the window", () => {
    const b = budget({ restartBudget: 1, restartWindowMs: 1000 });
    expect(b.next(true, 0).state).toBe("backoff");
    expect(b.next(true, 1500)).toMatchObject({ state: "backoff", restartsInWindow: 1 });
    expect(b.next(true, 1600)).toMatchObject({ state: "failed", newlyFailed: true, restartsInWindow: 2 });
    expect(b.restartsInWindow(2600)).toBe(0);
  });

  it("a good frame ends the failed state and starts the backoff over", () => {
    const b = budget({ restartBudget: 0 });
    b.next(false, 0);
    b.next(false, 0);
    expect(b.next(true, 0).state).toBe("failed");
    expect(b.recovered()).toBe(true);
    expect(b.recovered()).toBe(false);
    expect(b.failed).toBe(false);
    expect(b.next(false, 1).delayMs).toBe(500);
  });

  it("resetBackoff() starts the backoff over but keeps a failed camera failed", () => {
    const b = budget({ restartBudget: 0 });
    b.next(false, 0);
    b.next(false, 0);
    b.resetBackoff();
    expect(b.next(false, 0)).toMatchObject({ delayMs: 500, attempt: 1 });
    b.next(true, 0);
    b.resetBackoff();
    expect(b.failed).toBe(true);
    expect(b.next(false, 0).state).toBe("failed");
  });
});
