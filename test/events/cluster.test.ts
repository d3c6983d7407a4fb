import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { createEventSpool } from "../../src/output/events/spool.js";
import { createRedisClient } from "../../src/output/events/redis-client.js";
import { silentLogger } from "../../src/core/logger.js";
import { makeEvent, RedisChild, rid, rmDir, tmpDir, waitFor } from "./helpers.js";

const run = promisify(execFile);
const nodes: RedisChild[] = [];
const dirs: string[] = [];
let cluster: Cluster;

beforeAll(async () => {
  for (let i = 0; i < 3; i++) {
    const n = await RedisChild.create(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"]);
    await n.start();
    nodes.push(n);
  }
  await run("redis-cli", ["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`), "--cluster-replicas", "0", "--cluster-yes"]);
  const probe = new Redis(nodes[0]!.port, "127.0.0.1");
  await waitFor(async () => (await probe.cluster("INFO")).includes("cluster_state:ok"), "cluster_state:ok", 30_000, 100);
  probe.disconnect();
  cluster = createRedisClient({ cluster: nodes.map((n) => `127.0.0.1:${n.port}`), keyPrefix: "cpgw:", stream: "unused", streamMaxLen: 0 }) as Cluster;
  await waitFor(() => cluster.status === "ready", "ioredis cluster ready", 30_000);
});
afterAll(async () => {
  cluster?.disconnect();
  for (const n of nodes) await n.destroy();
  for (const d of dirs) rmDir(d);
});

describe("event spool on a Redis Cluster (ioredis Cluster client)", () => {
  it.each([`cpgw:verdicts:${rid()}`, `{city-${rid()}}:verdicts`])("forwards in order, once, to stream %s (marker in the stream's slot)", async (stream) => {
    const dir = tmpDir("cluster-spool");
    dirs.push(dir);
    const spool = createEventSpool({ dir, fsync: "never", maxBytes: 1 << 20, redis: cluster, stream, logger: silentLogger, gatewayId: "gw-c" });
    await spool.start();
    for (let i = 1; i <= 60; i++) spool.append(makeEvent("gw-c", "L1", i));
    await spool.flush();
    await spool.close();
    // A second spool life on the same dir sends nothing twice.
    const again = createEventSpool({ dir, fsync: "never", maxBytes: 1 << 20, redis: cluster, stream, logger: silentLogger, gatewayId: "gw-c" });
    await again.start();
    again.append(makeEvent("gw-c", "L1", 61));
    await again.flush();
    await again.close();
    const entries = await cluster.xrange(stream, "-", "+");
    expect(entries.map(([, f]) => f[f.indexOf("id") + 1])).toEqual(Array.from({ length: 61 }, (_, k) => `gw-c:L1:${k + 1}`));
    expect(spool.stats().forwarded).toBe(60);
  });
});
