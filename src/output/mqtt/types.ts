import type mqtt from "mqtt";
import type { GatewayBus } from "../../core/bus.js";
import type { Logger } from "../../core/logger.js";
import type { LaneStatus } from "../../core/types.js";
import type { MqttConfig } from "../options.js";
import type { StatsSnapshot } from "./payloads.js";

/** The MQTT output's contract: its options, its numbers and what it offers the gateway. */

/** What a remote command may do to a lane (the same actions as the admin API). */
export interface LaneActions {
  pause(lane: string): void;
  resume(lane: string): void;
}

export interface MqttOutputOptions {
  config: MqttConfig;
  gatewayId: string;
  lanes: string[];
  bus: GatewayBus;
  logger: Logger;
  /** The lane's current status, read at every (re)connect; unknown lanes count as out of service. */
  laneStatus?: (lane: string) => LaneStatus | undefined;
  /**
   * The display's SSE heartbeat (display.heartbeatMs): sizes the keepalive when keepaliveS is 0,
   * and every status is restated at this interval so a device can apply the screens' rule
   * (nothing heard for 3.5 heartbeats = offline) whatever the broker's keepalive check does.
   */
  heartbeatMs?: number;
  /** Read at each stats tick. */
  stats?: () => StatsSnapshot;
  /** Needed for command topics. */
  actions?: LaneActions;
  /**
   * Other retained topics this gateway publishes through `publish()` (the ledger head): never
   * cleared as a removed lane's, whatever the topic templates make them look like.
   */
  keepRetained?: readonly string[];
  connect?: typeof mqtt.connect;
  now?: () => number;
}

/** What a failed publish was for: a closed set, so it can be a metric label (never a topic, lane or payload). */
export const MQTT_PUBLISH_KINDS = ["status", "paused", "stats", "discovery", "verdict"] as const;
export type MqttPublishKind = (typeof MQTT_PUBLISH_KINDS)[number];

export interface MqttOutputStats {
  connected: number;
  links: number;
  verdictsPublished: number;
  verdictsDropped: number;
  reconnects: number;
  commandsAccepted: number;
  commandsRejected: number;
  statsPublished: number;
  keepaliveS: number;
  /** Publishes the client reported failed, per kind; every kind is present (0 until one fails). */
  publishErrors: Record<MqttPublishKind, number>;
}

export interface MqttOutput {
  start(): Promise<void>;
  close(): Promise<void>;
  stats(): MqttOutputStats;
  /** Publishes on the gateway's connection (e.g. the retained ledger head); false while disconnected. */
  publish(topic: string, payload: string, o: { retain: boolean }): Promise<boolean>;
}
