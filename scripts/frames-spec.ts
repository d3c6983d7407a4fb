/**
 * What the synthetic fixture set contains: one entry per category, each rendering a frame from a
 * seeded RNG. Categories follow issue 2 item 8; every code carries its expected text and corners.
 */
import sharp from "sharp";
import { drawQuad, gauss, placedQuad, qrRaster, qrShade, QUIET, rng, screenShade, symbolCorners, type Gray, type Quad, type Rng } from "./frames-render.js";

export interface ExpectedCode {
  text: string;
  corners: Quad;
}

export interface RenderedFrame {
  gray: Gray;
  codes: ExpectedCode[];
  /** JPEG quality when the category is about compression artefacts; PNG otherwise. */
  jpegQuality?: number;
}

export interface Category {
  name: string;
  group: "no-code" | "size" | "rotation" | "blur" | "geometry" | "photometric" | "multi" | "screen" | "compression";
  render: (w: number, h: number, r: Rng, variant: number) => Promise<RenderedFrame>;
}

const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function pick(r: Rng, alphabet: string, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

/** Payloads shaped like what a checkpoint sees: a short link, a signed pass, an EU DCC. */
export function payload(r: Rng, variant: number): string {
  switch (variant % 3) {
    case 0:
      return `https://chk.example/p/${pick(r, B64U, 22)}`;
    case 1:
      return `CGP1.${pick(r, B64U, 60)}.${pick(r, B64U, 86)}`;
    default:
      return `HC1:${pick(r, B45, 260)}`;
  }
}

/** A plausible scene: smooth illumination gradient, blotchy texture, a few hard-edged objects. */
async function scene(w: number, h: number, r: Rng, level = 120): Promise<Gray> {
  const sw = Math.ceil(w / 16), sh = Math.ceil(h / 16);
  const small = Buffer.alloc(sw * sh);
  const gx = (r() - 0.5) * 60, gy = (r() - 0.5) * 60;
  for (let y = 0; y < sh; y++)
    for (let x = 0; x < sw; x++) small[y * sw + x] = clamp(level + gx * (x / sw - 0.5) + gy * (y / sh - 0.5) + (r() - 0.5) * 50);
  const data = new Uint8Array(await sharp(small, { raw: { width: sw, height: sh, channels: 1 } }).resize(w, h, { kernel: "cubic" }).toColourspace("b-w").raw().toBuffer());
  const img = { width: w, height: h, data };
  for (let k = 0; k < 6; k++) {
    const bw = 40 + r() * w * 0.2, bh = 40 + r() * h * 0.2, x = r() * (w - bw), y = r() * (h - bh), v = 40 + r() * 170;
    fillRect(img, x, y, bw, bh, v);
  }
  return img;
}

function fillRect(img: Gray, x: number, y: number, w: number, h: number, v: number): void {
  const x0 = Math.round(x), x1 = Math.min(img.width, Math.round(x + w));
  for (let yy = Math.round(y); yy < Math.min(img.height, Math.round(y + h)); yy++) img.data.fill(v, yy * img.width + x0, yy * img.width + x1);
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** Sensor noise. A table of unit normals indexed by the RNG keeps 2 M pixels per frame cheap. */
const NORMALS = (() => {
  const r = rng(7);
  return Float32Array.from({ length: 8192 }, () => gauss(r));
})();

export function addNoise(img: Gray, r: Rng, sigma: number): void {
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]! + NORMALS[(r() * 8192) | 0]! * sigma;
    d[i] = v < 0 ? 0 : v > 255 ? 255 : (v + 0.5) | 0;
  }
}

async function blur(img: Gray, sigma: number): Promise<void> {
  const out = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 1 } }).blur(sigma).toColourspace("b-w").raw().toBuffer();
  img.data.set(out);
}

interface CodeOpts {
  module: number;
  deg?: number;
  tilt?: number;
  ink?: number;
  paper?: number;
  ecl?: "L" | "M" | "Q" | "H";
  /** Place the code's centre here instead of at random. */
  at?: [number, number];
}

/** Draws one printed code at a random spot where it fits; returns what a reader should report. */
function putCode(img: Gray, r: Rng, text: string, o: CodeOpts): ExpectedCode {
  const q = qrRaster(text, o.ecl ?? "M");
  const side = (q.n + 2 * QUIET) * o.module;
  const reach = side * 0.75;
  const cx = o.at?.[0] ?? reach + r() * Math.max(1, img.width - 2 * reach);
  const cy = o.at?.[1] ?? reach + r() * Math.max(1, img.height - 2 * reach);
  const paper = placedQuad(cx, cy, side, o.deg ?? (r() - 0.5) * 4, o.tilt ?? 0);
  drawQuad(img, paper, qrShade(q, o.ink ?? 35, o.paper ?? 215));
  return { text, corners: symbolCorners(paper, q) };
}

async function oneCode(w: number, h: number, r: Rng, v: number, o: CodeOpts): Promise<RenderedFrame> {
  const img = await scene(w, h, r);
  const code = putCode(img, r, payload(r, v), o);
  addNoise(img, r, 3);
  return { gray: img, codes: [code] };
}

const size = (m: number): Category => ({ name: `module-${m}px`, group: "size", render: (w, h, r, v) => oneCode(w, h, r, v, { module: m }) });
const rot = (deg: number): Category => ({ name: `rotated-${deg}`, group: "rotation", render: (w, h, r, v) => oneCode(w, h, r, v, { module: 4, deg }) });
const blurred = (sigma: number): Category => ({
  name: `blur-${sigma}`,
  group: "blur",
  render: async (w, h, r, v) => {
    const img = await scene(w, h, r);
    const code = putCode(img, r, payload(r, v), { module: 4 });
    await blur(img, sigma);
    addNoise(img, r, 3);
    return { gray: img, codes: [code] };
  },
});

