import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selectPresentations } from "../../bench/clips.js";

const corners = (x: number, y: number, s: number) => ({ x1: x, y1: y, x2: x + s, y2: y, x3: x + s, y3: y + s, x4: x, y4: y + s });
const truth = (x: number, y: number, s: number) => Object.fromEntries(Object.entries(corners(x, y, s)).map(([k, v]) => [k, String(v)]));

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "gw-clips-select-"));
  const cat = join(dir, "glare");
  mkdirSync(join(cat, "engines"), { recursive: true });
  const photo = (name: string, gt: object[], engines: Record<string, { text: string; x: number; y: number; s: number }[]>) => {
    writeFileSync(join(cat, `${name}.jpg`), "");
    writeFileSync(join(cat, `${name}.truth.json`), JSON.stringify(gt));
    for (const [engine, results] of Object.entries(engines))
      writeFileSync(join(cat, "engines", `${name}.${engine}.json`), JSON.stringify({ results: results.map((r) => ({ barcodeText: r.text, ...corners(r.x, r.y, r.s) })) }));
  };
  // One code, two engines agree, a third disagrees: the majority text, flagged.
  photo("image001", [truth(100, 100, 200)], { Dynamsoft: [{ text: "A", x: 105, y: 100, s: 200 }], BoofCV: [{ text: "A", x: 100, y: 95, s: 190 }], ZBar: [{ text: "B", x: 100, y: 100, s: 200 }] });
  // One code, but the only engine result is elsewhere in the photo (no overlap): not read by any engine.
  photo("image002", [truth(100, 100, 200)], { Dynamsoft: [{ text: "C", x: 900, y: 900, s: 100 }] });
  // Two codes: not a single presentation.
  photo("image003", [truth(100, 100, 200), truth(500, 500, 200)], { Dynamsoft: [{ text: "D", x: 100, y: 100, s: 200 }] });
  // One code, engines returned nothing.
  photo("image004", [truth(100, 100, 200)], { Dynamsoft: [] });
  // One code, tie between two texts: the engine listed first (Dynamsoft) wins.
  photo("image005", [truth(10, 10, 50)], { ZXing: [{ text: "Z", x: 10, y: 10, s: 50 }], Dynamsoft: [{ text: "Y", x: 12, y: 10, s: 50 }] });
  return dir;
}

describe("clips bench: which photos become presentations", () => {
  it("takes photos with exactly one code that an engine read where the ground truth is, with the engines' text", () => {
    const got = selectPresentations(folder());
    expect(got.map((p) => [p.name, p.text, p.disagreement])).toEqual([
      ["image001", "A", true],
      ["image005", "Y", true],
    ]);
    expect(got[0]!.engines).toEqual(["Dynamsoft", "BoofCV"]);
    expect(got[0]!.category).toBe("glare");
  });
});
