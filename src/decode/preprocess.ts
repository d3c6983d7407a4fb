/**
 * Pixel passes on packed 8-bit gray images. Pure functions over typed arrays: they write into a
 * destination (usually a view of the wasm heap) so a pass never allocates a frame-sized buffer.
 */
import type { LumaView } from "./luma-read.js";

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function invertInto(src: LumaView, dst: Uint8Array): void {
  const { width, height, stride, data } = src;
  for (let y = 0; y < height; y++) {
    const s = y * stride;
    const d = y * width;
    for (let x = 0; x < width; x++) dst[d + x] = 255 - data[s + x]!;
  }
}

/** 2x2 box average: blurs a screen's pixel grid / moire away and quarters the decode cost. */
export function downscale2Into(src: LumaView, dst: Uint8Array): { width: number; height: number } {
  const w = src.width >> 1;
  const h = src.height >> 1;
  const { stride, data } = src;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * stride;
    const r1 = r0 + stride;
    const d = y * w;
    for (let x = 0; x < w; x++) {
      const c = 2 * x;
      dst[d + x] = (data[r0 + c]! + data[r0 + c + 1]! + data[r1 + c]! + data[r1 + c + 1]! + 2) >> 2;
    }
  }
  return { width: w, height: h };
}

/**
 * Bilinear crop-and-scale: small codes near the binarizer's limit (2 px modules) read after 2x.
 * Runs on most frames of a camera that recently showed a code (the hint crop), and a crop around a
 * large code is most of a frame (the e2e CPU profile had this function at 12-24% of a decode
 * worker's time). So: a 1x crop at whole-pixel offsets inside the frame is a row copy (bilinear
 * weights are all 0 there); otherwise the column positions and 8-bit fixed-point weights are
 * computed once per call, each source row is interpolated horizontally once (at 2x, two output
 * rows share it), and the per-pixel loop is one vertical blend of two cached rows.
 */
