import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { WakeableSleep, withTimeout } from "../../src/output/events/timers.js";

const settle = () => new Promise((r) => setImmediate(r));

describe("withTimeout", () => {
  it("rejects with the command's name once the time is up, not a millisecond earlier", async () => {
    const clock = new FakeClock();
    let outcome: string | undefined;
    withTimeout(clock, new Promise<never>(() => undefined), 500).then(
      () => (outcome = "resolved"),
      (e: Error) => (outcome = e.message),
    );
    clock.advance(499);
    await settle();
    expect(outcome).toBeUndefined();
    clock.advance(1);
    await settle();
    expect(outcome).toBe("redis command timed out after 500 ms");
  });

  it("passes a value or an error through and clears its timer", async () => {
    const clock = new FakeClock();
    await expect(withTimeout(clock, Promise.resolve(7), 500)).resolves.toBe(7);
    await expect(withTimeout(clock, Promise.reject(new Error("WRONGTYPE")), 500)).rejects.toThrow("WRONGTYPE");
    // A non-Error rejection becomes an Error (callers read .message).
    await expect(withTimeout(clock, Promise.reject("boom" as unknown as Error), 500)).rejects.toThrow("boom");
    expect(clock.pendingCount).toBe(0);
  });
});

describe("WakeableSleep", () => {
  it("ends after the pause on the injected clock", async () => {
    const clock = new FakeClock();
    const s = new WakeableSleep(clock);
    let done = false;
    void s.sleep(1000).then(() => (done = true));
    clock.advance(999);
    await settle();
    expect(done).toBe(false);
    clock.advance(1);
    await settle();
    expect(done).toBe(true);
  });

  it("wake ends the pause at once and leaves no timer behind", async () => {
    const clock = new FakeClock();
    const s = new WakeableSleep(clock);
    let done = false;
    void s.sleep(5000).then(() => (done = true));
    s.wake();
    await settle();
    expect(done).toBe(true);
    expect(clock.pendingCount).toBe(0);
    // Nothing sleeps now: a wake is a no-op.
    expect(() => s.wake()).not.toThrow();
  });
});
