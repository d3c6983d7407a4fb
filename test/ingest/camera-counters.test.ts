import { describe, expect, it } from "vitest";
import { CameraCounters } from "../../src/ingest/camera-counters.js";

const HOUR = 3_600_000;

describe("CameraCounters", () => {
  it("numbers frames read, counts drops and burst drops apart", () => {
    const c = new CameraCounters();
    expect([c.frameRead(0), c.frameRead(100), c.frameRead(200)]).toEqual([1, 2, 3]);
    c.dropped(true);
    c.dropped(false);
    c.dropped(true);
    expect(c.snapshot(200)).toMatchObject({ framesIn: 3, framesDropped: 3, burstDropped: 2 });
  });

  it("keeps seq increasing across a rate reset (a new process)", () => {
    const c = new CameraCounters();
    c.frameRead(0);
    c.frameRead(100);
    c.resetRate();
    expect(c.snapshot(100).fpsIn).toBe(0);
    expect(c.frameRead(200)).toBe(3);
  });

  it("reports the age of the last frame read, none before the first, never negative", () => {
    const c = new CameraCounters();
    expect(c.lastFrameAgeMs(1000)).toBeUndefined();
    c.frameRead(1000);
    expect(c.lastFrameAgeMs(1250)).toBe(250);
    expect(c.lastFrameAgeMs(900)).toBe(0);
  });

  it("counts reconnects and stalls in the last hour and since start", () => {
    const c = new CameraCounters();
    c.reconnected(0);
    c.reconnected(HOUR - 1000);
    c.stalled(10);
    const s = c.snapshot(HOUR + 500);
    expect(s).toMatchObject({ reconnectsLastHour: 1, reconnectsTotal: 2, stallsLastHour: 0, stallsTotal: 1 });
  });

  it("counts corrupt warnings and consumer failures; consumerFailed returns the running total", () => {
    const c = new CameraCounters();
    c.corrupt();
    c.corrupt();
    expect([c.consumerFailed(), c.consumerFailed()]).toEqual([1, 2]);
    expect(c.snapshot(0)).toMatchObject({ corruptWarnings: 2, consumerErrors: 2 });
  });

  it("counts processes given up after SIGKILL, outside the snapshot", () => {
    const c = new CameraCounters();
    expect(c.abandonedTotal).toBe(0);
    c.abandonedProcess();
    c.abandonedProcess();
    expect(c.abandonedTotal).toBe(2);
    expect(c.snapshot(0)).not.toHaveProperty("ffmpegAbandoned");
  });

  it("lists the counters in the order stats() has always shown them", () => {
    expect(Object.keys(new CameraCounters().snapshot(0))).toEqual([
      "fpsIn",
      "framesIn",
      "framesDropped",
      "burstDropped",
      "reconnectsLastHour",
      "stallsLastHour",
      "reconnectsTotal",
      "stallsTotal",
      "corruptWarnings",
      "consumerErrors",
    ]);
  });
});
