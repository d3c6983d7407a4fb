import { z } from "zod";

export const redisSection = z
  .strictObject({
    url: z.string().optional().describe("redis:// URL of a single Redis; use ${ENV} for credentials."),
    cluster: z.array(z.string()).optional().describe("Seed nodes host:port of a Redis Cluster (instead of url)."),
    keyPrefix: z.string().default("cpgw:").describe("Prefix for all keys."),
    stream: z
      .string()
      .default("cpgw:verdicts")
      .describe(
        "Stream that verdict events are appended to. The spool's dedupe marker shares the stream's cluster slot (hash tag); a name with '{' or '}' must contain a valid hash tag such as '{cpgw}:verdicts'.",
      ),
    streamMaxLen: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe("Approximate MAXLEN for XADD (0 = never trim: the central consumer owns retention)."),
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
    verdictQos: z
      .union([z.literal(0), z.literal(1), z.literal(2)])
      .optional()
      .describe("QoS for verdict events only; defaults to qos."),
    topics: z
      .strictObject({
        gatewayStatus: z.string().default("{prefix}/{gateway}/status").describe("Retained gateway status (online/offline) with a Last Will."),
        laneStatus: z.string().default("{prefix}/{gateway}/lanes/{lane}/status").describe("Retained lane status (online/out-of-service/offline) with a Last Will."),
        verdict: z.string().default("{prefix}/{gateway}/lanes/{lane}/verdict").describe("Non-retained verdict events."),
      })
      .default({
        gatewayStatus: "{prefix}/{gateway}/status",
        laneStatus: "{prefix}/{gateway}/lanes/{lane}/status",
        verdict: "{prefix}/{gateway}/lanes/{lane}/verdict",
      })
      .describe("Topic templates; placeholders {prefix}, {gateway}, {lane}."),
    clientIdPrefix: z.string().default("cpgw").describe("Client ids are PREFIX-GATEWAY-gw and PREFIX-GATEWAY-LANE (one connection each, so each carries its own Last Will)."),
    keepaliveS: z.number().int().min(1).max(600).default(10).describe("MQTT keepalive; the broker sends the Last Will after 1.5x this without traffic from a silent gateway."),
    reconnectMs: z.number().int().min(100).default(2000).describe("Delay between reconnect attempts."),
    connectTimeoutMs: z.number().int().min(100).default(5000).describe("How long start() waits for the first connection before continuing (it keeps retrying)."),
  })
  .optional()
  .describe("Optional MQTT for signal lights and barriers.");

export const eventsSection = z
  .strictObject({
    fsync: z.enum(["always", "interval", "never"]).default("interval").describe("When the spool file (and the ledger) is fsynced: every event, once a second, or left to the OS."),
    spoolMaxBytes: z.number().int().min(1024).default(64 * 1024 * 1024).describe("Spool size bound; oldest events are dropped (and alerted) beyond it."),
    ledger: z.boolean().default(true).describe("Write the hash-chained verdict ledger."),
  })
  .default({ fsync: "interval", spoolMaxBytes: 64 * 1024 * 1024, ledger: true })
  .describe("Durable verdict events.");

export type RedisConfig = NonNullable<z.output<typeof redisSection>>;
export type MqttConfig = NonNullable<z.output<typeof mqttSection>>;
export type EventsConfig = z.output<typeof eventsSection>;
