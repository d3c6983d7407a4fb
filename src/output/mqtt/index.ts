export { createMqttOutput, type MqttOutput, type MqttOutputOptions, type MqttOutputStats } from "./mqtt-output.js";
export { fillTopic, topicsFor, laneStatusFor, type LinkStatus } from "./topics.js";
