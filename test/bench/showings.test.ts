import { describe, expect, it } from "vitest";
import { dist, firstToVerdict, showingStats, ShowingTracker, slotWaitEarlyLate, type Showing } from "../../bench/lib/showings.js";
import { segmentShows } from "../../bench/lib/e2e-clips.js";

describe("bench:e2e showings", () => {
  it("finds the frames of each showing in a clip's segments", () => {
    expect(segmentShows([{ seconds: 2.8 }, { text: "P", seconds: 1.2 }, { seconds: 2.8 }, { text: "P", seconds: 1.2 }], 15)).toEqual({ shows: [[42, 60], [102, 120]], frames: 120 });
  });

  it("starts a showing at the first frame in a show range, once, and only records it while measuring", () => {
    const t = new ShowingTracker(new Map([["cam-0", { kind: "generated" as const, shows: [[10, 20], [30, 40]] as Array<[number, number]> }]]));
    t.frame("cam-0", 5, 100, true);
    expect(t.inView("cam-0")).toBeUndefined();
    t.frame("cam-0", 12, 200, false); // before the window: tracked, not recorded
    t.frame("cam-0", 13, 210, true);
    expect(t.showings).toHaveLength(0);
    expect(t.inView("cam-0")).toMatchObject({ show: 0, firstAt: 200 });
    t.frame("cam-0", undefined, 220, true); // unreadable clock changes nothing
    expect(t.inView("cam-0")?.show).toBe(0);
    t.frame("cam-0", 25, 300, true);
    expect(t.inView("cam-0")).toBeUndefined();
    t.frame("cam-0", 31, 400, true);
    t.frame("cam-0", 32, 410, true);
    t.frame("cam-9", 31, 410, true); // a camera without a clip
    expect(t.showings).toEqual([{ camera: "cam-0", kind: "generated", show: 1, firstAt: 400 }]);
  });

  it("adds p90 to the summary", () => {
    const d = dist([...Array(10).keys()].map((i) => (10 - i) * 10));
    expect(d.p90).toBe(90);
    expect(d.median).toBe(50);
    expect(d.max).toBe(100);
  });

  it("summarises showings: latencies of the read ones, per kind, per photo, slowest first", () => {
    const done: Showing[] = [
      { camera: "cam-0", kind: "generated", show: 0, firstAt: 0, verdictAt: 40, frameToVerdictMs: 30 },
      { camera: "cam-1", kind: "photos", show: 2, firstAt: 100, verdictAt: 400, frameToVerdictMs: 50, readDecode: { queueMs: 5, decodeMs: 20, doneAt: 390 } },
      { camera: "cam-1", kind: "photos", show: 1, firstAt: 500 },
      { camera: "cam-1", kind: "photos", show: 2, firstAt: 900, verdictAt: 1000 },
    ];
    expect(firstToVerdict(done)).toEqual([40, 300, 100]);
    const s = showingStats(done);
    expect(s.showings).toBe(4);
    expect(s.read).toBe(3);
    expect(s.readByKind).toEqual({ generated: { showings: 1, read: 1 }, photos: { showings: 3, read: 2 } });
    expect(s.firstToVerdictByKind.photos!.n).toBe(2);
    expect(s.photoLatencyByShow).toEqual({ 1: [null], 2: [300, 100] });
    expect(s.slowest.map((x) => x.firstToVerdictMs)).toEqual([300, 100, 40]);
    expect(s.slowest[0]).toMatchObject({ readQueueMs: 5, readDecodeMs: 20, decodedToVerdictMs: 10 });
    expect(s.slowest[2]).not.toHaveProperty("readQueueMs");
  });

  it("compares the slot wait of the first and the last third of the window (the middle third left out)", () => {
    const q = [{ at: 1000, ms: 2 }, { at: 1100, ms: 4 }, { at: 1800, ms: 100 }, { at: 2700, ms: 30 }, { at: 2900, ms: 50 }];
    expect(slotWaitEarlyLate(q, 1000, 2000)).toEqual({ early: 2, late: 30 });
  });
});
