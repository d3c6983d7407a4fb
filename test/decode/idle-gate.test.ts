import { describe, expect, it } from "vitest";
import { DEFAULT_IDLE_CASCADE_EVERY_MS, idleBudget, IdleGate } from "../../src/decode/idle-gate.js";
import { Prefilter } from "../../src/decode/prefilter.js";
import { blankFrame, qrFrame } from "./helpers.js";

const at = <T extends { receivedAt: number }>(f: T, t: number): T => ({ ...f, receivedAt: t });
const gate = () => new IdleGate(new Prefilter(), 1000);

describe("IdleGate", () => {
  it("an empty scene gets the slow schedule only: a decode per second, the cascade every few seconds", () => {
    const g = gate();
    const blank = blankFrame("cam", 1, 640, 480);
    const decisions: string[] = [];
    for (let t = 0; t <= DEFAULT_IDLE_CASCADE_EVERY_MS + 1000; t += 100) decisions.push(g.admit(at(blank, t), false).decision);
    expect(decisions[0]).toBe("slow-full");
    expect(decisions.filter((d) => d === "skip")).toHaveLength(decisions.length - 7);
    expect(decisions.filter((d) => d === "slow")).toHaveLength(5);
    expect(decisions.filter((d) => d === "slow-full")).toHaveLength(2);
    expect(decisions[10]).toBe("slow");
    expect(decisions[DEFAULT_IDLE_CASCADE_EVERY_MS / 100]).toBe("slow-full");
  });

  it("a code appearing gets the cascade at once, a lone finder-like shape the first pass; the same still shape is not paid for again", () => {
    const g = gate();
    g.admit(at(blankFrame("cam", 1, 640, 480), 0), false);
    const code = qrFrame("IDLE-GATE", { cameraId: "cam", module: 4, x0: 100, y0: 80 });
    expect(g.admit(at(code, 66), false)).toMatchObject({ decision: "full", prefiltered: true });
    expect(g.admit(at(code, 133), false).decision).toBe("skip");
    // Still there when the slow schedule comes round: decoded by it.
    expect(g.admit(at(code, 1100), false).decision).toMatch(/^slow/);
    // The code moved (a hand holding it): a new chance, worth paying for again.
    expect(g.admit(at(qrFrame("IDLE-GATE", { cameraId: "cam", module: 4, x0: 400, y0: 300 }), 1200), false).decision).toBe("full");
    expect(g.admit(at(qrFrame("IDLE-GATE", { cameraId: "cam", module: 4, x0: 404, y0: 300 }), 1266), false).decision).toBe("full");
    // One finder pattern alone (the rest of the symbol hidden): the first pass only.
    const lone = qrFrame("IDLE-GATE", { cameraId: "lone", module: 4, x0: 100, y0: 80 });
    for (let y = 0; y < lone.height; y++) lone.data.fill(230, y * lone.stride + 100 + 9 * 4, y * lone.stride + lone.width);
    for (let y = 80 + 9 * 4; y < lone.height; y++) lone.data.fill(230, y * lone.stride, (y + 1) * lone.stride);
    expect(g.admit(at(lone, 66), false)).toMatchObject({ decision: "first", hits: 1 });
    expect(g.admit(at(lone, 133), false).decision).toBe("skip");
  });

  it("a code taken away and shown again at the very same place is a new presentation; a still shape missed on one frame stays tried", () => {
    const g = gate();
    const blank = blankFrame("cam", 1, 640, 480);
    g.admit(at(blank, 0), false);
    const code = qrFrame("IDLE-GATE", { cameraId: "cam", module: 4, x0: 100, y0: 80 });
    expect(g.admit(at(code, 66), false).decision).toBe("full");
    expect(g.admit(at(code, 133), false).decision).toBe("skip");
    // One frame without it (the prefilter missed it, or a hand passed over it), then back: still the same shape.
    expect(g.admit(at(blank, 200), false).decision).toBe("skip");
    expect(g.admit(at(code, 266), false).decision).toBe("skip");
    // Taken away for two admitted frames, then the same card in the same holder: decoded at once.
    g.admit(at(blank, 333), false);
    g.admit(at(blank, 400), false);
    expect(g.admit(at(code, 466), false).decision).toBe("full");
    expect(g.admit(at(code, 533), false).decision).toBe("skip");
    // Taken away (one admitted frame; the empty scene then stays still, so the change gate admits
    // nothing more) and shown again 2.8 s later: a new presentation too.
    g.admit(at(blank, 600), false);
    expect(g.admit(at(code, 3400), false).decision).toBe("full");
    expect(g.admit(at(code, 3466), false).decision).toBe("skip");
    // While its code was decided, the lane's own presence check (not the gate) saw it leave.
    g.sawEmpty("cam");
    expect(g.admit(at(code, 6400), false).decision).toBe("full");
  });

  it("a symbol located on the camera's recent frames buys the full cascade without a prefilter scan", () => {
    const g = gate();
    expect(g.admit(at(blankFrame("cam", 1, 640, 480), 0), true)).toEqual({ decision: "full", hits: 0, prefiltered: false });
    // That counted as the slow schedule's decode and cascade.
    expect(g.admit(at(blankFrame("cam", 2, 640, 480), 500), false).decision).toBe("skip");
  });

  it("keeps cameras apart and never stalls when the clock steps back", () => {
    const g = gate();
    expect(g.admit(at(blankFrame("a", 1, 640, 480), 5000), false).decision).toBe("slow-full");
    expect(g.admit(at(blankFrame("b", 1, 640, 480), 5000), false).decision).toBe("slow-full");
    expect(g.admit(at(blankFrame("a", 2, 640, 480), 5100), false).decision).toBe("skip");
    expect(g.admit(at(blankFrame("a", 3, 640, 480), 10), false).decision).not.toBe("skip");
  });

  it("maps decisions onto budgets: the first pass only, the full budget, or the governor's", () => {
    expect(idleBudget("first", 60)).toBe(0);
    expect(idleBudget("slow", 60)).toBe(0);
    expect(idleBudget("slow-full", 60)).toBe(60);
    expect(idleBudget("full", 60)).toBeUndefined();
  });
});
