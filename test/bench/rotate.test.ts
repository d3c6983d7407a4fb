import { describe, expect, it } from "vitest";
import { QUARTER_TURNS, rotateGray, unrotatePoint } from "../../bench/lib/rotate.js";

// A 3x2 image with distinct values: every pixel can be followed through a turn.
const img = { width: 3, height: 2, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
const at = (g: { width: number; data: Uint8Array }, x: number, y: number) => g.data[y * g.width + x];

describe("quarter turns", () => {
  it("turns clockwise: the top-left pixel goes top-right at 90 degrees", () => {
    const r = rotateGray(img, 90);
    expect([r.width, r.height]).toEqual([2, 3]);
    expect(Array.from(r.data)).toEqual([4, 1, 5, 2, 6, 3]);
  });

  it("turns by 180 and 270 degrees", () => {
    expect(Array.from(rotateGray(img, 180).data)).toEqual([6, 5, 4, 3, 2, 1]);
    const r = rotateGray(img, 270);
    expect([r.width, r.height]).toEqual([2, 3]);
    expect(Array.from(r.data)).toEqual([3, 6, 2, 5, 1, 4]);
  });

  it("maps every pixel of the turned image back to the one it came from", () => {
    for (const deg of QUARTER_TURNS) {
      const r = rotateGray(img, deg);
      for (let y = 0; y < r.height; y++)
        for (let x = 0; x < r.width; x++) {
          const [ox, oy] = unrotatePoint(deg, img.width, img.height, [x, y]);
          expect(at(img, ox, oy), `${deg} degrees at ${x},${y}`).toBe(at(r, x, y));
        }
    }
  });
});
