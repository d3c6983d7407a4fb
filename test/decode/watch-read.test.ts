import { beforeAll, describe, expect, it } from "vitest";
import { loadReaderModule } from "../../src/decode/wasm-loader.js";
import { HeapImage } from "../../src/decode/luma-read.js";
import { PassCosts } from "../../src/decode/pass-costs.js";
import { inside, onlyAtLastCode, runCropFirst } from "../../src/decode/watch-read.js";
import { qrFrame } from "./helpers.js";

let img: HeapImage;
beforeAll(async () => {
  img = new HeapImage(await loadReaderModule());
});

describe("onlyAtLastCode (which watch frames read the last code's crop first)", () => {
  const hint = { x: 100, y: 80, w: 200, h: 200 };
  it("is true only when there are finder patterns and all lie inside the crop", () => {
    expect(inside({ x: 100, y: 80, module: 3 }, hint)).toBe(true);
    expect(inside({ x: 300, y: 150, module: 3 }, hint)).toBe(false);
    expect(onlyAtLastCode([{ x: 120, y: 90, module: 3 }, { x: 250, y: 90, module: 3 }], hint)).toBe(true);
    expect(onlyAtLastCode([{ x: 120, y: 90, module: 3 }, { x: 500, y: 400, module: 3 }], hint)).toBe(false);
    expect(onlyAtLastCode([], hint)).toBe(false);
    expect(onlyAtLastCode([{ x: 120, y: 90, module: 3 }], undefined)).toBe(false);
  });
});

describe("runCropFirst", () => {
  const passes = ["fast", "crop", "harder"] as const;
  it("reads a held code from the crop alone, without a full-frame pass", () => {
    const frame = qrFrame("HELD-CODE", { x0: 200, y0: 150 });
    const out = runCropFirst(img, { frame, passes, budgetMs: 0, hint: { x: 150, y: 100, w: 220, h: 220 } }, new PassCosts());
    expect(out.codes.map((c) => c.text)).toEqual(["HELD-CODE"]);
    expect(out).toMatchObject({ passes: ["crop"], foundBy: "crop" });
  });

  it("falls back to the normal cascade when the code moved away from the crop", () => {
    const frame = qrFrame("MOVED", { x0: 400, y0: 300 });
    const out = runCropFirst(img, { frame, passes, budgetMs: 0, hint: { x: 10, y: 10, w: 150, h: 150 } }, new PassCosts());
    expect(out.codes.map((c) => c.text)).toEqual(["MOVED"]);
    expect(out.passes).toEqual(["crop", "fast"]);
    expect(out.foundBy).toBe("fast");
  });

  it("is the normal cascade without a hint", () => {
    const out = runCropFirst(img, { frame: qrFrame("NO-HINT"), passes, budgetMs: 0 }, new PassCosts());
    expect(out).toMatchObject({ passes: ["fast"], foundBy: "fast" });
  });
});
