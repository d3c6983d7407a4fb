/**
 * Issue #11.7: trust timers are clamped. setTimeout takes a signed 32-bit delay, so a maxAgeS above
 * ~24.8 days (or a long refresh interval) used to fire after 1 ms and re-arm for ever: a spin.
 * Real timers here (the overflow is Node's behaviour, a fake clock would not show it).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { systemClock, type Clock } from "../../src/core/clock.js";
import { createTrustStore, MAX_TIMER_MS } from "../../src/verify/trust/store.js";
import { captureLogs, makeKeyPair, passEntry, signedList, tempDir, trustConfig } from "./helpers.js";

const tmp = tempDir("timers");
afterAll(() => tmp.cleanup());

describe("trust timers", () => {
  it("a maxAgeS and refresh interval of 60 days arm timers within setTimeout's range, and nothing spins", async () => {
    const root = await makeKeyPair("root");
    const rootPath = join(tmp.dir, "root.jwk.json");
    const listPath = join(tmp.dir, "list.jws");
    writeFileSync(rootPath, JSON.stringify(root.pub));
    writeFileSync(listPath, await signedList(root.priv, 1, [(await passEntry("k")).entry]));
    const delays: number[] = [];
    const clock: Clock = { ...systemClock, setTimeout: (fn, ms) => (delays.push(ms), systemClock.setTimeout(fn, ms)) };
    const days60 = 60 * 86_400;
    const store = await createTrustStore({
      config: trustConfig({ lists: [{ source: listPath, rootKey: rootPath }], maxAgeS: days60, refreshIntervalS: days60 }),
      stateDir: tmp.dir,
      clock,
      logger: captureLogs().logger,
    });
    try {
      await store.start();
      expect(store.status().stale).toBe(false);
      await new Promise((r) => setTimeout(r, 300));
      expect(delays.length).toBeGreaterThanOrEqual(2); // refresh + staleness timers were armed
      expect(delays.length).toBeLessThan(10); // an overflowed timer re-arms every millisecond
      expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
      expect(Math.max(...delays)).toBeGreaterThan(20 * 86_400_000); // clamped, not shortened to nothing
    } finally {
      await store.stop();
    }
  });
});
