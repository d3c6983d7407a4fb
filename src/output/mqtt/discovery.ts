import type { Topics } from "./topics.js";

/** Home Assistant MQTT discovery messages (pure): topic -> retained JSON config. */
export interface DiscoveryOptions {
  discoveryPrefix: string;
  gatewayId: string;
  version: string;
  topics: Topics;
  /** Whether the pause switch can act (commands enabled with broker-ACL auth). */
  switchEnabled: boolean;
  /** Statuses are restated every heartbeat: HA marks the status unavailable after this silence. */
  expireAfterS?: number;
}

/** Discovery node and object ids allow [a-zA-Z0-9_-] only. */
const id = (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, "_");

/** The gateway's device (node id) in Home Assistant: every config of this gateway is under it. */
export const discoveryNode = (gatewayId: string) => `cpgw_${id(gatewayId)}`;

/**
 * The device name in every config: it names the gateway id exactly. Gateway ids may hold `.`, which
 * the node id cannot, so `a.b` and `a_b` share a node; the sweep tells their configs apart by this.
 */
export const discoveryDeviceName = (gatewayId: string) => `Checkpoint gateway ${gatewayId}`;

export function discoveryMessages(o: DiscoveryOptions): Map<string, Record<string, unknown>> {
  const node = discoveryNode(o.gatewayId);
  const device = { identifiers: [node], name: discoveryDeviceName(o.gatewayId), manufacturer: "checkpoint-gateway", model: "checkpoint-gateway", sw_version: o.version };
  // The gateway's own status topic carries its Last Will: HA greys every entity out when it dies.
  const availability = { topic: o.topics.gateway, payload_available: "online", payload_not_available: "offline" };
  const out = new Map<string, Record<string, unknown>>();
  const put = (component: string, object: string, cfg: Record<string, unknown>) => {
    out.set(`${o.discoveryPrefix}/${component}/${node}/${id(object)}/config`, { ...cfg, unique_id: `${node}_${id(object)}`, device, availability: [availability] });
  };
  for (const [lane, t] of o.topics.lanes) {
    // JSON key access in the templates: lane ids may contain "-".
    const key = JSON.stringify(lane).replaceAll('"', "'");
    put("sensor", `${lane}_status`, {
      name: `Lane ${lane} status`,
      state_topic: t.status,
      icon: "mdi:boom-gate",
      ...(o.expireAfterS ? { expire_after: o.expireAfterS } : {}),
    });
    put("sensor", `${lane}_last_verdict`, {
      name: `Lane ${lane} last verdict`,
      state_topic: t.verdict,
      value_template: "{{ value_json.verdict }}",
      json_attributes_topic: t.verdict,
      json_attributes_template: "{{ {'reason': value_json.reason, 'camera': value_json.camera, 'time': value_json.time, 'format': value_json.format} | tojson }}",
      icon: "mdi:qrcode-scan",
    });
    put("sensor", `${lane}_read_rate`, {
      name: `Lane ${lane} read rate`,
      state_topic: o.topics.stats,
      value_template: `{{ ((value_json.lanes[${key}].readRate | float(0)) * 100) | round(1) }}`,
      unit_of_measurement: "%",
      state_class: "measurement",
      icon: "mdi:percent",
    });
    if (o.switchEnabled) {
      put("switch", `${lane}_pause`, {
        name: `Lane ${lane} paused`,
        command_topic: t.commands.pause,
        state_topic: t.paused,
        payload_on: "ON",
        payload_off: "OFF",
        state_on: "ON",
        state_off: "OFF",
        icon: "mdi:pause-octagon",
      });
    }
  }
  return out;
}
