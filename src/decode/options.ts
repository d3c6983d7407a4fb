import { z } from "zod";

export const decodePassNames = ["tone", "darken", "lighten", "denoise", "fast", "harder", "downscale", "invert", "crop", "equalize", "quietzone", "regrid"] as const;

export const decodeSection = z
  .strictObject({
    workers: z.number().int().min(1).max(64).optional().describe("Decode worker threads; default is the CPU count."),
    deadlineMs: z.number().int().min(50).max(60_000).default(1500).describe("A worker that has not answered a frame within this time is replaced and the frame reported failed."),
    budgetMs: z.number().min(1).default(60).describe("Per-frame time budget (ms): a pass after the first runs only if the time spent plus its running cost estimate fits."),
    escalateIntervalMs: z
      .number()
      .int()
      .min(0)
      .default(250)
      .describe("When frames of other cameras are waiting for a worker, a camera's frames get the escalation passes at most once per this interval (the others get the first pass and crops only). 0 = always escalate."),
    passes: z
      .array(z.enum(decodePassNames))
      .min(1)
      .default(["tone", "crop", "invert", "regrid", "darken", "lighten", "denoise"])
      .describe(
        "Decode passes in order; the first is always run, later ones only while the budget lasts and nothing was found (crop also runs at once, budget or not, when a pass located a symbol it could not decode, and after a read for other located symbols). tone: gamma that moves the frame median to mid-gray, then tryHarder with zxing's 3x image pyramid (screens, large codes); darken / lighten: fixed gamma 2 / 0.33 curves, same reader (washed-out codes / codes in shadow); invert: light-on-dark codes (inverted copy, QR-only fast reader); denoise: zxing tryDenoise with the pyramid (blur, glare); regrid: when zxing located nothing, symbols from our own finder scan whose finders zxing cannot confirm (a broken ring) are sampled on their module grid and drawn again clean for zxing (runs only when finder patterns are found); crop: around the last code seen on this camera and symbols located but not decoded (2x if small, plain then contrast-stretched; a code under half the located symbol's size is refused); fast: QR only, no extras; harder: tryHarder + tryInvert; downscale: 2x box-filtered; equalize: local contrast stretch; quietzone: when two finder patterns of one symbol are found but nothing was read, dark runs far longer than a finder (a bezel, a case edge, a bar across the margin) are painted light and that region read again (a code touching something dark; file defaults only). Costs and gains per category on real photos: docs/decode.md.",
      ),
  })
  .describe("QR decoding in WASM worker threads.");

export type DecodePassName = (typeof decodePassNames)[number];
