import { z } from "zod";

export const logSection = z
  .strictObject({
    level: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info")
      .describe("Minimum log level; the LOG_LEVEL environment variable overrides it."),
  })
  .describe("Structured JSON logging on stdout.");
