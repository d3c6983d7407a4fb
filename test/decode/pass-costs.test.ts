import { describe, expect, it } from "vitest";
import { PassCosts } from "../../src/decode/pass-costs.js";

describe("PassCosts", () => {
  it("limits how far one slow sample moves an estimate and decays it while the pass is skipped", () => {
    const c = new PassCosts();
    c.record("harder", 1e6, 10);
    c.record("harder", 1e6, 1000); // one pathological frame
    // mean 0.8*10 + 0.2*min(1000, 20) = 12, mean deviation 0.2*|20 - 10| = 2: 12 + 3*2
    expect(c.estimate("harder", 1e6)).toBeCloseTo(18, 5);
    for (let i = 0; i < 10; i++) c.skipped("harder");
    const after10 = c.estimate("harder", 1e6);
    expect(after10).toBeLessThan(9);
    for (let i = 0; i < 30; i++) c.skipped("harder");
    expect(c.estimate("harder", 1e6)).toBeLessThan(after10 / 3);
  });

  it("estimates a pass whose cost varies from frame to frame above its mean: the budget bounds the slow frames too", () => {
    const steady = new PassCosts(), varying = new PassCosts();
    for (let i = 0; i < 40; i++) {
      steady.record("denoise", 1e6, 10);
      varying.record("denoise", 1e6, i % 2 === 0 ? 6 : 14);
    }
    expect(steady.estimate("denoise", 1e6)).toBeCloseTo(10, 3);
    expect(varying.estimate("denoise", 1e6)).toBeGreaterThan(15);
    // Per unit of work: twice the pixels, twice the estimate (crops count their cropped pixels).
    expect(varying.estimate("denoise", 2e6)).toBeCloseTo(2 * varying.estimate("denoise", 1e6), 6);
  });
});
