import { describe, expect, it } from "vitest";
import { FrameBuffers } from "./frame-buffers.js";

describe("FrameBuffers", () => {
  it("hands back a returned buffer of the same size, and new ones otherwise", () => {
    const fb = new FrameBuffers(2);
    const a = fb.take(16);
    fb.give(a);
    expect(fb.take(16)).toBe(a);
    expect(fb.take(16)).not.toBe(a);
    expect(fb.take(32).byteLength).toBe(32);
    expect(fb.reused).toBe(1);
  });

  it("ignores views, detached buffers, and more than its bound", () => {
    const fb = new FrameBuffers(1);
    const big = new Uint8Array(32);
    fb.give(big.subarray(0, 16));
    expect(fb.take(16)).not.toBe(big);
    const t = new Uint8Array(8);
    structuredClone(t.buffer, { transfer: [t.buffer] });
    fb.give(t); // detached: byteLength 0
    const x = new Uint8Array(8), y = new Uint8Array(8);
    fb.give(x);
    fb.give(y);
    expect(fb.take(8)).toBe(x);
    expect(fb.take(8)).not.toBe(y);
  });
});
