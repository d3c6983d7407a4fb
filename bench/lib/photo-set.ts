/**
 * Loads a folder in the layout of ../shared/testdata/boofcv-dev: CATEGORY/imageNNN.(jpg|png),
 * CATEGORY/imageNNN.truth.json, CATEGORY/engines/imageNNN.ENGINE.json. Photos are read lazily
 * (native ones are 3-12 MP); truth, engines and consensus texts are parsed up front.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import type { GrayImage } from "../../src/decode/image-file.js";
import { consensusTexts, parseEngine, parseTruth, type Box, type EngineResult } from "./photo-score.js";

export const PUBLISHED_ENGINES = ["Dynamsoft", "BoofCV", "ZXing", "ZBar", "OpenCV-WeChat", "Commercial-SDK-A", "Commercial-SDK-B"] as const;

export interface Photo {
  category: string;
  name: string;
  path: string;
  truth: Box[];
  engines: EngineResult[];
  consensus: (string | undefined)[];
}

export function isPhotoSet(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory() && readdirSync(dir).some((c) => existsSync(join(dir, c, "engines")));
}

export function loadPhotoSet(dir: string): Photo[] {
  const photos: Photo[] = [];
  for (const category of readdirSync(dir).sort()) {
    const cdir = join(dir, category);
    if (!statSync(cdir).isDirectory()) continue;
    for (const file of readdirSync(cdir).sort()) {
      const m = /^(.*)\.(jpe?g|png)$/i.exec(file);
      if (!m) continue;
      const name = m[1]!;
      const truthFile = join(cdir, `${name}.truth.json`);
      if (!existsSync(truthFile)) continue;
      const truth = parseTruth(JSON.parse(readFileSync(truthFile, "utf8")));
      const engines: EngineResult[] = [];
      for (const e of PUBLISHED_ENGINES) {
        const f = join(cdir, "engines", `${name}.${e}.json`);
        if (existsSync(f)) engines.push(parseEngine(e, JSON.parse(readFileSync(f, "utf8"))));
      }
      photos.push({ category, name, path: join(cdir, file), truth, engines, consensus: consensusTexts(truth, engines) });
    }
  }
  return photos;
}

export interface LoadedGray extends GrayImage {
  /** Original width / decoded width: multiplies decoded corners back to original pixels. */
  scale: number;
}

/**
 * The photo as 8-bit gray, either native or fit inside maxW x maxH (Lanczos, never enlarged),
 * as a 1080p camera would see the scene. EXIF orientation is not applied: truth corners are in
 * the stored pixel grid.
 */
export async function loadGray(path: string, fit?: { width: number; height: number }): Promise<LoadedGray> {
  let s = sharp(path, { limitInputPixels: 50_000_000 }).flatten({ background: "#ffffff" }).toColourspace("b-w");
  const meta = await sharp(path).metadata();
  if (fit) s = s.resize(fit.width, fit.height, { fit: "inside", withoutEnlargement: true, kernel: "lanczos3" });
  const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) throw new Error(`${path}: expected 1 gray channel, got ${info.channels}`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), scale: (meta.width ?? info.width) / info.width };
}
