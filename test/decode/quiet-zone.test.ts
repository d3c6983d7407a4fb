import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadReaderModule } from "../../src/decode/wasm-loader.js";
import { HeapImage } from "../../src/decode/luma-read.js";
import { runStrategy } from "../../src/decode/strategy.js";
import { PassCosts } from "../../src/decode/pass-costs.js";
import { eraseLongDarkRuns, MAX_RUN_MODULES, planRepair } from "../../src/decode/quiet-zone.js";
import { readGrayImage } from "../../src/decode/image-file.js";
import { qrFrame } from "./helpers.js";
import type { LumaFrame } from "../../src/core/types.js";

let img: HeapImage;
beforeAll(async () => {
  img = new HeapImage(await loadReaderModule());
});

const TEXT = "CPGW-QUIET-ZONE-0001";
const MODULE = 6;
const X0 = 120, Y0 = 90;

/**
 * A code whose right edge touches a dark bar (a phone case, a bezel): the bar starts right after
 * the last module column, so the top-right finder's outer ring merges with it.
 */
function codeAgainstBar(): { frame: LumaFrame } {
  const frame = qrFrame(TEXT, { width: 640, height: 480, module: MODULE, x0: X0, y0: Y0 });
  const n = moduleCount(frame);
  const right = X0 + n * MODULE;
  for (let y = 0; y < frame.height; y++) for (let x = right; x < right + 60; x++) frame.data[y * frame.stride + x] = 20;
  return { frame };
}

/** Modules per side of the code qrFrame drew (its dark box's width / module). */
function moduleCount(f: LumaFrame): number {
  let maxX = 0;
  for (let y = 0; y < f.height; y++) for (let x = 0; x < f.width; x++) if (f.data[y * f.stride + x]! < 128) maxX = Math.max(maxX, x);
  return Math.round((maxX + 1 - X0) / MODULE);
}

describe("quiet-zone repair", () => {
  it("reads a code whose finder merges with a dark bar beside it, which the other passes cannot", () => {
    const { frame } = codeAgainstBar();
    const without = runStrategy(img, { frame, passes: ["tone", "crop", "invert", "darken", "lighten", "denoise"], budgetMs: 10_000 }, new PassCosts());
    expect(without.codes).toEqual([]);
    const withRepair = runStrategy(img, { frame, passes: ["tone", "crop", "invert", "darken", "lighten", "denoise", "quietzone"], budgetMs: 10_000 }, new PassCosts());
    expect(withRepair.codes.map((c) => c.text)).toEqual([TEXT]);
    expect(withRepair.foundBy).toBe("quietzone");
  });

  it("paints only runs longer than the limit: the code's own modules and finders stay", () => {
    const clean = qrFrame(TEXT, { width: 640, height: 480, module: MODULE, x0: X0, y0: Y0 });
    const data = Uint8Array.from(clean.data);
    const plan = { region: { x: 0, y: 0, w: 640, h: 480 }, threshold: 128, light: 230, maxRun: MAX_RUN_MODULES * MODULE };
    expect(eraseLongDarkRuns(data, 640, 480, plan)).toBe(0);
    expect(data).toEqual(clean.data);
    const { frame } = codeAgainstBar();
    const n = moduleCount(clean);
    const barred = Uint8Array.from(frame.data);
    const painted = eraseLongDarkRuns(barred, 640, 480, plan);
    // The bar, plus the code's dark modules that touch it along a row (one run with the bar: at
    // most the top-right finder's 7-module rings); everything left of that finder stays as drawn,
    // and the code still reads (first test).
    expect(painted).toBeGreaterThanOrEqual(60 * 480);
    expect(painted).toBeLessThanOrEqual(60 * 480 + 7 * n * MODULE * MODULE);
    const keepLeftOf = X0 + (n - 7) * MODULE;
    let changed = 0;
    for (let y = 0; y < 480; y++) for (let x = 0; x < keepLeftOf; x++) if (barred[y * 640 + x] !== clean.data[y * 640 + x]) changed++;
    expect(changed).toBe(0);
  });

  it("plans nothing without contrast, and a plan's run limit follows the largest finder found", () => {
    const flat = { width: 64, height: 64, stride: 64, data: new Uint8Array(64 * 64).fill(120) };
    expect(planRepair(flat, [{ x: 20, y: 20, module: 2 }])).toBeUndefined();
    expect(planRepair(flat, [])).toBeUndefined();
    const { frame } = codeAgainstBar();
    const plan = planRepair(frame, [{ x: X0 + 3.5 * MODULE, y: Y0 + 3.5 * MODULE, module: MODULE }, { x: X0 + 3.5 * MODULE, y: Y0 + 20 * MODULE, module: MODULE - 2 }]);
    expect(plan?.maxRun).toBe(MAX_RUN_MODULES * MODULE);
    expect(plan!.threshold).toBeGreaterThan(20);
    expect(plan!.threshold).toBeLessThan(230);
  });

  it("does nothing on a frame without a code (no finder pair, nothing read)", () => {
    const frame = qrFrame(TEXT, { width: 640, height: 480, module: MODULE, x0: X0, y0: Y0 });
    frame.data.fill(200);
    for (let y = 100; y < 400; y++) for (let x = 300; x < 360; x++) frame.data[y * frame.stride + x] = 10;
    const out = runStrategy(img, { frame, passes: ["tone", "quietzone"], budgetMs: 10_000 }, new PassCosts());
    expect(out.codes).toEqual([]);
  });

  // The BoofCV "pathological" photos 001-004: codes with a dark bar across a margin. Read from
  // ../shared, never committed; skipped when absent.
  const dir = join(import.meta.dirname, "../../../shared/testdata/boofcv-dev/pathological");
  it.skipIf(!existsSync(dir))("reads the real photos of codes against a dark bar (boofcv pathological 001-004)", async () => {
    for (const name of ["image001.png", "image002.png", "image003.png", "image004.png"]) {
      const g = await readGrayImage(join(dir, name));
      const frame = { ...g, stride: g.width };
      const out = runStrategy(img, { frame, passes: ["tone", "crop", "invert", "darken", "lighten", "denoise", "quietzone"], budgetMs: 10_000 }, new PassCosts());
      expect(out.codes.map((c) => c.text), name).toEqual(["MAILTO:name@myemail.com"]);
    }
  });
});
