import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { createRedisClient } from "../../src/output/events/redis-client.js";
import { RedisChild, waitFor } from "./helpers.js";

// A real redis-server of our own, demoted to a replica under the gateway's connection as a
// failover does to the old primary: the TCP connection stays up and every write answers READONLY.
let node: RedisChild;
beforeAll(async () => {
  node = await RedisChild.create();
  await node.start();
}, 30_000);
afterAll(() => node.destroy());

describe("the gateway's Redis client after a failover", () => {
  it("reconnects when its node answers READONLY (Sentinel or the DNS name then leads to the new primary), and writes again once the node takes them", async () => {
    const client = createRedisClient({ url: node.url } as never) as Redis;
    const admin = new Redis(node.port, "127.0.0.1");
    let reconnects = 0;
    client.on("reconnecting", () => reconnects++);
    client.on("error", () => undefined);
    try {
      await waitFor(() => client.status === "ready", "client ready");
      expect(await client.set("fo:k", "1")).toBe("OK");
      // Demoted: a replica of a primary that does not answer; replicas refuse writes.
      await admin.call("REPLICAOF", "127.0.0.1", "1");
      await expect(client.set("fo:k", "2")).rejects.toThrow(/READONLY/);
      await waitFor(() => reconnects > 0, "a reconnect after READONLY", 10_000);
      // The node is primary again (here the same one; in a failover, the new primary behind the name).
      await admin.call("REPLICAOF", "NO", "ONE");
      await waitFor(async () => (await client.set("fo:k", "3").catch(() => null)) === "OK", "writes again", 10_000);
    } finally {
      client.disconnect();
      admin.disconnect();
    }
  }, 30_000);
});
