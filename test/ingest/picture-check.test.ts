import { describe, expect, it } from "vitest";
import { PICTURE_GAP_MS, PictureCheck } from "../../src/ingest/picture-check.js";

const W = 192, H = 108;
const frame = (fill: (x: number, y: number) => number) => {
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = fill(x, y);
  return { width: W, height: H, stride: W, data };
};
const scene = frame((x, y) => (x * 3 + y * 5) & 0xff);

describe("picture check", () => {
  it("the same picture for afterMs is FROZEN; one changed frame starts the run again", () => {
    const pc = new PictureCheck({ afterMs: 1000, blankStd: 4 });
    for (let t = 0; t <= 900; t += 100) pc.observe(scene, t);
    expect(pc.problem(900)).toBeUndefined();
    pc.observe(scene, 1100);
    expect(pc.problem(1100)).toBe("FROZEN");
    // A traveller steps in: the picture changes, and the run is over.
    pc.observe(frame((x, y) => (x * 3 + y * 5 + (x > 50 && x < 90 ? 60 : 0)) & 0xff), 1200);
    expect(pc.problem(1200)).toBeUndefined();
  });

  it("a still scene with sensor noise is never frozen", () => {
    const pc = new PictureCheck({ afterMs: 1000, blankStd: 4 });
    let s = 7;
    for (let t = 0; t <= 5000; t += 66) {
      const f = frame((x, y) => {
        s = (s * 1103515245 + 12345) & 0x7fffffff;
        return Math.max(0, Math.min(255, ((x * 3 + y * 5) & 0xff) + ((s >> 16) % 3) - 1));
      });
      pc.observe(f, t);
    }
    expect(pc.problem(5000)).toBeUndefined();
  });

  it("a picture without structure (a cap on the lens, noise only) is BLANK, which outranks FROZEN", () => {
    const pc = new PictureCheck({ afterMs: 1000, blankStd: 4 });
    const black = frame(() => 3);
    for (let t = 0; t <= 1000; t += 100) pc.observe(black, t);
    expect(pc.problem(1000)).toBe("BLANK");
    // A dim but real scene (std well above noise) is not blank.
    const dim = new PictureCheck({ afterMs: 1000, blankStd: 4 });
    for (let t = 0; t <= 1000; t += 100) dim.observe(frame((x) => (x % 32 < 16 ? 10 : 40)), t);
    expect(dim.problem(1000)).toBe("FROZEN");
  });

  it("no frames for longer than the gap (a stall, a standby main stream): nothing to judge, and the runs start again", () => {
    const pc = new PictureCheck({ afterMs: 1000, blankStd: 4 });
    for (let t = 0; t <= 1200; t += 100) pc.observe(scene, t);
    expect(pc.problem(1200)).toBe("FROZEN");
    expect(pc.problem(1200 + PICTURE_GAP_MS + 1)).toBeUndefined();
    const back = 1200 + PICTURE_GAP_MS + 500;
    pc.observe(scene, back);
    pc.observe(scene, back + 100);
    expect(pc.problem(back + 100)).toBeUndefined();
  });

  it("reads frames with a stride wider than the width, and odd sizes, without reading past the buffer", () => {
    const pc = new PictureCheck({ afterMs: 0, blankStd: 4 });
    const data = new Uint8Array(40 * 7).fill(9);
    pc.observe({ width: 33, height: 7, stride: 40, data }, 0);
    pc.observe({ width: 1, height: 1, stride: 1, data: new Uint8Array(1) }, 10);
    expect(pc.problem(10)).toBe("BLANK");
  });
});
