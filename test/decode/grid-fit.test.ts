import { existsSync } from "node:fs";
import { join } from "node:path";
import QRCode from "qrcode";
import { beforeAll, describe, expect, it } from "vitest";
import { loadReaderModule } from "../../src/decode/wasm-loader.js";
import { HeapImage, type LumaView } from "../../src/decode/luma-read.js";
import { runStrategy } from "../../src/decode/strategy.js";
import { PassCosts } from "../../src/decode/pass-costs.js";
import { gridFromCorners, gridPoint, type GridHypothesis } from "../../src/decode/grid.js";
import { sampleModules, thresholdModules } from "../../src/decode/module-sample.js";
import { drawSymbol } from "../../src/decode/symbol-draw.js";
import { fitBend, fixedModules } from "../../src/decode/grid-fit.js";
import { BEND_TERMS, bendModule } from "../../src/decode/bend.js";
import { baseQrOptions, encodeReaderOptions } from "../../src/decode/reader-options.js";
import type { DecodePassName } from "../../src/decode/options.js";
import { readGrayImage } from "../../src/decode/image-file.js";

let img: HeapImage;
beforeAll(async () => {
  img = new HeapImage(await loadReaderModule());
});

const TEXT = "CPGW-BENT-LABEL-0001-ON-A-CAN";
const CAMERA: DecodePassName[] = ["tone", "crop", "invert", "regrid", "darken", "lighten", "denoise"];
const symbol = QRCode.create(TEXT, { errorCorrectionLevel: "L", version: 4 }).modules;
const N = symbol.size;
const M = 6, X0 = 160, Y0 = 100, W = 640, H = 480, S = N * M;

/**
 * A label on a can seen from a little above: every module row bowed down by `bow` modules at the
 * symbol's middle column and not at its sides (one homography cannot follow it), through a lens
 * that blurs a little (a 3x3 box).
 */
function bowed(bow: number): LumaView {
  const sharp = new Uint8Array(W * H).fill(200);
  for (let y = 0; y < H; y++)
    for (let x = X0; x < X0 + S; x++) {
      const s = (x - X0) / S;
      const v = Math.floor((y - Y0 - bow * M * (1 - (2 * s - 1) ** 2)) / M), u = Math.floor((x - X0) / M);
      if (v >= 0 && v < N && symbol.get(v, u)) sharp[y * W + x] = 40;
    }
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let sum = 0, n = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const X = x + dx, Y = y + dy;
          if (X < 0 || Y < 0 || X >= W || Y >= H) continue;
          sum += sharp[Y * W + X]!;
          n++;
        }
      data[y * W + x] = Math.round(sum / n);
    }
  return { width: W, height: H, stride: W, data };
}

/** Modules sampled on grid `h` (thresholded against their neighbourhood) that differ from the symbol drawn. */
function moduleErrors(frame: LumaView, h: GridHypothesis): number {
  const bits = thresholdModules(sampleModules(frame, h)!, h.dim);
  let e = 0;
  for (let v = 0; v < N; v++) for (let u = 0; u < N; u++) if ((symbol.get(v, u) ? 1 : 0) !== bits[v * N + u]) e++;
  return e;
}

/** The grid zxing located for the bowed symbol (it reads the format and fails Reed-Solomon). */
function locatedGrid(frame: LumaView, dim = N): GridHypothesis {
  img.load(frame);
  const out = img.read(encodeReaderOptions({ ...baseQrOptions, tryHarder: true, returnErrors: true }));
  expect(out.codes).toEqual([]);
  const g = out.grids?.[0];
  expect(g?.dim).toBe(dim);
  return gridFromCorners(g!.corners, g!.dim);
}

function readGrid(frame: LumaView, h: GridHypothesis): string[] {
  const d = drawSymbol(thresholdModules(sampleModules(frame, h)!, h.dim), h.dim, 4, 4);
  img.reserve(d.width, d.height).set(d.data);
  return img.read(encodeReaderOptions({ ...baseQrOptions, isPure: true })).codes.map((c) => c.text);
}

