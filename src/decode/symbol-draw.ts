/**
 * Drawing a symbol again, clean, from its module bits (what regrid, the votes and the bend fit hand
 * to zxing's pure-symbol reader), how well bits show a QR symbol's fixed parts, and the map from the
 * drawing back to the frame. Pure functions over typed arrays.
 */
import type { Point } from "../core/types.js";
import { gridPoint, type GridHypothesis } from "./grid.js";

export interface DrawOptions {
  /** Pixels per module and quiet-zone modules of the drawn symbol. */
  scale: number;
  quiet: number;
}

export const DRAW_DEFAULTS: DrawOptions = { scale: 4, quiet: 4 };

/** The finder pattern's module at (x, y) of its 7x7 square: dark ring, light ring, dark 3x3 core. */
const finderDark = (x: number, y: number): boolean => {
  const d = Math.max(Math.abs(x - 3), Math.abs(y - 3));
  return d !== 2;
};

/** How well the samples show a QR symbol's fixed parts: the finder cores' dark share and the timing patterns' agreement. */
export function structureScore(bits: Uint8Array, dim: number): { core: number; timing: number } {
  let core = 0;
  for (const [fx, fy] of [[0, 0], [dim - 7, 0], [0, dim - 7]] as const) for (let y = 2; y <= 4; y++) for (let x = 2; x <= 4; x++) core += bits[(fy + y) * dim + fx + x]!;
  let agree = 0, total = 0;
  for (let i = 8; i < dim - 8; i++) {
    const want = i % 2 === 0 ? 1 : 0;
    agree += (bits[6 * dim + i] === want ? 1 : 0) + (bits[i * dim + 6] === want ? 1 : 0);
    total += 2;
  }
  return { core: core / 27, timing: total > 0 ? agree / total : 1 };
}

/**
 * Draws the symbol from its module bits, `scale` px per module inside a `quiet`-module white
 * margin, with the finders, their separators and the timing patterns as the standard draws them.
 */
export function drawSymbol(bits: Uint8Array, dim: number, scale: number, quiet: number, dst?: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const side = (dim + 2 * quiet) * scale;
  const data = dst && dst.length >= side * side ? dst.subarray(0, side * side) : new Uint8Array(side * side);
  data.fill(255);
  const fixed = (x: number, y: number): number | undefined => {
    for (const [fx, fy] of [[0, 0], [dim - 7, 0], [0, dim - 7]] as const) {
      const lx = x - fx, ly = y - fy;
      if (lx >= -1 && lx <= 7 && ly >= -1 && ly <= 7) return lx >= 0 && lx < 7 && ly >= 0 && ly < 7 && finderDark(lx, ly) ? 1 : 0;
    }
    if (y === 6 && x >= 8 && x < dim - 8) return x % 2 === 0 ? 1 : 0;
    if (x === 6 && y >= 8 && y < dim - 8) return y % 2 === 0 ? 1 : 0;
    return undefined;
  };
  for (let y = 0; y < dim; y++)
    for (let x = 0; x < dim; x++) {
      if ((fixed(x, y) ?? bits[y * dim + x]) !== 1) continue;
      const px = (x + quiet) * scale, py = (y + quiet) * scale;
      for (let r = 0; r < scale; r++) data.fill(0, (py + r) * side + px, (py + r) * side + px + scale);
    }
  return { width: side, height: side, data };
}

/** Drawn-image pixel (drawSymbol at the options' scale and quiet zone) -> frame pixel. */
export function drawnToFrame(h: GridHypothesis, o: DrawOptions = DRAW_DEFAULTS): (p: Point) => Point {
  return (p) => gridPoint(h, p[0] / o.scale - o.quiet, p[1] / o.scale - o.quiet);
}
