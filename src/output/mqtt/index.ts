export { createMqttOutput, MQTT_PUBLISH_KINDS, type LaneActions, type MqttOutput, type MqttOutputOptions, type MqttOutputStats, type MqttPublishKind } from "./mqtt-output.js";
export { fillTopic, topicsFor, laneStatusFor, type LinkStatus, type LaneCommand } from "./topics.js";
export { verdictPayload, statsPayload, decideCommand, type StatsSnapshot } from "./payloads.js";
export { discoveryMessages } from "./discovery.js";
export { resolveKeepalive, displayTimeoutMs } from "./keepalive.js";
