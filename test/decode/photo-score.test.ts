import { describe, expect, it } from "vitest";
import { addScore, boxOf, consensusTexts, emptyTally, overlapOfSmaller, parseEngine, parseTruth, ratePct, scorePhoto } from "../../bench/lib/photo-score.js";

const sq = (x: number, y: number, s: number): [number, number][] => [
  [x, y],
  [x + s, y],
  [x + s, y + s],
  [x, y + s],
];

describe("photo scorer (BoofCV benchmark rule)", () => {
  it("overlap is measured against the smaller rectangle", () => {
    // 10x10 inside 100x100: intersection 100 = all of the smaller one.
    expect(overlapOfSmaller(boxOf(sq(0, 0, 100)), boxOf(sq(10, 10, 10)))).toBe(1);
    // Half of a 10x10 box overlaps.
    expect(overlapOfSmaller(boxOf(sq(0, 0, 10)), boxOf(sq(5, 0, 10)))).toBeCloseTo(0.5);
    expect(overlapOfSmaller(boxOf(sq(0, 0, 10)), boxOf(sq(20, 0, 10)))).toBe(0);
  });

  it("parses the dataset's truth (string decimals) and engine files", () => {
    const truth = parseTruth([{ x1: "10.5", y1: "20", x2: "110", y2: "20", x3: "110", y3: "120", x4: "10.5", y4: "120", text: "" }]);
    expect(truth).toEqual([{ x0: 10.5, y0: 20, x1: 110, y1: 120 }]);
    expect(() => parseTruth([{ x1: "a" }])).toThrow(/corner 1/);
    const e = parseEngine("ZXing", { results: [{ barcodeText: "HI", x1: 1, y1: 2, x2: 3, y2: 2, x3: 3, y3: 4, x4: 1, y4: 4 }, { barcodeText: "bad" }] });
    expect(e.codes).toEqual([{ text: "HI", corners: [[1, 2], [3, 2], [3, 4], [1, 4]] }]);
  });

  it("scores a tiny ground truth: reads, misses, misreads against the engines' consensus, unmatched", () => {
    // Two codes in a photo: A at (0,0) 100 px, B at (500,0) 100 px.
    const truth = [boxOf(sq(0, 0, 100)), boxOf(sq(500, 0, 100))];
    const engines = [
      parseEngine("Dynamsoft", { results: [{ barcodeText: "A", ...flat(sq(2, 2, 96)) }, { barcodeText: "B", ...flat(sq(500, 0, 100)) }] }),
      parseEngine("BoofCV", { results: [{ barcodeText: "A", ...flat(sq(0, 0, 100)) }] }),
      // Commercial-SDK-B's vote does not count: B has only one agreeing engine.
      parseEngine("Commercial-SDK-B", { results: [{ barcodeText: "B", ...flat(sq(500, 0, 100)) }] }),
    ];
    const consensus = consensusTexts(truth, engines);
    expect(consensus).toEqual(["A", undefined]);

    // Decoded at half size: corners are mapped back with scale 2.
    const right = scorePhoto(truth, consensus, [{ text: "A", corners: sq(0, 0, 50) }], 2);
    expect(right).toMatchObject({ codes: 2, read: 1, readMask: [true, false], misreads: 0, unmatched: 0 });

    // 15% overlap of the smaller box does not count as read; 25% does.
    expect(scorePhoto(truth, consensus, [{ text: "A", corners: sq(85, 0, 100) }]).read).toBe(0);
    expect(scorePhoto(truth, consensus, [{ text: "A", corners: sq(75, 0, 100) }]).read).toBe(1);

    // A wrong text on A is a misread (and still a read by the position rule); on B the rule
    // cannot judge (no consensus). A code far from both is unmatched.
    const s = scorePhoto(truth, consensus, [
      { text: "409519", corners: sq(30, 30, 20) },
      { text: "whatever", corners: sq(500, 0, 100) },
      { text: "X", corners: sq(900, 900, 50) },
    ]);
    expect(s).toMatchObject({ read: 2, misreads: 1, unmatched: 1 });

    const t = emptyTally();
    addScore(t, right);
    addScore(t, s);
    expect(t).toEqual({ photos: 2, codes: 4, read: 3, misreads: 1, unmatched: 1 });
    expect(ratePct(t)).toBe(75);
  });
});

function flat(c: [number, number][]) {
  return { x1: c[0]![0], y1: c[0]![1], x2: c[1]![0], y2: c[1]![1], x3: c[2]![0], y3: c[2]![1], x4: c[3]![0], y4: c[3]![1] };
}
