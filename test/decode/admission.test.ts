import { describe, expect, it } from "vitest";
import { FrameAdmission, WEAK_FULL_EVERY_MS } from "../../src/decode/admission.js";
import { CameraStats } from "../../src/decode/camera-stats.js";
import { SymbolTracker } from "../../src/decode/track.js";
import { blankFrame, qrFrame } from "./helpers.js";

const make = (opts: Partial<ConstructorParameters<typeof FrameAdmission>[0]> = {}) => {
  const stats = new CameraStats();
  return { stats, adm: new FrameAdmission({ budgetMs: 60, escalateIntervalMs: 250, ...opts }, stats, new SymbolTracker()) };
};

describe("FrameAdmission", () => {
  it("takes a frame with a pending presentation, or from a one-off caller, as active without a prefilter look", () => {
    const { adm, stats } = make();
    expect(adm.classify(blankFrame(), { view: "pending" }, 0)).toEqual({ cls: "active" });
    expect(adm.classify(blankFrame(), {}, 0)).toEqual({ cls: "active" });
    expect(stats.camera("cam1").prefilterHits).toBe(0);
  });

  it("with nothing in view, skips a frame without a finder pattern after the slow schedule's first look, and buys the cascade for a code", () => {
    const { adm } = make();
    expect(adm.classify(blankFrame("cam1", 1), { view: "none" }, 0)?.cls).toBe("idle");
    expect(adm.classify(blankFrame("cam1", 2), { view: "none" }, 10)).toBeUndefined();
    expect(adm.classify(qrFrame("HELLO", { seq: 3 }), { view: "none" }, 20)).toMatchObject({ cls: "active" });
  });

  it("rations the full cascade of watch frames (only decided codes in view) to one per WEAK_FULL_EVERY_MS per camera", () => {
    const { adm } = make();
    const f = blankFrame();
    expect(adm.budgetAtDispatch(f, { cls: "watch" }, 1000, false)).toBe(60);
    expect(adm.budgetAtDispatch(f, { cls: "watch" }, 1000 + WEAK_FULL_EVERY_MS - 1, false)).toBe(0);
    expect(adm.budgetAtDispatch(blankFrame("cam2"), { cls: "watch" }, 1001, false)).toBe(60);
    expect(adm.budgetAtDispatch(f, { cls: "watch" }, 1000 + WEAK_FULL_EVERY_MS, false)).toBe(60);
  });

  it("keeps an idle camera's fixed budget and counts it as slow-scheduled", () => {
    const { adm, stats } = make();
    expect(adm.budgetAtDispatch(blankFrame(), { cls: "idle", budgetMs: 0 }, 0, true)).toBe(0);
    expect(stats.camera("cam1").slowScheduled).toBe(1);
  });

  it("sends no module evidence when votes or tracking are off", () => {
    expect(make({ votes: false }).adm.evidenceFor(blankFrame())).toEqual([]);
    expect(make({ track: false }).adm.evidenceFor(blankFrame())).toEqual([]);
  });
});
