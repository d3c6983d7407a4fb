import { z } from "zod";

export const redisSection = z
  .strictObject({
    url: z.string().optional().describe("redis:// URL of a single Redis; use ${ENV} for credentials."),
    cluster: z.array(z.string()).optional().describe("Seed nodes host:port of a Redis Cluster (instead of url)."),
    keyPrefix: z.string().default("cpgw:").describe("Prefix for all keys."),
    stream: z.string().default("cpgw:verdicts").describe("Stream that verdict events are appended to."),
  })
  .optional()
  .describe("Optional Redis for shared trust cache, replay guard and durable events. Without it, state is in-process and on disk.");

export const mqttSection = z
  .strictObject({
    url: z.string().describe("mqtt:// URL of the broker."),
    username: z.string().optional(),
    password: z.string().optional().describe("Use ${ENV}."),
    topicPrefix: z.string().default("checkpoint").describe("Topics are PREFIX/GATEWAY/lanes/LANE/{status,verdict}."),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1).describe("QoS for status and verdict messages."),
  })
  .optional()
  .describe("Optional MQTT for signal lights and barriers.");

export const eventsSection = z
  .strictObject({
    fsync: z.enum(["always", "interval", "never"]).default("interval").describe("When the spool file is fsynced."),
    spoolMaxBytes: z.number().int().min(1024).default(64 * 1024 * 1024).describe("Spool size bound; oldest events are dropped (and alerted) beyond it."),
    ledger: z.boolean().default(true).describe("Write the hash-chained verdict ledger."),
  })
  .default({ fsync: "interval", spoolMaxBytes: 64 * 1024 * 1024, ledger: true })
  .describe("Durable verdict events.");
