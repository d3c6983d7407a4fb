import { beforeAll, describe, expect, it } from "vitest";
import { loadReaderModule } from "../../src/decode/wasm-loader.js";
import { HeapImage } from "../../src/decode/luma-read.js";
import { runStrategy } from "../../src/decode/strategy.js";
import { PassCosts } from "../../src/decode/pass-costs.js";
import { decodeSection } from "../../src/decode/options.js";
import { warmUp, warmUpFrame } from "../../src/decode/warm-up.js";

let img: HeapImage;
beforeAll(async () => {
  img = new HeapImage(await loadReaderModule());
});

const CAMERA = decodeSection.parse({}).passes;

describe("decode worker warm-up", () => {
  it("the clean frame is read by the first pass", () => {
    const out = runStrategy(img, { frame: warmUpFrame(false), passes: CAMERA, budgetMs: 1000 }, new PassCosts());
    expect(out.codes.map((c) => c.text)).toEqual(["checkpoint-gateway decode warm-up"]);
    expect(out.passes).toEqual(["tone"]);
  });

  it("the damaged frame is located, not read, and takes the rest of the camera cascade (crops, regrid, exposure passes)", () => {
    // The budget is not what this test is about: a fresh PassCosts learns from this thread's cold
    // first decodes, and on a loaded CI machine a later pass's estimate outgrew 1 s.
    const out = runStrategy(img, { frame: warmUpFrame(true), passes: CAMERA, budgetMs: 60_000 }, new PassCosts());
    expect(out.codes).toEqual([]);
    expect(out.candidates?.length).toBeGreaterThan(0);
    for (const p of CAMERA) expect(out.passes, p).toContain(p);
  });

  it("decodes both frames each round, and reads the clean one every time", () => {
    expect(warmUp(img, CAMERA, 3)).toBe(3);
    expect(warmUp(img, CAMERA, 0)).toBe(0);
  });
});
