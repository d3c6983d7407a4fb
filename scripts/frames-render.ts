/**
 * Rendering primitives for the synthetic frame generator: a seeded PRNG, a homography warp that
 * draws a QR symbol (or a phone screen showing one) into a gray frame with area sampling, and
 * frame-wide effects. Deterministic: same inputs, same bytes.
 */
import QRCode from "qrcode";

export type Rng = () => number;

/** mulberry32: tiny, fast, and good enough for test scenery. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gauss(r: Rng): number {
  const u = Math.max(1e-12, r());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export type Pt = [number, number];
export type Quad = [Pt, Pt, Pt, Pt];

export interface Gray {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Projective map of the unit square onto `q` (tl, tr, br, bl) and its inverse (Heckbert). */
export function squareToQuad(q: Quad): { fwd: (u: number, v: number) => Pt; inv: (x: number, y: number) => Pt } {
  const [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = q;
  const dx1 = x1 - x2, dx2 = x3 - x2, dx3 = x0 - x1 + x2 - x3;
  const dy1 = y1 - y2, dy2 = y3 - y2, dy3 = y0 - y1 + y2 - y3;
  let g = 0, h = 0;
  if (Math.abs(dx3) > 1e-9 || Math.abs(dy3) > 1e-9) {
    const den = dx1 * dy2 - dx2 * dy1;
    g = (dx3 * dy2 - dx2 * dy3) / den;
    h = (dx1 * dy3 - dx3 * dy1) / den;
  }
  const a = x1 - x0 + g * x1, b = x3 - x0 + h * x3, c = x0;
  const d = y1 - y0 + g * y1, e = y3 - y0 + h * y3, f = y0;
  // Inverse via the adjugate of [[a b c][d e f][g h 1]].
  const A = e - f * h, B = c * h - b, C = b * f - c * e;
  const D = f * g - d, E = a - c * g, F = c * d - a * f;
  const G = d * h - e * g, H = b * g - a * h, I = a * e - b * d;
  return {
    fwd: (u, v) => {
      const w = g * u + h * v + 1;
      return [(a * u + b * v + c) / w, (d * u + e * v + f) / w];
    },
    inv: (x, y) => {
      const w = G * x + H * y + I;
      return [(A * x + B * y + C) / w, (D * x + E * y + F) / w];
    },
  };
}

export interface QrRaster {
  /** Modules per side without quiet zone. */
  n: number;
  dark: (row: number, col: number) => boolean;
}

export function qrRaster(text: string, ecl: "L" | "M" | "Q" | "H"): QrRaster {
  const q = QRCode.create(text, { errorCorrectionLevel: ecl });
  const n = q.modules.size;
  return { n, dark: (r, c) => r >= 0 && c >= 0 && r < n && c < n && q.modules.get(r, c) === 1 };
}

export const QUIET = 4;

/**
 * Draws `shade(u, v)` (u, v in [0,1) across the quad) into `img` inside quad `q`, averaging
 * `ss` x `ss` samples per pixel: ss=3 gives clean edges; ss=1-2 keeps the aliasing a camera
 * shows when it films a pixel grid.
 */
export function drawQuad(img: Gray, q: Quad, shade: (u: number, v: number) => number, ss = 3): void {
  const { inv } = squareToQuad(q);
  const xs = q.map((p) => p[0]);
  const ys = q.map((p) => p[1]);
  const xa = Math.max(0, Math.floor(Math.min(...xs)));
  const xb = Math.min(img.width - 1, Math.ceil(Math.max(...xs)));
  const ya = Math.max(0, Math.floor(Math.min(...ys)));
  const yb = Math.min(img.height - 1, Math.ceil(Math.max(...ys)));
  const n2 = ss * ss;
  for (let y = ya; y <= yb; y++)
    for (let x = xa; x <= xb; x++) {
      let acc = 0, inside = 0;
      for (let sy = 0; sy < ss; sy++)
        for (let sx = 0; sx < ss; sx++) {
          const [u, v] = inv(x + (sx + 0.5) / ss, y + (sy + 0.5) / ss);
          if (u >= 0 && u < 1 && v >= 0 && v < 1) {
            acc += shade(u, v);
            inside++;
          }
        }
      if (inside === 0) continue;
      const i = y * img.width + x;
      img.data[i] = Math.round((acc + img.data[i]! * (n2 - inside)) / n2);
    }
}

/** Shade function of a printed QR with quiet zone: ink on paper, or light-on-dark when inverted. */
export function qrShade(r: QrRaster, ink: number, paper: number): (u: number, v: number) => number {
  const total = r.n + 2 * QUIET;
  return (u, v) => (r.dark(Math.floor(v * total) - QUIET, Math.floor(u * total) - QUIET) ? ink : paper);
}

/** A phone screen showing the QR: each module is `sub` screen pixels, with dim gaps between them. */
export function screenShade(r: QrRaster, sub: number): (u: number, v: number) => number {
  const total = r.n + 2 * QUIET;
  const pix = total * sub;
  return (u, v) => {
    const px = u * pix, py = v * pix;
    const base = r.dark(Math.floor(py / sub) - QUIET, Math.floor(px / sub) - QUIET) ? 18 : 228;
    const fx = px - Math.floor(px), fy = py - Math.floor(py);
    const gap = fx < 0.22 || fy < 0.22 ? 0.55 : 1;
    return base * gap;
  };
}

/** The QR symbol's own corners (quiet zone excluded) inside the paper quad, as zxing reports them. */
export function symbolCorners(paper: Quad, r: QrRaster): Quad {
  const { fwd } = squareToQuad(paper);
  const total = r.n + 2 * QUIET;
  const a = QUIET / total, b = (QUIET + r.n) / total;
  return [fwd(a, a), fwd(b, a), fwd(b, b), fwd(a, b)];
}

/** Square of side `side` centred at (cx, cy), rotated by `deg`, optionally turned away in depth. */
export function placedQuad(cx: number, cy: number, side: number, deg: number, tilt = 0): Quad {
  const h = side / 2;
  // Tilt: the right edge recedes (shorter and moved in), a camera looking at a card held at an angle.
  const pts: Pt[] = [[-h, -h], [h * (1 - tilt * 0.5), -h * (1 - tilt)], [h * (1 - tilt * 0.5), h * (1 - tilt)], [-h, h]];
  const t = (deg * Math.PI) / 180;
  const c = Math.cos(t), s = Math.sin(t);
  return pts.map(([x, y]) => [cx + x * c - y * s, cy + x * s + y * c] as Pt) as Quad;
}
