import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createEventSpool } from "../../src/output/events/spool.js";
import { idsKey, markerKey } from "../../src/output/events/forward.js";
import { recordLine } from "../../src/output/events/spool-file.js";
import { toWireEvent } from "../../src/output/events/wire.js";
import { GatewayMetrics } from "../../src/output/metrics/index.js";
import { captureLogger, makeEvent, RedisChild, rid, rmDir, SHARED_REDIS, tmpDir, waitFor } from "./helpers.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach(rmDir));
const ev = (seq: number) => makeEvent("gw-r", "L1", seq, { verdict: "FLAG", reason: "REVOKED" });
const ids = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, k) => `gw-r:L1:${a + k}`);
const streamIds = async (r: Redis, stream: string) => (await r.xrange(stream, "-", "+")).map(([, f]) => f[f.indexOf("id") + 1]!);
const rolledBackLogs = (lines: string[]) => lines.filter((l) => l.includes('"code":"GW_EVENTS_REDIS_ROLLED_BACK"'));

describe("Redis loses events it acknowledged", () => {
  it("a restart without persistence while the gateway runs: logged as an error, counted, and what the spool file still holds is in the stream again, in order", async () => {
    const child = await RedisChild.create(["--appendonly", "no"]);
    const dir = tmpDir("rollback");
    dirs.push(dir);
    await child.start();
    const redis = new Redis(child.port, "127.0.0.1", { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on("error", () => undefined);
    await waitFor(() => redis.status === "ready", "the client to connect");
    const { logger, lines } = captureLogger();
    const lineBytes = Buffer.byteLength(recordLine(10, JSON.stringify(toWireEvent(ev(10)))));
    // Compaction after about 15 records: the first 20 leave the spool file, the next 10 stay in it.
    const spool = createEventSpool({ dir, fsync: "always", maxBytes: 1 << 20, compactBytes: 15 * lineBytes, redis, stream: "s", logger, gatewayId: "gw-r", commandTimeoutMs: 2000 });
    try {
      await spool.start();
      for (let q = 1; q <= 20; q++) spool.append(ev(q));
      await spool.flush();
      expect(readFileSync(join(dir, "spool.jsonl"), "utf8")).not.toContain('"n":');
      for (let q = 21; q <= 30; q++) spool.append(ev(q));
      await spool.flush();
      expect(await streamIds(redis, "s")).toEqual(ids(1, 30));
      // The first forward ever (no marker yet) is no rollback.
      expect(rolledBackLogs(lines)).toEqual([]);

      await child.kill("SIGKILL");
      await child.start();
      for (let q = 31; q <= 35; q++) spool.append(ev(q));
      await waitFor(() => spool.stats().pending === 0 && spool.stats().redisUp, "forwarding after the empty restart");

      // 1..20 are gone for good (compacted away); 21..30 were sent again before 31..35.
      expect(await streamIds(redis, "s")).toEqual(ids(21, 35));
      expect(spool.stats()).toMatchObject({ redisRollbacks: 1, forwarded: 45, alreadyForwarded: 0, skippedIds: 0, pending: 0 });
      const [log, ...more] = rolledBackLogs(lines);
      expect(more).toEqual([]);
      expect(JSON.parse(log!)).toMatchObject({ level: "error", reach: 0, acked: 30, resent: 10, lost: 20, rollbacks: 1 });
      const metrics = new GatewayMetrics({ processMetrics: false });
      metrics.setCollectors({ spool: () => spool.stats() });
      expect(await metrics.render()).toContain("checkpoint_gateway_events_redis_rollbacks_total 1\n");
    } finally {
      await spool.close();
      redis.disconnect();
      await child.destroy();
    }
  });

  it("keys deleted while the gateway was stopped: the acknowledged position is kept in the state file, so the next start reports the loss; a new epoch or gateway id does not", async () => {
    const redis = new Redis(SHARED_REDIS);
    await redis.ping();
    const stream = `test:events:rollback:${rid()}`;
    const dir = tmpDir("rollback");
    const fresh = tmpDir("rollback");
    dirs.push(dir, fresh);
    const make = (d: string, logger = captureLogger().logger, gatewayId = "gw-r") => createEventSpool({ dir: d, fsync: "interval", maxBytes: 1 << 20, redis, stream, logger, gatewayId });
    try {
      const a = make(dir);
      await a.start();
      for (let q = 1; q <= 10; q++) a.append(ev(q));
      await a.flush();
      await a.close();
      const { epoch } = JSON.parse(readFileSync(join(dir, "spool.state.json"), "utf8")) as { epoch: string };
      const marker = markerKey(stream, "gw-r", epoch);
      await redis.del(stream, marker, idsKey(marker));

      const { logger, lines } = captureLogger();
      const b = make(dir, logger);
      await b.start();
      b.append(ev(11));
      await b.flush();
      // A start rewrites the spool file with the pending records only, so 1..10 are not held any
      // more: reported lost, with their count.
      expect(await streamIds(redis, stream)).toEqual(ids(11, 11));
      expect(b.stats()).toMatchObject({ redisRollbacks: 1, forwarded: 1, pending: 0 });
      expect(JSON.parse(rolledBackLogs(lines)[0]!)).toMatchObject({ level: "error", reach: 0, acked: 10, resent: 0, lost: 10 });
      await b.close();

      // Another spool directory (a new epoch, its own marker) on the same stream: nothing to report.
      const c = make(fresh, logger);
      await c.start();
      c.append(makeEvent("gw-r", "L2", 1));
      await c.flush();
      expect(c.stats()).toMatchObject({ redisRollbacks: 0, forwarded: 1 });
      await c.close();
      // The first spool directory under a new gateway id: another marker key, no history to check.
      const d = make(dir, logger, "gw-r2");
      await d.start();
      d.append(makeEvent("gw-r2", "L1", 1));
      await d.flush();
      expect(d.stats()).toMatchObject({ redisRollbacks: 0, forwarded: 1 });
      await d.close();
      expect(rolledBackLogs(lines)).toHaveLength(1);
    } finally {
      const markers = await redis.keys(`{${stream}}:spool:*`);
      await redis.del(stream, ...markers);
      redis.disconnect();
    }
  });
});
