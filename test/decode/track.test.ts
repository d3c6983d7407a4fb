import { describe, expect, it } from "vitest";
import { SymbolTracker } from "../../src/decode/track.js";
import type { DecodedCode, Point } from "../../src/core/types.js";

const frame = (receivedAt: number, width = 1920, height = 1080) => ({ width, height, receivedAt });
/** An axis-aligned square quad of side s with top-left (x, y). */
const quad = (x: number, y: number, s: number): [Point, Point, Point, Point] => [[x, y], [x + s, y], [x + s, y + s], [x, y + s]];
const code = (x: number, y: number, s: number): DecodedCode => ({ text: "X", bytes: new Uint8Array(), format: "QRCode", corners: quad(x, y, s) });

describe("SymbolTracker", () => {
  it("turns a located-but-undecoded symbol into a crop hint around it for the next frame", () => {
    const t = new SymbolTracker({ margin: 0.5, marginPer100Ms: 0 });
    t.observe("cam", frame(0), [], [quad(1000, 500, 100)]);
    expect(t.hints("cam", frame(66))).toEqual([{ x: 950, y: 450, w: 200, h: 200 }]);
    // Per camera: another camera gets nothing.
    expect(t.hints("other", frame(66))).toEqual([]);
  });

  it("follows a moving symbol: matches it across frames and predicts with its velocity", () => {
    const t = new SymbolTracker({ margin: 0.5, marginPer100Ms: 0 });
    t.observe("cam", frame(0), [], [quad(1000, 500, 100)]);
    t.observe("cam", frame(100), [], [quad(1020, 500, 100)]);
    expect(t.tracks("cam")).toHaveLength(1);
    expect(t.tracks("cam")[0]!.seen).toBe(2);
    // Smoothed velocity: half of 20 px / 100 ms = 0.1 px/ms; 100 ms later the hint moved 10 px on.
    const [h] = t.hints("cam", frame(200));
    expect(h).toEqual({ x: 980, y: 450, w: 200, h: 200 });
  });

  it("widens the hint the longer the symbol was not seen, and drops it after the ttl", () => {
    const t = new SymbolTracker({ margin: 0.5, marginPer100Ms: 0.1, ttlMs: 500 });
    t.observe("cam", frame(0), [], [quad(1000, 500, 100)]);
    const near = t.hints("cam", frame(100))[0]!;
    const later = t.hints("cam", frame(400))[0]!;
    expect(later.w).toBeGreaterThan(near.w);
    expect(t.hints("cam", frame(501))).toEqual([]);
    // An empty frame after the ttl prunes it for good.
    t.observe("cam", frame(600), [], []);
    expect(t.tracks("cam")).toEqual([]);
  });

  it("ends a track when the symbol is decoded, and ignores candidates inside decoded codes", () => {
    const t = new SymbolTracker();
    t.observe("cam", frame(0), [], [quad(1000, 500, 100)]);
    t.observe("cam", frame(66), [code(995, 498, 104)], [quad(1000, 500, 100)]);
    expect(t.tracks("cam")).toEqual([]);
    expect(t.hints("cam", frame(133))).toEqual([]);
  });

  it("keeps separate symbols apart and at most maxTracks, most recent first", () => {
    const t = new SymbolTracker({ maxTracks: 2 });
    t.observe("cam", frame(0), [], [quad(100, 100, 80)]);
    t.observe("cam", frame(66), [], [quad(800, 400, 80), quad(1500, 700, 80)]);
    const tracks = t.tracks("cam");
    expect(tracks).toHaveLength(2);
    expect(tracks.map((x) => Math.round(x.cx)).sort((a, b) => a - b)).toEqual([840, 1540]);
  });

  it("forgets a camera whose frame size changed, and ignores degenerate quads", () => {
    const t = new SymbolTracker();
    t.observe("cam", frame(0), [], [quad(100, 100, 80), [[1, 1]]]);
    expect(t.tracks("cam")).toHaveLength(1);
    expect(t.hints("cam", frame(66, 1280, 720))).toEqual([]);
    t.observe("cam", frame(66, 1280, 720), [], []);
    expect(t.tracks("cam")).toEqual([]);
  });
});
