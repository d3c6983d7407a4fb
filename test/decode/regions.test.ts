import { describe, expect, it } from "vitest";
import type { Quad } from "../../src/decode/luma-read.js";
import type { Rect } from "../../src/decode/preprocess.js";
import { candidateRegions, cropPixels, cropScale, hintRegion, overlaps, trackedRegion } from "../../src/decode/regions.js";

const frame = { width: 1920, height: 1080, stride: 1920, data: new Uint8Array(0) };
const sq = (x: number, y: number, s: number): Quad => [[x, y], [x + s, y], [x + s, y + s], [x, y + s]];

describe("crop regions", () => {
  it("crops each located symbol once: a symbol located again (a pyramid layer, a later pass) is not a second region", () => {
    const taken: Rect[] = [];
    const first = candidateRegions([sq(400, 300, 200), sq(404, 302, 198), sq(1200, 500, 150)], frame, taken, 3);
    expect(first).toHaveLength(2);
    expect(taken).toHaveLength(2);
    // The same symbols in a later pass: nothing new to crop.
    expect(candidateRegions([sq(402, 301, 199)], frame, taken, 3)).toEqual([]);
  });

  it("stops at the room left and marks a region spanning half the frame as stretch-only", () => {
    expect(candidateRegions([sq(100, 100, 100), sq(600, 100, 100), sq(1100, 100, 100)], frame, [], 2)).toHaveLength(2);
    const [big] = candidateRegions([sq(500, 100, 500)], frame, [], 3);
    expect(big?.stretchOnly).toBe(true);
    const [small] = candidateRegions([sq(500, 100, 100)], frame, [], 3);
    expect(small?.stretchOnly).toBeUndefined();
  });

  it("counts a crop's cost in the pixels it reads: small regions at 2x, at most three regions", () => {
    expect(cropScale({ x: 0, y: 0, w: 200, h: 200 })).toBe(2);
    expect(cropScale({ x: 0, y: 0, w: 320, h: 100 })).toBe(1);
    const r = { x: 0, y: 0, w: 100, h: 100 };
    expect(cropPixels([r])).toBe(40_000);
    expect(cropPixels([r, r, r, r])).toBe(120_000);
  });

  it("gives the camera hint no minimum code size, and a tracked symbol's crop one that allows for its widest margin", () => {
    expect(hintRegion({ x: 0, y: 0, w: 300, h: 300 }).minSide).toBe(0);
    const t = trackedRegion({ x: 0, y: 0, w: 300, h: 200 });
    expect(t.minSide).toBeGreaterThan(0);
    expect(t.minSide).toBeLessThan(100);
  });

  it("tells whether two quads' boxes intersect", () => {
    expect(overlaps(sq(0, 0, 10), sq(5, 5, 10))).toBe(true);
    expect(overlaps(sq(0, 0, 10), sq(10, 0, 10))).toBe(false);
    expect(overlaps(sq(0, 0, 10), sq(0, 20, 10))).toBe(false);
  });
});
