import fc from "fast-check";
import QRCode from "qrcode";
import { beforeAll, describe, expect, it } from "vitest";
import { loadReaderModule } from "../../src/decode/wasm-loader.js";
import { HeapImage } from "../../src/decode/luma-read.js";
import { runStrategy } from "../../src/decode/strategy.js";
import { PassCosts } from "../../src/decode/pass-costs.js";
import { refineCentre, regridCandidates } from "../../src/decode/regrid.js";
import { dimsFor, gridHypotheses } from "../../src/decode/grid-hypotheses.js";
import { gridPoint } from "../../src/decode/grid.js";
import { findAlignment, thresholdModules } from "../../src/decode/module-sample.js";
import { drawSymbol, structureScore } from "../../src/decode/symbol-draw.js";
import { apply, invert, quadToQuad } from "../../src/decode/homography.js";
import type { LumaFrame } from "../../src/core/types.js";
import { qrFrame, xorshift } from "./helpers.js";

let img: HeapImage;
beforeAll(async () => {
  img = new HeapImage(await loadReaderModule());
});

const TEXT = "CPGW-REGRID-0001";
const MODULE = 7;
const X0 = 150, Y0 = 110;
const CAMERA = ["tone", "crop", "invert", "darken", "lighten", "denoise"] as const;

function size(text: string): number {
  return QRCode.create(text, { errorCorrectionLevel: "M" }).modules.size;
}

function paintModule(f: LumaFrame, mx: number, my: number, v: number): void {
  for (let y = 0; y < MODULE; y++) for (let x = 0; x < MODULE; x++) f.data[(Y0 + my * MODULE + y) * f.stride + X0 + mx * MODULE + x] = v;
}

/**
 * The BoofCV "pathological" kind: every finder's outer ring broken at its corners and in the
 * ring's sides next to them (light modules where the ring should be dark), so no finder passes
 * zxing's concentric checks, while the core and the runs across the centre survive.
 */
function brokenFinders(text = TEXT): LumaFrame {
  const f = qrFrame(text, { width: 640, height: 480, module: MODULE, x0: X0, y0: Y0 });
  const n = size(text);
  for (const [fx, fy] of [[0, 0], [n - 7, 0], [0, n - 7]] as const) {
    for (const [x, y] of [[0, 0], [6, 0], [0, 6], [6, 6], [1, 0], [0, 1], [5, 6], [6, 5]] as const) paintModule(f, fx + x, fy + y, 230);
  }
  return f;
}

