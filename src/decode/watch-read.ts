/**
 * Presence upkeep for a code already decided. While a lane's decided code is held up to the camera,
 * every admitted frame is a "watch" frame whose only job is to sight that code again (so it never
 * seems to leave and come back as a replay). The cascade's first pass is a full-frame read
 * (tone: tryHarder plus zxing's pyramid, the costliest single read); the crop around the last
 * code is a fraction of the frame. So a watch frame whose finder patterns all lie inside that crop
 * reads the crop first and stops there when the code is found; otherwise (the code moved or left)
 * it runs the normal cascade. The rationed full cascade (WEAK_FULL_EVERY_MS in admission.ts) never
 * takes this shortcut: it is what finds a second code shown beside a held one.
 */
import type { FinderHit } from "./prefilter.js";
import type { Rect } from "./preprocess.js";
import { runStrategy, type StrategyInput, type StrategyOutput } from "./strategy.js";
import type { PassCosts } from "./pass-costs.js";
import type { HeapImage } from "./luma-read.js";

/** Whether a finder pattern's centre lies inside the rectangle. */
export function inside(h: FinderHit, r: Rect): boolean {
  return h.x >= r.x && h.x < r.x + r.w && h.y >= r.y && h.y < r.y + r.h;
}

/** The prefilter found finder patterns and every one of them is inside the last code's crop. */
export function onlyAtLastCode(hits: readonly FinderHit[], hint: Rect | undefined): boolean {
  return hint !== undefined && hits.length > 0 && hits.every((h) => inside(h, hint));
}

/** The crop around `input.hint` first; the normal cascade (without that crop again) only if it read nothing. */
export function runCropFirst(img: HeapImage, input: StrategyInput, costs: PassCosts, now?: () => number): StrategyOutput {
  if (!input.hint) return runStrategy(img, input, costs, now);
  const first = runStrategy(img, { frame: input.frame, passes: ["crop"], budgetMs: 0, hint: input.hint }, costs, now);
  if (first.codes.length > 0) return first;
  const { hint: _tried, ...rest } = input;
  const out = runStrategy(img, rest, costs, now);
  return { ...out, passes: [...first.passes, ...out.passes], decodeMs: first.decodeMs + out.decodeMs };
}
