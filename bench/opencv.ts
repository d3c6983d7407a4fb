/**
 * `node dist/bench/opencv.js [DIR]` (#9 item 4): OpenCV.js 4.12 (`@techstark/opencv-js`) QR
 * detectors on the real photos at fit-1080, alone and as a second detector whose quads feed our
 * crop pass on photos where our camera defaults read nothing. One preallocated `cv.Mat` per frame
 * size, written through `mat.data` (the heap view is taken fresh each time, so heap growth cannot
 * leave a stale view). Writes bench/results/decode-opencv.json. Measures; decides nothing.
 */
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { decodeSection } from "../src/decode/options.js";
import { loadReaderModule } from "../src/decode/wasm-loader.js";
import { HeapImage } from "../src/decode/luma-read.js";
import { runStrategy } from "../src/decode/strategy.js";
import { PassCosts } from "../src/decode/pass-costs.js";
import { boundsAround } from "../src/decode/preprocess.js";
import type { DecodedCode } from "../src/core/types.js";
import { scorePhoto, type Returned } from "./lib/photo-score.js";
import { isPhotoSet, loadGray, loadPhotoSet } from "./lib/photo-set.js";
import { quantile, writeResults } from "./lib/stats.js";

const dir = process.argv[2] ?? "../shared/testdata/boofcv-dev";
if (!isPhotoSet(dir)) {
  console.log(`opencv bench: ${dir} absent, skipped`);
  process.exit(0);
}
const require = createRequire(import.meta.url);
const t0 = performance.now();
let cv: any = require("@techstark/opencv-js");
if (cv instanceof Promise) cv = await cv;
else if (!cv.Mat) await new Promise<void>((r) => (cv.onRuntimeInitialized = r));
const loadMs = performance.now() - t0;

const photos = loadPhotoSet(dir);
const img = new HeapImage(await loadReaderModule());
const costs = new PassCosts();
const camera = decodeSection.parse({});
const out: Record<string, unknown> = { loadMs, loadavgStart: loadavg(), camera: { passes: camera.passes, budgetMs: camera.budgetMs } };
const grays = [];
for (const p of photos) grays.push(await loadGray(p.path, { width: 1920, height: 1080 }));

for (const which of ["QRCodeDetectorAruco", "QRCodeDetector"] as const) {
  const det = new cv[which]();
  const pts = new cv.Mat();
  const dec = new cv.StringVector();
  let mat: any = null, mw = 0, mh = 0;
  let codes = 0, cvRead = 0, cvMis = 0, oursRead = 0, adds = 0, errors = 0, cropAdds = 0, cropMis = 0, oursEmpty = 0;
  const cvMs: number[] = [], detectMs: number[] = [];
  for (let i = 0; i < photos.length; i++) {
    const p = photos[i]!, g = grays[i]!;
    const frame = { ...g, stride: g.width };
    const ours = runStrategy(img, { frame, passes: camera.passes, budgetMs: camera.budgetMs }, costs);
    const so = scorePhoto(p.truth, p.consensus, ours.codes as Returned[], g.scale);
    if (!mat || mw !== g.width || mh !== g.height) {
      mat?.delete();
      mat = new cv.Mat(g.height, g.width, cv.CV_8UC1);
      [mw, mh] = [g.width, g.height];
    }
    mat.data.set(g.data);
    const got: Returned[] = [];
    let s = performance.now();
    try {
      det.detectAndDecodeMulti(mat, dec, pts);
      const q = pts.data32F as Float32Array;
      for (let k = 0; k < dec.size(); k++) {
        const text = dec.get(k) as string;
        if (text) got.push({ text, corners: [0, 1, 2, 3].map((c) => [q[k * 8 + 2 * c]!, q[k * 8 + 2 * c + 1]!] as [number, number]) });
      }
    } catch {
      errors++; // a C++ exception surfaces as a bare number
    }
    cvMs.push(performance.now() - s);
    const sc = scorePhoto(p.truth, p.consensus, got, g.scale);
    codes += sc.codes;
    cvRead += sc.read;
    cvMis += sc.misreads;
    oursRead += so.read;
    adds += sc.readMask.filter((r, j) => r && !so.readMask[j]).length;
    if (ours.codes.length > 0) continue;
    // Second detector: only where we read nothing, OpenCV's quads (detect only) become crops.
    oursEmpty++;
    s = performance.now();
    const quads: [number, number][][] = [];
    try {
      if (det.detectMulti(mat, pts)) {
        const q = pts.data32F as Float32Array;
        for (let k = 0; k < pts.rows; k++) quads.push([0, 1, 2, 3].map((c) => [q[k * 8 + 2 * c]!, q[k * 8 + 2 * c + 1]!]));
      }
    } catch {
      errors++;
    }
    const found: DecodedCode[] = [];
    for (const q of quads) {
      const hint = boundsAround(q, g.width, g.height, 0.35);
      if (hint) found.push(...runStrategy(img, { frame, passes: ["crop"], budgetMs: 1e9, hint }, costs).codes);
    }
    detectMs.push(performance.now() - s);
    const s2 = scorePhoto(p.truth, p.consensus, found as Returned[], g.scale);
    cropAdds += s2.read;
    cropMis += s2.misreads;
  }
  const sorted = [...cvMs].sort((a, b) => a - b), dsorted = [...detectMs].sort((a, b) => a - b);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / (a.length || 1);
  out[which] = {
    alone: { codes, read: cvRead, ratePct: Math.round((1000 * cvRead) / codes) / 10, misreads: cvMis, exceptions: errors, meanMs: mean(cvMs), p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), codesOursMissed: adds },
    oursCameraDefaults: { read: oursRead, ratePct: Math.round((1000 * oursRead) / codes) / 10 },
    asCropFeeder: { photosWhereOursReadNothing: oursEmpty, codesAdded: cropAdds, misreads: cropMis, meanMsDetectPlusCrops: mean(detectMs), p99Ms: quantile(dsorted, 0.99) },
  };
  console.log(which, JSON.stringify(out[which]));
  for (const m of [mat, pts, dec, det]) m?.delete();
}
out.loadavgEnd = loadavg();
console.log(`results: ${writeResults("decode-opencv", out)}`);
