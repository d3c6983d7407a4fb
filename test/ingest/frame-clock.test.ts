import { describe, expect, it } from "vitest";
import { clipFrameAgeMs, drawFrameClock, readFrameClock } from "../support/rtsp/index.js";

describe("frame clock stripe (shared RTSP tooling)", () => {
  it("round-trips indices and rejects a damaged stripe", () => {
    const width = 640;
    const height = 360;
    for (const index of [0, 1, 99, 1234, 65535]) {
      const data = new Uint8Array(width * height).fill(200);
      drawFrameClock(data, width, height, index);
      expect(readFrameClock({ data, width, height, stride: width })).toBe(index);
    }
    const data = new Uint8Array(width * height).fill(200);
    drawFrameClock(data, width, height, 77);
    // 77 has bit 0 set (a white cell): paint that cell black.
    for (let y = height - 20; y < height; y++) data.fill(16, y * width, y * width + 32);
    expect(readFrameClock({ data, width, height, stride: width })).toBeUndefined();
  });

  it("computes the age of a looping clip frame", () => {
    const base = { feedStartedAt: 1000, fps: 10, frameCount: 100 };
    expect(clipFrameAgeMs({ ...base, index: 5, receivedAt: 1000 + 500 + 250 })).toBeCloseTo(250);
    // Second loop: frame 5 was sent again at 1000 + 10 s + 0.5 s.
    expect(clipFrameAgeMs({ ...base, index: 5, receivedAt: 1000 + 10_500 + 300 })).toBeCloseTo(300);
  });
});
