/**
 * A lane screen turns OUT OF SERVICE on its own after missing this many heartbeats
 * (src/output/http/static/lane.js: heartbeatMs * 3.5). MQTT must not lag behind it.
 */
export const DISPLAY_MISSED_HEARTBEATS = 3.5;

/** How long a display waits before it shows OUT OF SERVICE when the gateway goes silent. */
export function displayTimeoutMs(heartbeatMs: number): number {
  return heartbeatMs * DISPLAY_MISSED_HEARTBEATS;
}

/**
 * The broker publishes the Last Will once it has heard nothing for 1.5 x keepalive, counted from
 * the client's last packet (which is at most one keepalive before a freeze); Mosquitto compares
 * whole seconds and checks about once a second, which adds up to ~1.5 s. keepalive = timeout / 2
 * (whole seconds, at least 1) keeps ceil(1.5 x keepalive) + 1.5 s inside the display's timeout for
 * every heartbeat >= 1 s (measured: 5.8 s for the default 7 s timeout, test/mqtt/freeze.test.ts).
 */
export function keepaliveFor(displayTimeout: number): number {
  return Math.max(1, Math.floor(displayTimeout / 1000 / 2));
}

/** The keepalive to use: the configured one (0 = derive), and whether it is too long for the display. */
export function resolveKeepalive(configuredS: number, heartbeatMs: number): { keepaliveS: number; tooLong: boolean; displayTimeoutMs: number } {
  const timeout = displayTimeoutMs(heartbeatMs);
  const keepaliveS = configuredS > 0 ? configuredS : keepaliveFor(timeout);
  return { keepaliveS, tooLong: keepaliveS * 1500 > timeout, displayTimeoutMs: timeout };
}