export const categories: Category[] = [
  { name: "empty-flat", group: "no-code", render: async (w, h, r) => { const img = { width: w, height: h, data: new Uint8Array(w * h).fill(110 + Math.floor(r() * 40)) }; addNoise(img, r, 3); return { gray: img, codes: [] }; } },
  { name: "empty-textured", group: "no-code", render: async (w, h, r) => { const img = await scene(w, h, r); addNoise(img, r, 3); return { gray: img, codes: [] }; } },
  { name: "empty-noise", group: "no-code", render: async (w, h, r) => { const img = { width: w, height: h, data: new Uint8Array(w * h).fill(128) }; addNoise(img, r, 40); return { gray: img, codes: [] }; } },
  size(2), size(3), size(4), size(5), size(6),
  rot(15), rot(40), rot(90),
  blurred(1), blurred(1.5),
  { name: "tilted", group: "geometry", render: (w, h, r, v) => oneCode(w, h, r, v, { module: 4, deg: (r() - 0.5) * 20, tilt: 0.35 }) },
  {
    name: "contrast-40",
    group: "photometric",
    render: async (w, h, r, v) => {
      const img = await scene(w, h, r);
      const code = putCode(img, r, payload(r, v), { module: 4 });
      for (let i = 0; i < img.data.length; i++) img.data[i] = clamp(125 + (img.data[i]! - 125) * 0.4);
      addNoise(img, r, 3);
      return { gray: img, codes: [code] };
    },
  },
  { name: "inverted", group: "photometric", render: (w, h, r, v) => oneCode(w, h, r, v, { module: 4, ink: 215, paper: 35 }) },
  {
    name: "glare",
    group: "photometric",
    render: async (w, h, r, v) => {
      const img = await scene(w, h, r);
      const code = putCode(img, r, payload(r, v), { module: 4, ecl: "Q" });
      // A specular spot over one side of the code: blends toward white, saturating at its centre.
      const c = code.corners;
      const cx = (c[0][0] + c[2][0]) / 2, cy = (c[0][1] + c[2][1]) / 2, s = Math.abs(c[1][0] - c[0][0]);
      const gx = cx + (r() - 0.5) * s * 0.4, gy = cy + (r() - 0.5) * s * 0.4, sg = s * 0.26;
      for (let y = Math.max(0, Math.floor(gy - 3 * sg)); y < Math.min(h, gy + 3 * sg); y++)
        for (let x = Math.max(0, Math.floor(gx - 3 * sg)); x < Math.min(w, gx + 3 * sg); x++) {
          const a = Math.min(1, 1.25 * Math.exp(-((x - gx) ** 2 + (y - gy) ** 2) / (2 * sg * sg)));
          const i = y * w + x;
          img.data[i] = clamp(img.data[i]! + (255 - img.data[i]!) * a);
        }
      addNoise(img, r, 3);
      return { gray: img, codes: [code] };
    },
  },
  {
    name: "two-codes",
    group: "multi",
    render: async (w, h, r, v) => {
      const img = await scene(w, h, r);
      const a = putCode(img, r, payload(r, v), { module: 4, at: [w * 0.27, h * (0.4 + r() * 0.2)] });
      const b = putCode(img, r, payload(r, v + 1), { module: 3, at: [w * 0.73, h * (0.4 + r() * 0.2)] });
      addNoise(img, r, 3);
      return { gray: img, codes: [a, b] };
    },
  },
  {
    name: "phone-screen",
    group: "screen",
    render: async (w, h, r, v) => {
      const img = await scene(w, h, r);
      const text = payload(r, v);
      const q = qrRaster(text, "M");
      const module = 5 + r() * 2;
      const side = (q.n + 2 * QUIET) * module;
      const cx = w / 2 + (r() - 0.5) * (w - side * 2) * 0.5, cy = h / 2 + (r() - 0.5) * (h - side * 1.6) * 0.5;
      const deg = (r() - 0.5) * 16;
      // Phone body (dark bezel, taller than the screen area the code sits in), then the lit screen.
      const body = placedQuad(cx, cy, side * 1.25, deg);
      drawQuad(img, [body[0], body[1], [body[2][0] + side * 0.3 * Math.sin((deg * Math.PI) / 180), body[2][1] + side * 0.6], [body[3][0], body[3][1] + side * 0.6]], () => 22);
      const screen = placedQuad(cx, cy, side, deg);
      drawQuad(img, screen, screenShade(q, 5 + Math.floor(r() * 3)), 2);
      await blur(img, 0.6);
      addNoise(img, r, 4);
      return { gray: img, codes: [{ text, corners: symbolCorners(screen, q) }] };
    },
  },
  {
    name: "jpeg-q30",
    group: "compression",
    render: async (w, h, r, v) => ({ ...(await oneCode(w, h, r, v, { module: 3 + (v % 2) })), jpegQuality: 30 }),
  },
];

export function seedFor(base: number, cat: string, w: number, variant: number): number {
  let hsh = base ^ (w * 2654435761);
  for (const ch of `${cat}/${variant}`) hsh = Math.imul(hsh ^ ch.charCodeAt(0), 16777619);
  return hsh >>> 0;
}

export { rng };