export function cropScaleInto(src: LumaView, rect: Rect, scale: number, dst: Uint8Array): { width: number; height: number } {
  const w = Math.max(1, Math.round(rect.w * scale));
  const h = Math.max(1, Math.round(rect.h * scale));
  const { stride, data } = src;
  const maxX = src.width - 1;
  const maxY = src.height - 1;
  if (scale === 1 && Number.isInteger(rect.x) && Number.isInteger(rect.y) && rect.x >= 0 && rect.y >= 0 && rect.x + w <= src.width && rect.y + h <= src.height) {
    for (let y = 0; y < h; y++) {
      const r = (rect.y + y) * stride + rect.x;
      dst.set(data.subarray(r, r + w), y * w);
    }
    return { width: w, height: h };
  }
  const inv = 1 / scale;
  const x0s = new Int32Array(w);
  const x1s = new Int32Array(w);
  const wxs = new Int32Array(w);
  for (let x = 0; x < w; x++) {
    const fx = Math.min(maxX, Math.max(0, rect.x + (x + 0.5) * inv - 0.5));
    const x0 = Math.floor(fx);
    x0s[x] = x0;
    x1s[x] = Math.min(maxX, x0 + 1);
    wxs[x] = Math.round((fx - x0) * 256);
  }
  // Horizontally interpolated source rows (value x 256): `top` holds row topY, `bot` row botY.
  let top = new Int32Array(w);
  let bot = new Int32Array(w);
  let topY = -1;
  let botY = -1;
  const horizontal = (sy: number, out: Int32Array) => {
    const r = sy * stride;
    for (let x = 0; x < w; x++) {
      const a = data[r + x0s[x]!]!;
      out[x] = (a << 8) + (data[r + x1s[x]!]! - a) * wxs[x]!;
    }
  };
  for (let y = 0; y < h; y++) {
    const fy = Math.min(maxY, Math.max(0, rect.y + (y + 0.5) * inv - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(maxY, y0 + 1);
    const wy = Math.round((fy - y0) * 256);
    if (y0 !== topY) {
      if (y0 === botY) {
        const t = top;
        top = bot;
        bot = t;
        botY = -1;
      } else horizontal(y0, top);
      topY = y0;
    }
    if (y1 !== botY) {
      if (y1 === topY) bot.set(top);
      else horizontal(y1, bot);
      botY = y1;
    }
    const d = y * w;
    for (let x = 0; x < w; x++) {
      const t = top[x]!;
      dst[d + x] = ((t << 8) + (bot[x]! - t) * wy + 32768) >> 16;
    }
  }
  return { width: w, height: h };
}

/**
 * Local contrast stretch (a cheap CLAHE relative): per tile min/max, interpolated between tile
 * centres, each pixel mapped to 0..255 within its local range. Glare that washes a corner of a code
 * down to a few gray levels falls below zxing's minimum local dynamic range (24); this restores it.
 * `minRange` keeps flat noise from being blown up into texture.
 */
export function localStretchInto(src: LumaView, dst: Uint8Array, tile = 8, minRange = 8): void {
  const { width, height, stride, data } = src;
  const tx = Math.ceil(width / tile);
  const ty = Math.ceil(height / tile);
  const lo = new Float32Array(tx * ty);
  const hi = new Float32Array(tx * ty);
  for (let j = 0; j < ty; j++)
    for (let i = 0; i < tx; i++) {
      let mn = 255;
      let mx = 0;
      const ye = Math.min(height, (j + 1) * tile);
      const xe = Math.min(width, (i + 1) * tile);
      for (let y = j * tile; y < ye; y += 2) {
        const r = y * stride;
        for (let x = i * tile; x < xe; x += 2) {
          const v = data[r + x]!;
          if (v < mn) mn = v;
          if (v > mx) mx = v;
        }
      }
      lo[j * tx + i] = mn;
      hi[j * tx + i] = mx;
    }
  // Widen each tile's range by its neighbours so a tile lying entirely inside a module keeps the
  // range of the code around it instead of stretching its own flat patch to black/white.
  const lo2 = new Float32Array(lo);
  const hi2 = new Float32Array(hi);
  for (let j = 0; j < ty; j++)
    for (let i = 0; i < tx; i++) {
      let mn = 255;
      let mx = 0;
      for (let dj = -1; dj <= 1; dj++)
        for (let di = -1; di <= 1; di++) {
          const jj = Math.min(ty - 1, Math.max(0, j + dj));
          const ii = Math.min(tx - 1, Math.max(0, i + di));
          mn = Math.min(mn, lo[jj * tx + ii]!);
          mx = Math.max(mx, hi[jj * tx + ii]!);
        }
      lo2[j * tx + i] = mn;
      hi2[j * tx + i] = Math.max(mx, mn + minRange);
    }
  // Per pixel: out = (v - lo) * k with k = 255 / (hi - lo), both interpolated between tile
  // centres. Vertical interpolation once per row and tile column, then linear steps along the row
  // keep the inner loop to a few adds (this pass runs on full 1080p frames).
  const half = tile / 2;
  const rowL = new Float32Array(tx);
  const rowK = new Float32Array(tx);
  for (let y = 0; y < height; y++) {
    const gy = Math.min(ty - 1, Math.max(0, (y - half) / tile));
    const j0 = Math.floor(gy);
    const j1 = Math.min(ty - 1, j0 + 1);
    const wy = gy - j0;
    for (let i = 0; i < tx; i++) {
      const l = lo2[j0 * tx + i]! * (1 - wy) + lo2[j1 * tx + i]! * wy;
      const h = hi2[j0 * tx + i]! * (1 - wy) + hi2[j1 * tx + i]! * wy;
      rowL[i] = l;
      rowK[i] = 255 / (h - l);
    }
    const r = y * stride;
    const d = y * width;
    let x = 0;
    // Left of the first centre and right of the last one the map is constant.
    for (let seg = -1; seg < tx; seg++) {
      const i0 = Math.max(0, seg);
      const i1 = Math.min(tx - 1, seg + 1);
      const xEnd = seg + 1 < tx ? Math.min(width, Math.floor((seg + 1) * tile + half)) : width;
      const span = Math.max(1, xEnd - x);
      let l = rowL[i0]!;
      let k = rowK[i0]!;
      const dl = i0 === i1 ? 0 : (rowL[i1]! - l) / span;
      const dk = i0 === i1 ? 0 : (rowK[i1]! - k) / span;
      for (; x < xEnd; x++) {
        const v = (data[r + x]! - l) * k;
        dst[d + x] = v < 0 ? 0 : v > 255 ? 255 : v | 0;
        l += dl;
        k += dk;
      }
    }
  }
}

/** Axis-aligned box of corner points (Infinity/-Infinity for none). */
export function cornerBox(points: readonly (readonly [number, number])[]): { x0: number; y0: number; x1: number; y1: number } {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const [x, y] of points) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return { x0, y0, x1, y1 };
}

/** Axis-aligned bounds of corner points, expanded by `margin` x size and clamped to the frame. */
export function boundsAround(points: readonly (readonly [number, number])[], frameW: number, frameH: number, margin: number): Rect | undefined {
  if (points.length === 0) return undefined;
  const { x0, y0, x1, y1 } = cornerBox(points);
  const mx = (x1 - x0) * margin;
  const my = (y1 - y0) * margin;
  const x = Math.max(0, Math.floor(x0 - mx));
  const y = Math.max(0, Math.floor(y0 - my));
  const w = Math.min(frameW, Math.ceil(x1 + mx)) - x;
  const h = Math.min(frameH, Math.ceil(y1 + my)) - y;
  return w > 8 && h > 8 ? { x, y, w, h } : undefined;
}