describe("regrid: codes whose finder patterns zxing cannot confirm", () => {
  it("reads a code with broken finder rings that every other camera pass misses, corners on the symbol", () => {
    const frame = brokenFinders();
    expect(runStrategy(img, { frame, passes: [...CAMERA], budgetMs: 10_000 }, new PassCosts()).codes).toEqual([]);
    const out = runStrategy(img, { frame, passes: [...CAMERA, "regrid"], budgetMs: 10_000 }, new PassCosts());
    expect(out.codes.map((c) => c.text)).toEqual([TEXT]);
    expect(out.foundBy).toBe("regrid");
    const n = size(TEXT);
    const xs = out.codes[0]!.corners.map((p) => p[0]), ys = out.codes[0]!.corners.map((p) => p[1]);
    expect(Math.min(...xs)).toBeCloseTo(X0, -1);
    expect(Math.max(...xs)).toBeCloseTo(X0 + n * MODULE, -1);
    expect(Math.min(...ys)).toBeCloseTo(Y0, -1);
    expect(Math.max(...ys)).toBeCloseTo(Y0 + n * MODULE, -1);
  });

  it("finds the third finder's place from two (one finder broken beyond the scan) and reads the code", () => {
    const frame = qrFrame(TEXT, { width: 640, height: 480, module: MODULE, x0: X0, y0: Y0 });
    const n = size(TEXT);
    // The bottom-left finder loses its whole outer ring: only its 3x3 core is left.
    for (let i = 0; i < 7; i++) for (const [x, y] of [[i, 0], [i, 6], [0, i], [6, i]] as const) paintModule(frame, x, n - 7 + y, 230);
    expect(runStrategy(img, { frame, passes: [...CAMERA], budgetMs: 10_000 }, new PassCosts()).codes).toEqual([]);
    const out = runStrategy(img, { frame, passes: ["tone", "regrid"], budgetMs: 10_000 }, new PassCosts());
    expect(out.codes.map((c) => c.text)).toEqual([TEXT]);
  });

  it("reads a code printed against a dark bar along its top edge (no quiet zone there)", () => {
    const frame = qrFrame(TEXT, { width: 640, height: 480, module: MODULE, x0: X0, y0: Y0 });
    for (let y = Y0 - 50; y < Y0; y++) frame.data.fill(20, y * frame.stride + 60, y * frame.stride + 580);
    expect(runStrategy(img, { frame, passes: [...CAMERA], budgetMs: 10_000 }, new PassCosts()).codes).toEqual([]);
    const out = runStrategy(img, { frame, passes: [...CAMERA, "regrid"], budgetMs: 10_000 }, new PassCosts());
    expect(out.codes.map((c) => c.text)).toEqual([TEXT]);
    expect(out.foundBy).toBe("regrid");
  });

  it("follows perspective through the alignment pattern: a tilted card with broken finders", () => {
    const text = "CPGW-REGRID-PERSPECTIVE-0002-ABCDEFGHIJ";
    const q = QRCode.create(text, { errorCorrectionLevel: "M" });
    const n = q.modules.size;
    expect(n).toBeGreaterThanOrEqual(29);
    // The symbol's corners in the frame: the far (right) side a sixth shorter, as a card turned away.
    const corners: [[number, number], [number, number], [number, number], [number, number]] = [[120, 80], [420, 105], [420, 355], [120, 380]];
    const toFrame = quadToQuad([[0, 0], [n, 0], [n, n], [0, n]], corners);
    const toModule = invert(toFrame);
    const broken = new Set<string>();
    for (const [fx, fy] of [[0, 0], [n - 7, 0], [0, n - 7]] as const) for (const [x, y] of [[0, 0], [6, 0], [0, 6], [6, 6], [1, 0], [0, 1], [5, 6], [6, 5]] as const) broken.add(`${fx + x},${fy + y}`);
    const frame = qrFrame(TEXT, { width: 640, height: 480 });
    frame.data.fill(230);
    for (let y = 0; y < 480; y++)
      for (let x = 0; x < 640; x++) {
        const [u, v] = apply(toModule, x + 0.5, y + 0.5);
        const mx = Math.floor(u), my = Math.floor(v);
        if (mx >= 0 && my >= 0 && mx < n && my < n && q.modules.get(my, mx) && !broken.has(`${mx},${my}`)) frame.data[y * 640 + x] = 20;
      }
    expect(runStrategy(img, { frame, passes: [...CAMERA], budgetMs: 10_000 }, new PassCosts()).codes).toEqual([]);
    const out = runStrategy(img, { frame, passes: [...CAMERA, "regrid"], budgetMs: 10_000 }, new PassCosts());
    expect(out.codes.map((c) => c.text)).toEqual([text]);
    // The alignment pattern is found where the perspective map puts it, not where the affine grid does.
    const centre = (u: number, v: number) => apply(toFrame, u, v);
    const h = { tl: centre(3.5, 3.5), tr: centre(n - 3.5, 3.5), bl: centre(3.5, n - 3.5), dim: n };
    const al = findAlignment(frame, h)!;
    const truth = centre(n - 6.5, n - 6.5);
    const module = (355 - 105) / n;
    expect(Math.hypot(al[0] - truth[0], al[1] - truth[1])).toBeLessThan(module / 2);
    const affine = gridPoint(h, n - 6.5, n - 6.5);
    expect(Math.hypot(affine[0] - truth[0], affine[1] - truth[1])).toBeGreaterThan(module);
  });

  it("reads nothing from three finder patterns around random modules (no valid code there)", () => {
    const frame = qrFrame(TEXT, { width: 640, height: 480, module: MODULE, x0: X0, y0: Y0 });
    const n = size(TEXT);
    const rnd = xorshift(7);
    // Keep finders, separators and timing; scramble everything else.
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        const fixed = (x < 9 && y < 9) || (x >= n - 8 && y < 9) || (x < 9 && y >= n - 8) || x === 6 || y === 6;
        if (!fixed) paintModule(frame, x, y, rnd() & 1 ? 20 : 230);
      }
    const out = runStrategy(img, { frame, passes: ["tone", "regrid"], budgetMs: 10_000 }, new PassCosts());
    expect(out.passes).toContain("regrid");
    expect(out.codes).toEqual([]);
  });

  it("orders an L of finders as top-left, top-right, bottom-left and proposes the right size", () => {
    const n = size(TEXT);
    const c = (mx: number, my: number) => ({ x: X0 + (mx + 3.5) * MODULE, y: Y0 + (my + 3.5) * MODULE, module: MODULE });
    // Given in a scrambled order; a smaller finder-like shape in the data is ignored for the L.
    const hs = [...gridHypotheses([c(0, n - 7), { x: 300, y: 250, module: 3 }, c(n - 7, 0), c(0, 0)])];
    const first = hs[0]!;
    expect(first.tl).toEqual([c(0, 0).x, c(0, 0).y]);
    expect(first.tr).toEqual([c(n - 7, 0).x, c(n - 7, 0).y]);
    expect(first.bl).toEqual([c(0, n - 7).x, c(0, n - 7).y]);
    expect(hs.filter((h) => h.tl === first.tl).map((h) => h.dim)).toContain(n);
    expect(gridPoint(first.dim === n ? first : { ...first, dim: n }, 0, 0)).toEqual([X0, Y0]);
  });

  it("proposes symbol sizes near the finders' distance, as 4v + 17", () => {
    expect(dimsFor(22 * 8, 8)).toContain(29);
    expect(dimsFor(14 * 5, 5)).toEqual([21]);
    for (const d of dimsFor(100 * 3, 3)) expect((d - 17) % 4).toBe(0);
    expect(dimsFor(3 * 5, 5)).toEqual([]);
  });

  it("finds a finder's centre from a hit on any row through its core", () => {
    const frame = qrFrame(TEXT, { width: 640, height: 480, module: MODULE, x0: X0, y0: Y0 });
    const r = refineCentre(frame, { x: X0 + 3 * MODULE, y: Y0 + 2 * MODULE + 1, module: MODULE });
    // Pixel-index coordinates: the core's middle pixel (3.5 modules in is 24.5 px: pixel 24).
    expect(Math.abs(r.x - (X0 + 3.5 * MODULE - 0.5))).toBeLessThanOrEqual(0.5);
    expect(Math.abs(r.y - (Y0 + 3.5 * MODULE - 0.5))).toBeLessThanOrEqual(0.5);
    // From a row just outside the core (the scan's 2x view blends it in), the same centre.
    const edge = refineCentre(frame, { x: X0 + 3 * MODULE, y: Y0 + 5 * MODULE, module: MODULE });
    expect(Math.abs(edge.y - (Y0 + 3.5 * MODULE - 0.5))).toBeLessThanOrEqual(0.5);
  });

  it("draws the fixed patterns as the standard does and the data modules as sampled", () => {
    const q = QRCode.create(TEXT, { errorCorrectionLevel: "M" });
    const n = q.modules.size;
    const bits = new Uint8Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) bits[y * n + x] = q.modules.get(y, x) ? 1 : 0;
    const noisy = Uint8Array.from(bits);
    for (const [x, y] of [[0, 0], [6, 6], [2, 6], [n - 1, 0], [10, 6]] as const) noisy[y * n + x] = noisy[y * n + x]! ^ 1;
    const scale = 3, quiet = 4;
    const d = drawSymbol(noisy, n, scale, quiet);
    expect(d.width).toBe((n + 8) * scale);
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        const dark = d.data[((y + quiet) * scale + 1) * d.width + (x + quiet) * scale + 1] === 0;
        expect(dark ? 1 : 0).toBe(bits[y * n + x]);
      }
    const s = structureScore(bits, n);
    expect(s).toEqual({ core: 1, timing: 1 });
    expect(structureScore(thresholdModules(Float32Array.from(bits, (b) => (b ? 30 : 220)), n), n).timing).toBe(1);
  });

  it("skips hypotheses whose samples show no finder cores", () => {
    const flat: LumaFrame = { ...qrFrame(TEXT, { width: 320, height: 240 }), data: new Uint8Array(320 * 240).fill(128) };
    const hits = [
      { x: 40, y: 40, module: 4 },
      { x: 140, y: 40, module: 4 },
      { x: 40, y: 140, module: 4 },
    ];
    expect([...regridCandidates(flat, hits)]).toEqual([]);
  });

  it("never throws on any frame and any finder hits (degenerate, off-frame, tiny, huge)", () => {
    const num = fc.oneof(fc.double({ min: -1e4, max: 1e4, noNaN: false }), fc.constantFrom(0, -1, Number.NaN, Infinity, -Infinity));
    const hit = fc.record({ x: num, y: num, module: fc.oneof(fc.double({ min: -5, max: 400 }), fc.constantFrom(0, Number.NaN, Infinity)) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 8 }), fc.array(hit, { maxLength: 8 }), fc.integer(), (w, h, pad, hits, seed) => {
        const rnd = xorshift(seed | 1);
        const stride = w + pad;
        const frame = { width: w, height: h, stride, data: Uint8Array.from({ length: stride * h }, () => rnd() & 255) };
        for (const c of regridCandidates(frame, hits)) {
          expect(c.image.width).toBeGreaterThan(0);
          expect(c.image.data.length).toBe(c.image.width * c.image.height);
        }
        for (const f of hits) refineCentre(frame, f);
      }),
      { numRuns: 300, seed: 9 },
    );
  });
});

