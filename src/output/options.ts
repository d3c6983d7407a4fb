import { z } from "zod";

export const redisSection = z
  .strictObject({
    url: z.string().optional().describe("redis:// URL of a single Redis; use ${ENV} for credentials."),
    cluster: z
      .array(z.string().regex(/^[^\s:]+:([1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5])$/, "host:port, port 1-65535"))
      .optional()
      .describe("Seed nodes host:port of a Redis Cluster (instead of url)."),
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

const qosSchema = z.union([z.literal(0), z.literal(1), z.literal(2)]);

const MQTT_TOPICS = {
  gatewayStatus: "{prefix}/{gateway}/status",
  laneStatus: "{prefix}/{gateway}/lanes/{lane}/status",
  verdict: "{prefix}/{gateway}/lanes/{lane}/verdict",
  lanePaused: "{prefix}/{gateway}/lanes/{lane}/paused",
  laneCommand: "{prefix}/{gateway}/lanes/{lane}/{command}/set",
  stats: "{prefix}/{gateway}/stats",
};

export const mqttSection = z
  .strictObject({
    url: z.string().describe("mqtt:// or mqtts:// (TLS) URL of the broker."),
    username: z.string().optional().describe("Broker user name (with password), if the broker requires one."),
    password: z.string().optional().describe("Use ${ENV}."),
    topicPrefix: z.string().default("checkpoint").describe("Topics are PREFIX/GATEWAY/lanes/LANE/{status,verdict,paused,...}."),
    qos: qosSchema.default(1).describe("QoS for status and verdict messages."),
    verdictQos: qosSchema.optional().describe("QoS for verdict events only; defaults to qos."),
    topics: z
      .strictObject({
        gatewayStatus: z.string().default(MQTT_TOPICS.gatewayStatus).describe("Retained gateway status (online/offline) with a Last Will."),
        laneStatus: z.string().default(MQTT_TOPICS.laneStatus).describe("Retained lane status (online/out-of-service/offline) with a Last Will; online only while the lane is in service."),
        verdict: z.string().default(MQTT_TOPICS.verdict).describe("Non-retained verdict events (JSON, no payload, no personal data)."),
        lanePaused: z.string().default(MQTT_TOPICS.lanePaused).describe("Retained ON/OFF: whether the lane is paused by an operator (state of the Home Assistant switch)."),
        laneCommand: z.string().default(MQTT_TOPICS.laneCommand).describe("Command topics; {command} is pause or resume. Only subscribed to when mqtt.commands.enabled."),
        stats: z.string().default(MQTT_TOPICS.stats).describe("Retained stats JSON, published every statsIntervalS."),
      })
      .default(MQTT_TOPICS)
      .describe("Topic templates; placeholders {prefix}, {gateway}, {lane} (and {command} in laneCommand)."),
    clientIdPrefix: z.string().default("cpgw").describe("Client ids are PREFIX-GATEWAY-gw and PREFIX-GATEWAY-LANE (one connection each, so each carries its own Last Will)."),
    keepaliveS: z
      .number()
      .int()
      .min(0)
      .max(600)
      .default(0)
      .describe("MQTT keepalive; the broker sends the Last Will after 1.5x this without traffic from a silent (frozen) gateway. 0 = derived from display.heartbeatMs so a lane goes offline on MQTT no later than its screens do."),
    restateStatus: z
      .boolean()
      .default(true)
      .describe("Restate every status (retained, unchanged payload) each display.heartbeatMs, so a device can treat 3.5 heartbeats of silence as offline, as the lane screens do, whatever the broker's keepalive check does."),
    reconnectMs: z.number().int().min(100).default(2000).describe("Delay between reconnect attempts."),
    connectTimeoutMs: z.number().int().min(100).default(5000).describe("How long start() waits for the first connection before continuing (it keeps retrying)."),
    statsIntervalS: z.number().int().min(0).max(3600).default(15).describe("Seconds between retained stats messages (0 = no stats topic)."),
    tls: z
      .strictObject({
        ca: z.string().optional().describe("PEM file of the CA that signed the broker's certificate (default: the system's CAs)."),
        cert: z.string().optional().describe("PEM client certificate file, for brokers with require_certificate."),
        key: z.string().optional().describe("PEM private key file of the client certificate."),
        rejectUnauthorized: z.boolean().default(true).describe("Verify the broker's certificate and host name. Only for lab brokers: false accepts any certificate."),
        servername: z.string().optional().describe("Host name to verify (and send as SNI) when it differs from the URL's host."),
      })
      .refine((t) => (t.cert === undefined) === (t.key === undefined), { message: "tls.cert and tls.key go together" })
      .default({ rejectUnauthorized: true })
      .describe("TLS options for mqtts:// URLs (ignored for mqtt://)."),
    commands: z
      .strictObject({
        enabled: z.boolean().default(false).describe("Subscribe to the laneCommand topics (pause/resume a lane)."),
        auth: z
          .enum(["token", "acl"])
          .default("token")
          .describe("token: the payload must carry mqtt.commands.token (JSON {\"token\": ...}); acl: the broker's ACL decides who may publish to the command topics."),
        token: z.string().optional().describe("Shared secret for auth: token (use ${ENV}); at least 16 characters."),
      })
      .refine((c) => !c.enabled || c.auth === "acl" || (c.token !== undefined && c.token.length >= 16), {
        message: "mqtt.commands with auth: token needs a token of at least 16 characters (or auth: acl)",
      })
      .default({ enabled: false, auth: "token" })
      .describe("Remote pause/resume of lanes over MQTT."),
    homeAssistant: z
      .strictObject({
        enabled: z.boolean().default(false).describe("Publish Home Assistant MQTT discovery configs (retained) for each lane."),
        discoveryPrefix: z.string().default("homeassistant").describe("Home Assistant's discovery prefix."),
      })
      .default({ enabled: false, discoveryPrefix: "homeassistant" })
      .describe("Home Assistant MQTT discovery (opt-in): lane status, last verdict, read rate, pause switch."),
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
