/**
 * Warm-up of a fresh decode worker, before it reports ready. A new wasm instance runs zxing as
 * baseline code until V8 has seen enough calls to optimise it, and our own passes (crops, the
 * finder scan, regrid) are cold JavaScript: a fresh worker's first frame cost 14.0 ms of CPU where
 * the same frame costs 1.9 after this warm-up (`npm run bench:decode -- --cold`, docs/decode.md).
 * After a start, a deploy or a worker replaced by the pool, the first travellers would pay that,
 * and at several lanes at once the cold workers queue them.
 *
 * So a worker first decodes a few small synthetic frames that take the paths a real frame takes: a
 * clean code (the first pass reads it), and the same code with a band of its data painted over
 * (zxing locates it and cannot read it: crops, the exposure passes and regrid run). Its cost
 * estimates are not touched: the caller gives this its own PassCosts, since cold timings would make
 * the budget rules skip passes on the first real frames.
 */
import QRCode from "qrcode";
import type { HeapImage, LumaView } from "./luma-read.js";
import type { DecodePassName } from "./options.js";
import { PassCosts } from "./pass-costs.js";
import { runStrategy } from "./strategy.js";

const WIDTH = 480;
const HEIGHT = 360;
const MODULE_PX = 4;

/** A gray frame with the code drawn black on white at MODULE_PX, centred; `damaged` paints a band of its data gray. */
export function warmUpFrame(damaged: boolean): LumaView {
  const qr = QRCode.create("checkpoint-gateway decode warm-up", { errorCorrectionLevel: "L" });
  const size = qr.modules.size;
  const data = new Uint8Array(WIDTH * HEIGHT).fill(235);
  const x0 = (WIDTH - size * MODULE_PX) >> 1;
  const y0 = (HEIGHT - size * MODULE_PX) >> 1;
  for (let my = 0; my < size; my++)
    for (let mx = 0; mx < size; mx++) {
      if (!qr.modules.get(my, mx)) continue;
      for (let y = 0; y < MODULE_PX; y++) data.fill(25, (y0 + my * MODULE_PX + y) * WIDTH + x0 + mx * MODULE_PX, (y0 + my * MODULE_PX + y) * WIDTH + x0 + (mx + 1) * MODULE_PX);
    }
  if (damaged) {
    // Rows 10..size-10 between the finders' columns: the finders stay, the data is gone.
    for (let y = y0 + 10 * MODULE_PX; y < y0 + (size - 10) * MODULE_PX; y++) data.fill(128, y * WIDTH + x0 + 8 * MODULE_PX, y * WIDTH + x0 + (size - 8) * MODULE_PX);
  }
  return { width: WIDTH, height: HEIGHT, stride: WIDTH, data };
}

/** Decodes the warm-up frames `rounds` times with `passes`; returns the codes read (for tests). */
export function warmUp(img: HeapImage, passes: readonly DecodePassName[], rounds: number): number {
  const frames = [warmUpFrame(false), warmUpFrame(true)];
  const costs = new PassCosts();
  let read = 0;
  for (let r = 0; r < rounds; r++)
    for (const frame of frames) read += runStrategy(img, { frame, passes, budgetMs: 1000 }, costs).codes.length;
  return read;
}
