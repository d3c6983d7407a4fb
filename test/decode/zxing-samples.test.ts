import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeGray, readGrayImage } from "../../src/decode/image-file.js";
import { QUARTER_TURNS, rotateGray } from "../../bench/lib/rotate.js";

const root = join(import.meta.dirname, "../../test-fixtures/external/zxing-cpp");
const images = (dir: string) => readdirSync(join(root, dir)).filter((f) => /\.(png|jpe?g|webp)$/i.test(f)).sort();

function expected(dir: string, file: string): { text?: string; bytes?: Buffer } {
  const base = join(root, dir, file.replace(/\.[^.]+$/, ""));
  return {
    ...(existsSync(`${base}.txt`) ? { text: readFileSync(`${base}.txt`, "utf8") } : {}),
    ...(existsSync(`${base}.bin`) ? { bytes: readFileSync(`${base}.bin`) } : {}),
  };
}

// Upstream minimum pass counts per rotation (the "slow" = tryHarder figures; see SOURCE.md).
const minimum: Record<string, number> = { "qrcode-1": 8, "qrcode-2": 53, "qrcode-3": 18, "qrcode-4": 15, "qrcode-5": 16, "qrcode-6": 15 };

describe("zxing-cpp blackbox samples", () => {
  for (const [dir, min] of Object.entries(minimum)) {
    it(`${dir}: at least ${min} of ${images(dir).length} read correctly at 0/90/180/270 degrees`, async () => {
      const passed: Record<number, number> = { 0: 0, 90: 0, 180: 0, 270: 0 };
      for (const file of images(dir)) {
        const gray = await readGrayImage(join(root, dir, file));
        const want = expected(dir, file);
        for (const deg of QUARTER_TURNS) {
          const { codes } = await decodeGray(rotateGray(gray, deg));
          const ok = codes.some((c) => (want.bytes ? Buffer.from(c.bytes).equals(want.bytes) : false) || (want.text !== undefined && c.text === want.text));
          if (ok) passed[deg]!++;
        }
      }
      for (const deg of [0, 90, 180, 270]) expect(passed[deg], `${dir} at ${deg} degrees`).toBeGreaterThanOrEqual(min);
    });
  }

  for (const dir of ["falsepositives-1", "falsepositives-2"]) {
    it(`${dir}: no image yields a code`, async () => {
      const found: string[] = [];
      for (const file of images(dir)) {
        const { codes } = await decodeGray(await readGrayImage(join(root, dir, file)));
        if (codes.length > 0) found.push(file);
      }
      expect(found).toEqual([]);
    });
  }
});
