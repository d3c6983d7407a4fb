import { describe, expect, it } from "vitest";
import { procTicks, ticksCpuPct, ticksMs, usageCpuPct, usageMs } from "../../bench/lib/cpu.js";

describe("bench CPU arithmetic", () => {
  it("turns clock ticks (100 a second) into % of one core over a wall window", () => {
    // 50 ticks = 0.5 s of CPU in 1 s of wall time: half a core.
    expect(ticksCpuPct(50, 1000)).toBeCloseTo(50);
    // 300 ticks = 3 s of CPU in 2 s: one and a half cores.
    expect(ticksCpuPct(300, 2000)).toBeCloseTo(150);
    expect(ticksMs(7)).toBe(70);
  });

  it("turns a process.cpuUsage() delta (microseconds) into ms and % of one core", () => {
    const usage = { user: 150_000, system: 50_000 };
    expect(usageMs(usage)).toBe(200);
    // 200 ms of CPU in 800 ms of wall time.
    expect(usageCpuPct(usage, 800)).toBeCloseTo(25);
  });

  it("reads a process's ticks, and 0 for one that is gone", () => {
    expect(procTicks(2 ** 22 + 12345)).toBe(0);
    if (process.platform === "linux") {
      // Burn some CPU so this process has at least one tick on the clock.
      const end = performance.now() + 50;
      while (performance.now() < end);
      expect(procTicks(process.pid)).toBeGreaterThan(0);
    }
  });
});
