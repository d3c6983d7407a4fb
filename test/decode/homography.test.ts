import { describe, expect, it } from "vitest";
import { apply, invert, multiply, quadToQuad, squareToQuad } from "../../src/decode/homography.js";
import type { Point } from "../../src/core/types.js";

const close = (a: Point, b: Point) => {
  expect(a[0]).toBeCloseTo(b[0], 6);
  expect(a[1]).toBeCloseTo(b[1], 6);
};

describe("homography", () => {
  it("maps the unit square's corners onto a perspective quad", () => {
    const q: [Point, Point, Point, Point] = [[10, 20], [110, 30], [100, 140], [5, 120]];
    const m = squareToQuad(q);
    close(apply(m, 0, 0), q[0]);
    close(apply(m, 1, 0), q[1]);
    close(apply(m, 1, 1), q[2]);
    close(apply(m, 0, 1), q[3]);
  });

  it("is affine for a parallelogram (midpoints map to midpoints)", () => {
    const m = squareToQuad([[0, 0], [10, 2], [12, 12], [2, 10]]);
    close(apply(m, 0.5, 0.5), [6, 6]);
    expect(m[2]).toBe(0);
    expect(m[5]).toBe(0);
  });

  it("maps any four points onto any four, and its adjugate maps them back", () => {
    const src: [Point, Point, Point, Point] = [[3.5, 3.5], [21.5, 3.5], [18.5, 18.5], [3.5, 21.5]];
    const dst: [Point, Point, Point, Point] = [[200, 100], [420, 130], [380, 330], [190, 310]];
    const m = quadToQuad(src, dst);
    for (let k = 0; k < 4; k++) close(apply(m, ...src[k]!), dst[k]!);
    const back = invert(m);
    // m then its adjugate is the identity up to scale.
    close(apply(multiply(m, back), 7, 9), [7, 9]);
    for (let k = 0; k < 4; k++) close(apply(back, ...dst[k]!), src[k]!);
  });
});
