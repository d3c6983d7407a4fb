import { z } from "zod";

export const displaySection = z
  .strictObject({
    language: z.enum(["vi", "en"]).default("vi").describe("Default display language."),
    dashboardLanguage: z
      .enum(["auto", "vi", "en"])
      .default("auto")
      .describe("Officer dashboard language: auto follows the browser (Accept-Language), else display.language; officers can switch it on the page."),
    heartbeatMs: z.number().int().min(200).max(60_000).default(2000).describe("SSE heartbeat interval; the page turns OUT OF SERVICE after missing ~3."),
    replayWindowS: z.number().int().min(0).default(600).describe("The same credential again within this time (at any lane) is FLAG REPLAYED."),
    maxStreamsPerLane: z.number().int().min(1).max(1000).default(16).describe("Open display event streams per configured lane (a kiosk or two per lane is normal)."),
    maxStreamsPerClient: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(8)
      .describe("Open display event streams per client address, all lanes together, so one client cannot take a lane's streams."),
  })
  .describe("Lane display behaviour.");

export type DisplayConfig = z.output<typeof displaySection>;
