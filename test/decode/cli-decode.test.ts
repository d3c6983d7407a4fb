import { beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import { generateFrames, type ManifestEntry } from "../../scripts/gen-frames.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../..");

/** Runs the built CLI like a user would; resolves even on a non-zero exit. */
async function cli(...args: string[]): Promise<{ code: number; lines: any[]; stderr: string }> {
  try {
    const r = await run(process.execPath, ["bin/checkpoint-gateway.js", "decode", ...args], { cwd: root });
    return { code: 0, lines: parseLines(r.stdout), stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, lines: parseLines(err.stdout), stderr: err.stderr };
  }
}
const parseLines = (s: string) => s.split("\n").filter(Boolean).map((l) => JSON.parse(l));

function near(actual: number[][], expected: number[][], tol: number): boolean {
  return actual.every((p, i) => Math.hypot(p[0]! - expected[i]![0]!, p[1]! - expected[i]![1]!) <= tol);
}

let dir: string;
let twoCodes: ManifestEntry & { path: string };
let tmp: string;

beforeAll(async () => {
  const m = await generateFrames({ sizes: [[1280, 720]], variants: 1, categories: ["two-codes"] });
  dir = m.dir;
  twoCodes = { ...m.frames[0]!, path: join(m.dir, m.frames[0]!.file) };
  tmp = mkdtempSync(join(tmpdir(), "gw-cli-decode-"));
}, 120_000);

describe("checkpoint-gateway decode --json", () => {
  it("prints one JSON object per file with text, bytes and corners; errors for unreadable files", async () => {
    const garbage = join(tmp, "garbage.png");
    writeFileSync(garbage, Buffer.from("not an image at all"));
    const { code, lines } = await cli("--json", twoCodes.path, join(tmp, "missing.png"), garbage);
    expect(code).toBe(1);
    expect(lines).toHaveLength(3);
    const [ok, missing, bad] = lines;
    expect(ok).toMatchObject({ file: twoCodes.path, width: 1280, height: 720 });
    expect(Object.keys(ok).sort()).toEqual(["codes", "file", "height", "ms", "width"]);
    expect(typeof ok.ms).toBe("number");
    expect(ok.codes).toHaveLength(2);
    for (const exp of twoCodes.codes) {
      const got = ok.codes.find((c: any) => c.text === exp.text);
      expect(got, exp.text.slice(0, 20)).toBeDefined();
      expect(Object.keys(got).sort()).toEqual(["bytesBase64", "corners", "format", "text"]);
      expect(got.format).toBe("QRCode");
      expect(Buffer.from(got.bytesBase64, "base64").toString("utf8")).toBe(exp.text);
      expect(near(got.corners, exp.corners, 3)).toBe(true);
    }
    expect(missing).toEqual({ file: join(tmp, "missing.png"), error: expect.stringMatching(/^GW_IMAGE_UNREADABLE: /) });
    expect(bad).toEqual({ file: garbage, error: expect.stringMatching(/^GW_IMAGE_UNREADABLE: /) });
  });

  it("reports corners in the stored pixel grid of a 12 MP JPEG whose EXIF says rotate 90", async () => {
    // The code sits at (x, y) of the stored grid; a viewer honouring EXIF would show it elsewhere.
    const photo = join(tmp, "photo-exif6.jpg");
    const [ox, oy] = [1500, 1200];
    await sharp(twoCodes.path)
      .extend({ left: ox, top: oy, right: 4032 - 1280 - ox, bottom: 3024 - 720 - oy, background: "#808080" })
      .jpeg({ quality: 92 })
      .withMetadata({ orientation: 6 })
      .toFile(photo);
    const { code, lines } = await cli("--json", photo);
    expect(code).toBe(0);
    expect(lines[0]).toMatchObject({ width: 4032, height: 3024 });
    for (const exp of twoCodes.codes) {
      const got = lines[0].codes.find((c: any) => c.text === exp.text);
      expect(got).toBeDefined();
      expect(near(got.corners, exp.corners.map(([x, y]) => [x + ox, y + oy]), 4)).toBe(true);
    }
  });

  it("--as-camera decodes the file fit into the default camera frame with the camera defaults, corners in file pixels", async () => {
    // A 4K image: the camera path sees it at 1920x1080 (half size).
    const big = join(tmp, "uhd.png");
    const [ox, oy] = [900, 500];
    await sharp(twoCodes.path)
      .resize(2560, 1440, { kernel: "nearest" })
      .extend({ left: ox, top: oy, right: 3840 - 2560 - ox, bottom: 2160 - 1440 - oy, background: "#808080" })
      .png()
      .toFile(big);
    const { code, lines } = await cli("--json", "--as-camera", big);
    expect(code).toBe(0);
    const [out] = lines;
    expect(out).toMatchObject({ file: big, width: 3840, height: 2160, frame: { width: 1920, height: 1080, passes: ["tone", "crop", "invert", "regrid", "darken", "lighten", "denoise"], budgetMs: 60 } });
    expect(out.codes).toHaveLength(2);
    for (const exp of twoCodes.codes) {
      const got = out.codes.find((c: any) => c.text === exp.text);
      expect(got, exp.text.slice(0, 20)).toBeDefined();
      // 2x up for the file, back through the 2x fit: corners within a few file pixels.
      expect(near(got.corners, exp.corners.map(([x, y]) => [x * 2 + ox, y * 2 + oy]), 8)).toBe(true);
    }
  });

  it("exits 64 with usage on no files or an unknown option", async () => {
    expect((await cli()).code).toBe(64);
    const r = await cli("--bogus", "x.png");
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("usage:");
  });

  it("prints a readable line per file without --json", async () => {
    const r = await run(process.execPath, ["bin/checkpoint-gateway.js", "decode", twoCodes.path], { cwd: root });
    expect(r.stdout).toContain(`${twoCodes.path}: 1280x720, 2 code(s)`);
    expect(dir).toBeTruthy();
  });
});
