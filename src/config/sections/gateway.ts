import { z } from "zod";

export const gatewaySection = z
  .strictObject({
    id: z.string().min(1).regex(/^[A-Za-z0-9_.-]+$/).default("gw-1").describe("Gateway id written into events and the ledger."),
    hashSalt: z
      .string()
      .min(16)
      .optional()
      .describe("Salt for short hashes of credential ids in logs and events; use ${ENV}. Without it a random per-process salt is used (hashes then only correlate within one run)."),
    stateDir: z.string().default("./state").describe("Directory for on-disk state: last good trust list, spool, ledger."),
    eventIdBlock: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(64)
      .describe("Event ids reserved per durable write of a lane's sequence file (stateDir/lanes). 64: one fsync per 64 verdicts, off the other 63 verdicts' path; a restart skips the unused rest of a block (a gap, never a reuse); a state dir that turns read-only takes the lane out of service when its block is used up. 1: a durable write before every verdict."),
    signingKey: z
      .string()
      .optional()
      .describe("Path to this gateway's private JWK (EC P-256 or Ed25519). When set, the ledger head published to Redis and MQTT is signed with it (compact JWS); `ledger verify --key PUBLIC_JWK` checks it."),
  })
  .describe("Identity and local state of this gateway.");
