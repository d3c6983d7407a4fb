import { describe, expect, it } from "vitest";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_PREFILTER, pairedFinders, Prefilter } from "../../src/decode/prefilter.js";
import { generateFrames } from "../../scripts/gen-frames.js";
import { fitPhoto } from "../../scripts/clip-gen.js";
import { readGrayImage } from "../../src/decode/image-file.js";
import { blankFrame, qrFrame, xorshift } from "./helpers.js";

/** The real photos (never committed): tests on them are skipped when the folder is absent. */
const PHOTOS = ["../shared/testdata/boofcv-dev", "../../shared/testdata/boofcv-dev"].map((p) => resolve(p)).find((p) => existsSync(p));

/** Seeded xorshift noise of +/- amp around `base`. */
function noisy(width: number, height: number, base: number, amp: number, seed = 7): Uint8Array {
  const d = new Uint8Array(width * height);
  const next = xorshift(seed);
  for (let i = 0; i < d.length; i++) d[i] = Math.max(0, Math.min(255, base + ((next() % (2 * amp + 1)) - amp)));
  return d;
}

describe("Prefilter", () => {
  it("finds the finder patterns of a code, in frame coordinates, and pairs them", () => {
    // Module 4 px at (100, 80): the top-left finder's centre is 3.5 modules in.
    const f = qrFrame("PREFILTER-FINDS-ME", { width: 640, height: 480, module: 4, x0: 100, y0: 80 });
    const hits = new Prefilter().find(f);
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(hits.some((h) => Math.abs(h.x - 114) <= 4 && Math.abs(h.y - 94) <= 4)).toBe(true);
    for (const h of hits) {
      expect(h.module).toBeGreaterThan(2.5);
      expect(h.module).toBeLessThan(6);
    }
    expect(pairedFinders(hits)).toBe(true);
  });

  it("with openOuter, finds a finder whose outer ring merges with a dark bar above it; without, not", () => {
    // A bar directly on top of the code: the top finders' vertical runs go on into the bar.
    const f = qrFrame("PREFILTER-OPEN-OUTER", { width: 480, height: 360, module: 6, x0: 120, y0: 90 });
    for (let y = 40; y < 90; y++) f.data.fill(20, y * f.stride, (y + 1) * f.stride);
    const opts = { ...DEFAULT_PREFILTER, maxHits: 12, diagonal: false };
    const topLeft = (hits: { x: number; y: number }[]) => hits.some((h) => Math.abs(h.x - (120 + 21)) <= 6 && Math.abs(h.y - (90 + 21)) <= 12);
    expect(topLeft(new Prefilter(opts).find(f))).toBe(false);
    expect(topLeft(new Prefilter({ ...opts, openOuter: true }).find(f))).toBe(true);
  });

  it("finds a small code in a noisy 1080p frame and a strided one", () => {
    const f = qrFrame("SMALL", { width: 1920, height: 1080, module: 3, x0: 1500, y0: 700, stride: 1984 });
    const noise = noisy(1984, 1080, 0, 5);
    for (let i = 0; i < f.data.length; i++) f.data[i] = Math.max(0, Math.min(255, f.data[i]! + noise[i]! - 0));
    expect(new Prefilter().find(f).length).toBeGreaterThan(0);
  });

  it("says no for flat, noisy and striped frames without a code", () => {
    const p = new Prefilter();
    expect(p.find(blankFrame("c", 1, 1920, 1080))).toEqual([]);
    expect(p.find({ ...blankFrame("c", 1, 1920, 1080), data: noisy(1920, 1080, 128, 10) })).toEqual([]);
    // Vertical stripes 1:1:3:1:1 along a row, but nothing like it down the column.
    const stripes = new Uint8Array(1920 * 1080);
    const pattern = [0, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1].map((b) => (b ? 230 : 20));
    for (let y = 0; y < 1080; y++) for (let x = 0; x < 1920; x++) stripes[y * 1920 + x] = pattern[Math.floor(x / 8) % pattern.length]!;
    expect(p.find({ ...blankFrame("c", 1, 1920, 1080), data: stripes })).toEqual([]);
  });

  it("the same hits wherever the frame's bytes start and whatever its stride", () => {
    // Stride 644, width 642: the downscaled row has an odd length (321); width 640 has not.
    const f = qrFrame("WORDS-AND-BYTES", { width: 642, height: 480, stride: 644, module: 3, x0: 211, y0: 97 });
    const noise = noisy(644, 480, 128, 90, 11);
    const wide = new Prefilter({ ...DEFAULT_PREFILTER, maxHits: 50 });
    for (const frame of [f, { ...f, data: noise }, { ...f, width: 640 }]) {
      // The same pixels one byte into a larger buffer.
      const shifted = new Uint8Array(frame.data.length + 1).subarray(1);
      shifted.set(frame.data);
      expect(wide.find({ ...frame, data: shifted })).toEqual(wide.find(frame));
    }
    expect(new Prefilter().find(f).length).toBeGreaterThanOrEqual(2);
    expect(wide.find({ ...f, data: noise }).length).toBeGreaterThan(0);
  });

  it("stops scanning once the caller has enough", () => {
    const f = qrFrame("EARLY-EXIT", { width: 640, height: 480, module: 4, x0: 100, y0: 80 });
    const p = new Prefilter();
    expect(p.find(f).length).toBeGreaterThanOrEqual(3);
    expect(p.find(f, () => true)).toHaveLength(1);
    expect(p.find(f, pairedFinders)).toHaveLength(2);
  });

  it("pairs only finder patterns of similar size at a plausible distance", () => {
    expect(pairedFinders([{ x: 0, y: 0, module: 4 }, { x: 100, y: 0, module: 4 }])).toBe(true);
    expect(pairedFinders([{ x: 0, y: 0, module: 4 }, { x: 10, y: 0, module: 4 }])).toBe(false); // overlapping
    expect(pairedFinders([{ x: 0, y: 0, module: 2 }, { x: 100, y: 0, module: 9 }])).toBe(false); // sizes differ
    expect(pairedFinders([{ x: 0, y: 0, module: 4 }])).toBe(false);
    expect(DEFAULT_PREFILTER.maxHits).toBeGreaterThanOrEqual(2);
  });

  it("passes every generated 1080p fixture with a code, and not the flat scenes without one", async () => {
    const m = await generateFrames({ sizes: [[1920, 1080]], variants: 1 });
    const p = new Prefilter();
    const found = async (file: string) => {
      const g = await readGrayImage(join(m.dir, file));
      return p.find({ ...g, stride: g.width }).length;
    };
    const withCode = m.frames.filter((e) => e.group !== "no-code");
    expect(withCode.length).toBeGreaterThan(10);
    const missed: string[] = [];
    for (const e of withCode) if ((await found(e.file)) === 0) missed.push(e.file);
    expect(missed).toEqual([]);
    // Noise and textures do raise a "maybe" (the idle gate tries such a still shape once); flat scenes never.
    for (const e of m.frames.filter((e) => e.category === "empty-flat")) expect(await found(e.file)).toBe(0);
  }, 300_000);

  it.skipIf(!PHOTOS)("passes every real photo of the nominal category, fit into 1080p", async () => {
    const dir = join(PHOTOS!, "nominal");
    const p = new Prefilter();
    const missed: string[] = [];
    for (const f of readdirSync(dir).filter((f) => /\.(jpg|png)$/i.test(f))) {
      const g = await fitPhoto(join(dir, f), 1920, 1080);
      if (p.find({ ...g, stride: g.width }).length === 0) missed.push(f);
    }
    expect(missed).toEqual([]);
  }, 300_000);
});
