import { afterAll, describe, expect, it } from "vitest";
import { DecodePool } from "../../src/decode/index.js";
import { qrFrame } from "./helpers.js";

const pools: DecodePool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

async function twoFrames(track: boolean) {
  const pool = await DecodePool.create({ workers: 1, deadlineMs: 20_000, budgetMs: 1000, passes: ["fast", "crop"], track });
  pools.push(pool);
  // A tiny code (1 px modules): the fast pass locates something but cannot decode it, and the
  // same-frame crop around that outline misses the code; the tracker's square hint does not.
  const frame = (seq: number) => ({ ...qrFrame("TRACKED-SYMBOL", { width: 1280, height: 720, x0: 600, y0: 300, module: 1, cameraId: "lane-cam", seq }), receivedAt: seq * 66 });
  const first = await pool.submit(frame(1));
  const second = await pool.submit(frame(2));
  return { first: first!, second: second! };
}

describe("cross-frame tracking through the pool", () => {
  it("spends the next frame's crop on a symbol located but not decoded in the previous one", async () => {
    const on = await twoFrames(true);
    expect(on.first.codes).toEqual([]);
    expect(on.second.codes.map((c) => c.text)).toEqual(["TRACKED-SYMBOL"]);
    expect(on.second.timings.foundBy).toBe("crop");
    // The same two frames with tracking off: the second frame fails like the first.
    const off = await twoFrames(false);
    expect(off.first.codes).toEqual([]);
    expect(off.second.codes).toEqual([]);
  }, 60_000);
});
