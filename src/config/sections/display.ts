import { z } from "zod";

export const displaySection = z
  .strictObject({
    language: z.enum(["vi", "en"]).default("vi").describe("Default display language."),
    heartbeatMs: z.number().int().min(200).default(2000).describe("SSE heartbeat interval; the page turns OUT OF SERVICE after missing ~3."),
    replayWindowS: z.number().int().min(0).default(600).describe("The same credential again within this time (at any lane) is FLAG REPLAYED."),
  })
  .describe("Lane display behaviour.");
