import { afterAll, describe, expect, it } from "vitest";
import { lane, MqttTestKit, waitFor } from "./helpers.js";

const kit = new MqttTestKit();
afterAll(async () => {
  await kit.cleanup();
  await kit.clearRetained();
});

describe("MQTT output reading lane states", () => {
  it("a lane-state source that throws (restate interval, reconnect, start) reads as out-of-service, never an uncaught exception", async () => {
    expect.hasAssertions();
    let broken = false;
    const { prefix, out, lines } = kit.output({ restateStatus: true }, {
      heartbeatMs: 200,
      laneStatus: (id) => {
        if (broken) throw new Error("lane state unreadable");
        return lane(id, "idle");
      },
    });
    await out.start();
    const topic = `${prefix}/gw-m/lanes/L1/status`;
    const w = await kit.watch(topic);
    await waitFor(() => w.last.get(topic) === "online", "online while the source answers");
    broken = true;
    // Before the fix the throw escaped setInterval (and the connect handler) as an uncaught exception.
    await waitFor(() => w.last.get(topic) === "out-of-service", "fail safe once the source throws", 15_000);
    expect(lines.some((l) => l.includes("lane status unreadable"))).toBe(true);
  });
});