describe("bent grids (grid-fit.ts)", () => {
  it("a zero bend moves no module; a bend on s² moves the sides of the symbol and not its middle column", () => {
    const zero = new Float64Array(BEND_TERMS);
    expect(bendModule(zero, 33, 7.25, 20.5)).toEqual([7.25, 20.5]);
    const bow = new Float64Array(BEND_TERMS);
    bow[7] = -0.1; // v += dim * -0.1 * s²: zero in the middle column, -0.825 modules at the sides
    expect(bendModule(bow, 33, 16.5, 10)[1]).toBeCloseTo(10, 9);
    expect(bendModule(bow, 33, 0, 10)[1]).toBeCloseTo(10 - 0.825, 9);
  });

  it("knows the modules every symbol has: finders, separators, timing", () => {
    const k = fixedModules(25);
    expect(k[0]).toBe(1); // finder corner, dark
    expect(k[1 * 25 + 1]).toBe(-1); // finder's light ring
    expect(k[3 * 25 + 3]).toBe(1); // finder core
    expect(k[7 * 25 + 3]).toBe(-1); // separator
    expect(k[6 * 25 + 8]).toBe(1); // timing, even
    expect(k[6 * 25 + 9]).toBe(-1); // timing, odd
    expect(k[12 * 25 + 12]).toBe(0); // data
    expect(k[3 * 25 + (25 - 4)]).toBe(1); // top-right finder core
  });

  it("fits a bowed label's grid: most of the modules the straight grid gets wrong come right, and the bent grid follows the bow", () => {
    const frame = bowed(1);
    const flat = locatedGrid(frame);
    const bent = fitBend(frame, flat);
    expect(bent.bend).toBeDefined();
    const before = moduleErrors(frame, flat), after = moduleErrors(frame, bent);
    expect(before).toBeGreaterThan(15);
    expect(after).toBeLessThan(before / 2);
    expect(readGrid(frame, bent)).toEqual([TEXT]);
    // The straight grid puts the middle of the symbol's top row above the label's (bowed down):
    // the fitted grid lowers it, and leaves the corners near where they were.
    const drop = gridPoint(bent, N / 2, 0.5)[1] - gridPoint(flat, N / 2, 0.5)[1];
    expect(drop).toBeGreaterThan(0.2 * M);
  });

  it("leaves a flat symbol's grid (nearly) as it is", () => {
    const frame = bowed(0);
    img.load(frame);
    const g = img.read(encodeReaderOptions({ ...baseQrOptions, tryHarder: true })).codes[0];
    expect(g?.text).toBe(TEXT);
    const flat = gridFromCorners(g!.corners, N);
    const fitted = fitBend(frame, flat);
    expect(moduleErrors(frame, fitted)).toBe(0);
    for (const [u, v] of [[3.5, 3.5], [N - 3.5, 3.5], [N / 2, N / 2], [3.5, N - 3.5]] as const) {
      const a = gridPoint(fitted, u, v), b = gridPoint(flat, u, v);
      expect(Math.hypot(a[0] - b[0], a[1] - b[1])).toBeLessThan(0.35 * M);
    }
  });

  it("a symbol reaching past the frame's edge is fitted without throwing, and an affine grid is left as it is", () => {
    const frame = bowed(1);
    const inside = locatedGrid(frame);
    // The same symbol with its left third cut off by the frame: samples outside count as mid-gray.
    const cut: LumaView = { width: W - X0 - S / 3, height: H, stride: W, data: frame.data.subarray(X0 + S / 3) };
    const shifted = gridFromCorners(
      [0, 1, 2, 3].map((k) => {
        const [x, y] = gridPoint(inside, [0, N, N, 0][k]!, [0, 0, N, N][k]!);
        return [x - X0 - S / 3, y];
      }) as [[number, number], [number, number], [number, number], [number, number]],
      N,
    );
    const fitted = fitBend(cut, shifted);
    expect(fitted.dim).toBe(N);
    // Such a grid is not sampled (the strategy skips it) ...
    expect(sampleModules(cut, fitted)).toBeUndefined();
    // ... and the camera cascade on the cut frame returns, with no code made up from the half symbol.
    const out = runStrategy(img, { frame: cut, passes: CAMERA, budgetMs: 10_000 }, new PassCosts());
    expect(out.codes).toEqual([]);
    const affine: GridHypothesis = { tl: inside.tl, tr: inside.tr, bl: inside.bl, dim: N };
    expect(fitBend(frame, affine)).toBe(affine);
  });

  // A real photo (#9): a label on a bottle, bent and glared, that no zxing pass reads and the fit
  // does. Read from ../shared when present, never committed.
  const photo = ["../../../shared", "../../../../shared"].map((d) => join(import.meta.dirname, d, "testdata/boofcv-dev/glare/image024.jpg")).find((p) => existsSync(p)) ?? "";
  it.skipIf(photo === "")("BoofCV glare/image024 at 1080p: the straight grid fails, the bent one reads the text the published engines read; so does the camera cascade", async () => {
    const g = await readGrayImage(photo, { width: 1920, height: 1080 });
    const frame: LumaView = { ...g, stride: g.width };
    const flat = locatedGrid(frame, 29); // version 3
    expect(readGrid(frame, flat)).toEqual([]);
    const TRUTH = "http://cokeurl.com/q/2017-00776"; // Dynamsoft and OpenCV-WeChat agree (engines/)
    expect(readGrid(frame, fitBend(frame, flat))).toEqual([TRUTH]);
    const out = runStrategy(img, { frame, passes: CAMERA, budgetMs: 10_000 }, new PassCosts());
    expect(out.codes.map((c) => c.text)).toEqual([TRUTH]);
    // The darkened crop (passes.ts) reads this label too, before regrid; without it, the fit does.
    const noCrop = CAMERA.filter((p) => p !== "crop");
    const fitted = runStrategy(img, { frame, passes: noCrop, budgetMs: 10_000 }, new PassCosts());
    expect(fitted.codes.map((c) => c.text)).toEqual([TRUTH]);
    expect(fitted.foundBy).toBe("regrid");
    const without = runStrategy(img, { frame, passes: noCrop.filter((p) => p !== "regrid"), budgetMs: 10_000 }, new PassCosts());
    expect(without.codes).toEqual([]);
  });
});
