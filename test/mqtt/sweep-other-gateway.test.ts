/**
 * The retained-topic sweep (src/output/mqtt/sweep.ts) on the shared broker, with two gateways on it:
 * neither may clear the other's topics. With `{gateway}-{lane}` in one topic level, gateway `gw`
 * read `site/gw-1-b/status` (gateway `gw-1`, lane `b`) as its own lane `1-b` and `site/gw-1/status`
 * as lane `1`, and cleared gw-1's lane status, paused state and gateway status. Gateway ids `a.b`
 * and `a_b` share the Home Assistant node `cpgw_a_b`, and each gateway's sweep cleared the other's
 * discovery configs as configs of its own removed lanes.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import { lane, MqttTestKit, rid, SHARED_MQTT, waitFor } from "./helpers.js";

const kit = new MqttTestKit();
const discoveryPrefixes: string[] = [];
afterEach(async () => {
  await kit.cleanup();
});
afterAll(async () => {
  await kit.clearRetained(discoveryPrefixes.map((p) => `${p}/#`));
});

/** What the broker holds retained under `filter` now (a fresh subscription gets it all). */
async function retainedNow(filter: string): Promise<Map<string, string>> {
  const c = await mqtt.connectAsync(SHARED_MQTT, { clientId: `test-probe-${rid()}` });
  const got = new Map<string, string>();
  c.on("message", (t, p, packet) => {
    if (packet.retain && p.length > 0) got.set(t, p.toString());
  });
  await c.subscribeAsync(filter, { qos: 1 });
  // The broker sends a subscription's retained messages before anything published after it: a
  // message of our own on a topic of our own, once back, says they are all here.
  const barrier = `test-barrier/${rid()}`;
  const back = new Promise<void>((r) => c.on("message", (t) => t === barrier && r()));
  await c.subscribeAsync(barrier, { qos: 1 });
  await c.publishAsync(barrier, "x", { qos: 1 });
  await back;
  await c.endAsync();
  return got;
}

const logged = (lines: string[], pattern: RegExp) => lines.map((l) => JSON.parse(l) as { msg: string; level: string; template?: string; topic?: string }).filter((l) => pattern.test(l.msg));

describe("the sweep never clears another gateway's retained topics", () => {
  it("{gateway}-{lane} in one level: gw does not clear gw-1's lane status or gateway status, and says that template is not swept", async () => {
    // lanePaused puts {gateway} in a level of its own: swept, and the clear of gw's own removed lane
    // there tells when the sweep has been through what the broker sent (a barrier, not a sleep).
    const topics = { laneStatus: "{prefix}/{gateway}-{lane}/status", lanePaused: "{prefix}/{gateway}/paused/{lane}", verdict: "{prefix}/{gateway}-{lane}/verdict", laneCommand: "{prefix}/{gateway}-{lane}/{command}/set" };
    const other = kit.output({ topics }, { gatewayId: "gw-1" }, ["b"]);
    other.states.set("b", lane("b", "idle"));
    await other.out.start();
    const p = other.prefix;
    const held = [`${p}/gw-1-b/status`, `${p}/gw-1/paused/b`, `${p}/gw-1/status`];
    await waitFor(async () => {
      const m = await retainedNow(`${p}/#`);
      return held.every((t) => m.has(t));
    }, "gw-1's retained topics");
    const ownRemoved = `${p}/gw/paused/z`;
    const seed = await mqtt.connectAsync(SHARED_MQTT, { clientId: `test-seed-${rid()}` });
    await seed.publishAsync(ownRemoved, "OFF", { retain: true, qos: 1 });
    await seed.endAsync();

    const gw = kit.output({ topics, topicPrefix: p }, { gatewayId: "gw" }, ["a"]);
    gw.states.set("a", lane("a", "idle"));
    await gw.out.start();
    await waitFor(async () => !(await retainedNow(ownRemoved)).has(ownRemoved), "gw's removed lane z cleared");
    const left = await retainedNow(`${p}/#`);
    for (const t of held) expect(left.get(t), t).toBeDefined();
    expect(left.get(`${p}/gw-1-b/status`)).toBe("online");
    expect(left.get(`${p}/gw-1/status`)).toBe("online");
    expect(logged(gw.lines, /cleared a retained topic/).map((l) => l.topic)).toEqual([ownRemoved]);
    expect(logged(gw.lines, /not cleared/).map((l) => [l.level, l.template])).toEqual([["info", topics.laneStatus]]);
  });

  it("gateway ids a.b and a_b share a Home Assistant node: a.b clears its own removed lane's config, never a_b's", async () => {
    const disc = `ha-${rid()}`;
    discoveryPrefixes.push(disc);
    const ha = { homeAssistant: { enabled: true, discoveryPrefix: disc } };
    const node = "cpgw_a_b";
    const under = kit.output(ha, { gatewayId: "a_b" }, ["L2"]);
    await under.out.start();
    const theirs = [`${disc}/sensor/${node}/L2_status/config`, `${disc}/sensor/${node}/L2_last_verdict/config`, `${disc}/sensor/${node}/L2_read_rate/config`];
    await waitFor(async () => {
      const m = await retainedNow(`${disc}/#`);
      return theirs.every((t) => m.has(t));
    }, "a_b's discovery configs");
    // a.b's own lane L9, removed from its config: its config is still retained.
    const ownRemoved = `${disc}/sensor/${node}/L9_status/config`;
    const seed = await mqtt.connectAsync(SHARED_MQTT, { clientId: `test-seed-${rid()}` });
    await seed.publishAsync(ownRemoved, JSON.stringify({ name: "Lane L9 status", unique_id: `${node}_L9_status`, device: { identifiers: [node], name: "Checkpoint gateway a.b" } }), { retain: true, qos: 1 });
    await seed.endAsync();

    const dot = kit.output({ ...ha, topicPrefix: under.prefix }, { gatewayId: "a.b" }, ["L1"]);
    await dot.out.start();
    await waitFor(async () => !(await retainedNow(ownRemoved)).has(ownRemoved), "a.b's removed lane's config cleared");
    // Then either a.b says it left a_b's configs alone, or (the bug) they are gone.
    const seenTheirs = () => logged(dot.lines, /another gateway publishes Home Assistant discovery/).length > 0;
    const theirsGone = async () => {
      const m = await retainedNow(`${disc}/#`);
      return !theirs.every((t) => m.has(t));
    };
    await waitFor(async () => seenTheirs() || (await theirsGone()), "a.b's sweep through a_b's configs");
    const left = await retainedNow(`${disc}/#`);
    for (const t of theirs) expect(left.has(t), t).toBe(true);
    expect(logged(dot.lines, /another gateway publishes/)).toHaveLength(1);
    expect(logged(dot.lines, /cleared a retained topic/).map((l) => l.topic)).toEqual([ownRemoved]);
  });
});
