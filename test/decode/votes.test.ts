import QRCode from "qrcode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadReaderModule } from "../../src/decode/wasm-loader.js";
import { HeapImage } from "../../src/decode/luma-read.js";
import { runStrategy } from "../../src/decode/strategy.js";
import { PassCosts } from "../../src/decode/pass-costs.js";
import { DecodePool } from "../../src/decode/index.js";
import { SymbolTracker } from "../../src/decode/track.js";
import { addVotes, matchEvidence, moduleVotes, votedBits, type ModuleEvidence } from "../../src/decode/votes.js";
import { gridFromCorners, gridPoint, type GridHypothesis } from "../../src/decode/grid.js";
import { baseQrOptions, encodeReaderOptions } from "../../src/decode/reader-options.js";
import type { LumaFrame } from "../../src/core/types.js";
import type { DecodePassName } from "../../src/decode/options.js";

let img: HeapImage;
const pools: DecodePool[] = [];
beforeAll(async () => {
  img = new HeapImage(await loadReaderModule());
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

const TEXT = "CPGW-VOTES-0001-MOVING-GLARE";
const CAMERA: DecodePassName[] = ["tone", "crop", "invert", "regrid", "darken", "lighten", "denoise"];
const M = 6, X0 = 160, Y0 = 100, W = 640, H = 480;
const symbol = QRCode.create(TEXT, { errorCorrectionLevel: "M" }).modules;
const N = symbol.size;
const S = N * M;

/**
 * A code on a screen with a lamp's glare on it: a saturated disc (a fifth of the symbol's side in
 * radius, soft edge) over the data at (gx, gy), given in symbol sides from its top-left corner.
 */
function glared(gx: number, gy: number, seq = 1): LumaFrame {
  const data = new Uint8Array(W * H).fill(200);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (symbol.get(Math.floor(y / M), Math.floor(x / M))) data[(y + Y0) * W + x + X0] = 40;
  const cx = X0 + gx * S, cy = Y0 + gy * S, r = 0.2 * S;
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const d = Math.hypot(x - cx, y - cy) / r;
      if (d >= 1.3) continue;
      const a = d < 1 ? 1 : (1.3 - d) / 0.3;
      data[y * W + x] = Math.round(data[y * W + x]! * (1 - a) + 255 * a);
    }
  return { cameraId: "lane-cam", seq, width: W, height: H, stride: W, data, receivedAt: seq * 66 };
}

/** The glare sliding across the symbol's lower half as the hand tilts the phone, frame k of 8. */
const moving = (k: number, seq = k + 1) => glared(0.3 + (0.5 * k) / 7, 0.55 + 0.1 * Math.sin((3 * k) / 7), seq);

const hyp = (tl: [number, number], tr: [number, number], bl: [number, number], dim = 25): GridHypothesis => ({ tl, tr, bl, dim });

describe("module votes", () => {
  it("a clipped module abstains, even at the glare's edge; clear modules vote their colour", () => {
    const dim = 25;
    const vals = new Float32Array(dim * dim);
    for (let y = 0; y < dim; y++) for (let x = 0; x < dim; x++) vals[y * dim + x] = (x + y) % 2 === 0 ? 40 : 200;
    for (let y = 14; y < 22; y++) for (let x = 14; x < 22; x++) vals[y * dim + x] = 255;
    const v = moduleVotes(vals, dim);
    expect(v[18 * dim + 18]).toBe(0);
    expect(v[14 * dim + 14]).toBe(0);
    expect(v[2 * dim + 2]! * (vals[2 * dim + 2] === 40 ? 1 : -1)).toBeGreaterThan(0.9);
    expect(v[3 * dim + 5]! * (vals[3 * dim + 5] === 40 ? 1 : -1)).toBeGreaterThan(0.9);
  });

  it("a flat symbol (no contrast at all) gives no votes", () => {
    expect([...moduleVotes(new Float32Array(21 * 21).fill(128), 21)].every((x) => x === 0)).toBe(true);
  });

  it("sums with the earlier frames decayed, and the sum's sign is the module", () => {
    const h = hyp([10, 10], [190, 10], [10, 190]);
    const a = addVotes(undefined, h, new Float32Array(625).fill(1));
    const b = addVotes(a, h, new Float32Array(625).fill(-0.5));
    expect(b.frames).toBe(2);
    expect(b.votes[0]).toBeCloseTo(0.35, 5);
    expect(votedBits(b)[0]).toBe(1);
    expect(votedBits(addVotes(b, h, new Float32Array(625).fill(-1)))[0]).toBe(0);
  });

  it("matches the same symbol moved a little, never another size, a far one, or a turned one", () => {
    const e: ModuleEvidence = { ...hyp([100, 100], [280, 100], [100, 280]), votes: new Float32Array(625), frames: 1 };
    expect(matchEvidence([e], hyp([108, 95], [289, 97], [104, 276]))).toBe(e);
    expect(matchEvidence([e], hyp([108, 95], [289, 97], [104, 276], 29))).toBeUndefined();
    expect(matchEvidence([e], hyp([400, 100], [580, 100], [400, 280]))).toBeUndefined();
    // The same three finders seen as another L (the symbol turned a quarter): module (u, v) would
    // be paired with (v, u).
    expect(matchEvidence([e], hyp([100, 100], [100, 280], [280, 100]))).toBeUndefined();
  });
});

describe("symbols zxing located but could not read give their grid", () => {
  it("zxing reports a located, unreadable symbol's corners and size, and the grid built on them puts the finders where they are", () => {
    // The glare over the data only: the finders are whole, zxing locates the symbol, reads its
    // version and format, and fails on the data.
    const f = glared(0.55, 0.6);
    img.load(f);
    const out = img.read(encodeReaderOptions({ ...baseQrOptions, tryHarder: true, returnErrors: true }));
    expect(out.codes).toEqual([]);
    expect(out.grids?.length).toBeGreaterThan(0);
    const g = out.grids![0]!;
    expect(g.dim).toBe(N);
    const h = gridFromCorners(g.corners, g.dim);
    expect(h.tl[0]).toBeCloseTo(X0 + 3.5 * M, -1);
    expect(h.tl[1]).toBeCloseTo(Y0 + 3.5 * M, -1);
    expect(h.tr[0]).toBeCloseTo(X0 + (N - 3.5) * M, -1);
    expect(h.bl[1]).toBeCloseTo(Y0 + (N - 3.5) * M, -1);
    const [x, y] = gridPoint(h, N, N);
    expect(x).toBeCloseTo(X0 + S, -1);
    expect(y).toBeCloseTo(Y0 + S, -1);
  });
});

describe("evidence across frames (regrid)", () => {
  it("reads a code no single frame reads when the glare moves over it, and only then", () => {
    for (let k = 0; k < 8; k++) expect(runStrategy(img, { frame: moving(k), passes: CAMERA, budgetMs: 10_000 }, new PassCosts()).codes).toEqual([]);
    let evidence: ModuleEvidence[] = [];
    let readAt = -1;
    for (let k = 0; k < 8 && readAt < 0; k++) {
      const out = runStrategy(img, { frame: moving(k), passes: CAMERA, budgetMs: 10_000, evidence }, new PassCosts());
      if (out.codes.length > 0) {
        expect(out.codes.map((c) => c.text)).toEqual([TEXT]);
        expect(out.foundBy).toBe("regrid");
        expect(out.evidence).toBeUndefined();
        readAt = k;
      } else evidence = out.evidence ?? evidence;
    }
    expect(readAt).toBeGreaterThan(0);
  });

  it("a glare that stays where it is stays unread: the sum is only as good as the frames' differences", () => {
    let evidence: ModuleEvidence[] = [];
    for (let k = 0; k < 8; k++) {
      const out = runStrategy(img, { frame: glared(0.55, 0.6), passes: CAMERA, budgetMs: 10_000, evidence }, new PassCosts());
      expect(out.codes).toEqual([]);
      evidence = out.evidence ?? evidence;
    }
    expect(evidence.length).toBeGreaterThan(0);
    expect(evidence[0]!.frames).toBe(8);
  });
});

describe("the tracker carries evidence per camera", () => {
  const e: ModuleEvidence = { ...hyp([100, 100], [280, 100], [100, 280]), votes: new Float32Array(625), frames: 1 };
  const at = (receivedAt: number) => ({ width: W, height: H, receivedAt });

  it("for the camera's next frames within the ttl, not after, and not to another camera", () => {
    const t = new SymbolTracker({ ttlMs: 1000 });
    t.observe("a", at(1000), [], [], [e]);
    expect(t.evidence("a", at(1500))).toEqual([e]);
    expect(t.evidence("b", at(1500))).toEqual([]);
    expect(t.evidence("a", at(2100))).toEqual([]);
  });

  it("a result of an earlier frame arriving late does not replace a later one's; a read code ends it", () => {
    const t = new SymbolTracker();
    const later = { ...e, frames: 2 };
    t.observe("a", at(1066), [], [], [later]);
    t.observe("a", at(1000), [], [], [e]);
    expect(t.evidence("a", at(1100))).toEqual([later]);
    t.observe("a", at(1132), [{ text: "X", bytes: new Uint8Array([88]), format: "QRCode", corners: [[90, 90], [300, 90], [300, 300], [90, 300]] }], []);
    expect(t.evidence("a", at(1150))).toEqual([]);
  });
});

describe("evidence through the pool", () => {
  async function presentation(votes: boolean): Promise<number> {
    const pool = await DecodePool.create({ workers: 1, deadlineMs: 20_000, budgetMs: 10_000, passes: CAMERA, votes });
    pools.push(pool);
    for (let k = 0; k < 8; k++) {
      const r = await pool.submit(moving(k));
      if (r && r.codes.length > 0) {
        expect(r.codes.map((c) => c.text)).toEqual([TEXT]);
        return k;
      }
    }
    return -1;
  }

  it("a camera's frames carry their evidence to the next ones; with the pool's votes off they do not", async () => {
    expect(await presentation(true)).toBeGreaterThan(0);
    expect(await presentation(false)).toBe(-1);
  }, 60_000);
});
