/**
 * A key of the wrong Redis type under the stream, the id set or the forward marker made every forward
 * fail, logged as "Redis unavailable" for ever. Now: the stream and the id set (the record, and the
 * only proof of what it holds) are never replaced; forwarding is held with GW_EVENTS_REDIS_WRONGTYPE
 * naming the key, the events stay in the spool and go out exactly once when a person fixes the key.
 * The marker (bookkeeping the id set stands in for) is deleted and written anew, and nothing is
 * added twice. Against the shared Redis, every key under a prefix unique to this file.
 */
import { afterEach, describe, expect, it } from "vitest";
import { forwardBatch, idsKey, markerKey, RedisWrongTypeError } from "../../src/output/events/forward.js";
import type { SpoolRecord } from "../../src/output/events/spool-file.js";
import { createEventSpool, type EventSpool } from "../../src/output/events/spool.js";
import { GatewayMetrics } from "../../src/output/metrics/index.js";
import { redisScratch } from "../support/redis.js";
import { captureLogger, makeEvent, rmDir, SHARED_REDIS, tmpDir, waitFor } from "./helpers.js";

const { redis, prefix } = redisScratch(SHARED_REDIS);
const spools: EventSpool[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of spools.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmDir(d);
});

let n = 0;
const newStream = () => `${prefix}wt${n++}`;
const ids = async (stream: string) => (await redis.xrange(stream, "-", "+")).map(([, f]) => f[f.indexOf("id") + 1]);
const rec = (k: number): SpoolRecord => ({ n: k, id: `gw-w:L1:${k}`, lane: "L1", verdict: "PASS", reason: "OK", json: "{}", bytes: 2, appendedAt: 0 });
const opts = { markerTtlS: 600, maxLen: 0 };
type Line = { code?: string; level: number | string; key?: string; type?: string };
const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Line);

function spoolOn(stream: string) {
  const dir = tmpDir("wrongtype");
  dirs.push(dir);
  const { logger, lines } = captureLogger();
  const spool = createEventSpool({ dir, fsync: "never", maxBytes: 1 << 20, redis, stream, logger, gatewayId: "gw-w" });
  spools.push(spool);
  return { spool, lines };
}

describe("forward script: keys of the wrong Redis type", () => {
  it("a stream or an id set of another type: nothing is written (not even the marker), and the key is named", async () => {
    const stream = newStream();
    const marker = markerKey(stream, "gw-w", "e1");
    await redis.hset(stream, "not", "a stream");
    await expect(forwardBatch(redis, { stream, marker }, [rec(1)], opts)).rejects.toEqual(new RedisWrongTypeError(stream, "hash"));
    await redis.del(stream);
    // The marker is of another type too: it stays as it is while the id set blocks the call.
    await redis.hset(marker, "x", "1");
    await redis.rpush(idsKey(marker), "x");
    await expect(forwardBatch(redis, { stream, marker }, [rec(1)], opts)).rejects.toMatchObject({ code: "GW_EVENTS_REDIS_WRONGTYPE", key: idsKey(marker), type: "list" });
    expect(await redis.type(marker)).toBe("hash");
    expect(await redis.exists(stream)).toBe(0);
  });

  it("a marker of another type is replaced, and a resend is still skipped by the id set: nothing twice, nothing lost", async () => {
    const stream = newStream();
    const marker = markerKey(stream, "gw-w", "e1");
    expect(await forwardBatch(redis, { stream, marker }, [rec(1), rec(2)], opts)).toMatchObject({ added: 2 });
    await redis.del(marker);
    await redis.sadd(marker, "junk");
    // 1 and 2 resent (a lost reply), 3 new.
    expect(await forwardBatch(redis, { stream, marker }, [rec(1), rec(2), rec(3)], opts)).toEqual({ added: 1, skippedIds: [], reused: [], markerReplaced: { key: marker, type: "set" } });
    expect(await ids(stream)).toEqual(["gw-w:L1:1", "gw-w:L1:2", "gw-w:L1:3"]);
    expect(await redis.get(marker)).toBe("3");
  });

  it("a marker of another type with the id set gone too is no rollback: nothing reported lost, nothing resent twice", async () => {
    const stream = newStream();
    const marker = markerKey(stream, "gw-w", "e1");
    expect(await forwardBatch(redis, { stream, marker }, [rec(1), rec(2), rec(3)], opts)).toMatchObject({ added: 3 });
    await redis.del(marker, idsKey(marker));
    await redis.hset(marker, "x", "1");
    // Redis acknowledged 3; the stream still holds 1..3. Taken for a rollback to 0, the spool resent all of them.
    expect(await forwardBatch(redis, { stream, marker }, [rec(4)], { ...opts, acked: 3 })).toEqual({ added: 1, skippedIds: [], reused: [], markerReplaced: { key: marker, type: "hash" } });
    expect(await redis.get(marker)).toBe("4");
    expect(await ids(stream)).toEqual(["gw-w:L1:1", "gw-w:L1:2", "gw-w:L1:3", "gw-w:L1:4"]);
  });
});

describe("spool: keys of the wrong Redis type", () => {
  it("a stream of another type holds forwarding with GW_EVENTS_REDIS_WRONGTYPE (not 'Redis unavailable'); once fixed, every event goes out once", async () => {
    const stream = newStream();
    await redis.hset(stream, "not", "a stream");
    const { spool, lines } = spoolOn(stream);
    await spool.start();
    for (let k = 1; k <= 3; k++) spool.append(makeEvent("gw-w", "L1", k));
    await waitFor(() => parsed(lines).some((l) => l.code === "GW_EVENTS_REDIS_WRONGTYPE"), "the wrong-type error");
    const errs = parsed(lines).filter((l) => l.code === "GW_EVENTS_REDIS_WRONGTYPE");
    expect(errs).toEqual([expect.objectContaining({ level: "error", key: stream, type: "hash" })]);
    expect(parsed(lines).some((l) => l.code === "GW_REDIS_UNAVAILABLE")).toBe(false);
    expect(spool.stats()).toMatchObject({ pending: 3, forwarded: 0, redisUp: false });
    expect(await redis.type(stream)).toBe("hash");
    // Several retries later it is still said once.
    await new Promise((r) => setTimeout(r, 1200));
    expect(parsed(lines).filter((l) => l.code === "GW_EVENTS_REDIS_WRONGTYPE")).toHaveLength(1);

    await redis.del(stream);
    await waitFor(async () => (await ids(stream)).length === 3, "the held events forwarded", 15_000);
    await spool.flush();
    expect(await ids(stream)).toEqual(["gw-w:L1:1", "gw-w:L1:2", "gw-w:L1:3"]);
    expect(spool.stats()).toMatchObject({ pending: 0, forwarded: 3 });
  });

  it("a marker of another type is replaced, logged with its key and counted as a marker reset", async () => {
    const stream = newStream();
    const { spool, lines } = spoolOn(stream);
    await spool.start();
    spool.append(makeEvent("gw-w", "L1", 1));
    await spool.flush();
    const [marker] = await redis.keys(`{${stream}}:spool:gw-w:*[^s]`);
    expect(marker).toBeDefined();
    await redis.del(marker!);
    await redis.hset(marker!, "x", "1");
    spool.append(makeEvent("gw-w", "L1", 2));
    await spool.flush();
    expect(await ids(stream)).toEqual(["gw-w:L1:1", "gw-w:L1:2"]);
    expect(parsed(lines).filter((l) => l.code === "GW_EVENTS_REDIS_WRONGTYPE")).toEqual([expect.objectContaining({ level: "error", key: marker, type: "hash" })]);
    expect(spool.stats()).toMatchObject({ markerResets: 1, pending: 0 });
    expect(await redis.type(marker!)).toBe("string");
  });

  it("/metrics: events_forward_blocked{reason=\"wrongtype\"} is 0 while forwarding works, 1 while the key holds it, 0 once fixed", async () => {
    const stream = newStream();
    const { spool, lines } = spoolOn(stream);
    const metrics = new GatewayMetrics({ processMetrics: false });
    metrics.setCollectors({ spool: () => spool.stats() });
    const blocked = async () => (await metrics.render()).match(/^checkpoint_gateway_events_forward_blocked\{reason="wrongtype"\} (\d+)$/m)?.[1];
    await spool.start();
    spool.append(makeEvent("gw-w", "L1", 1));
    await spool.flush();
    expect(await blocked()).toBe("0");

    // The stream is deleted and made a hash by hand: the next event is held.
    await redis.del(stream);
    await redis.hset(stream, "not", "a stream");
    spool.append(makeEvent("gw-w", "L1", 2));
    await waitFor(() => parsed(lines).some((l) => l.code === "GW_EVENTS_REDIS_WRONGTYPE"), "the wrong-type error");
    expect(await blocked()).toBe("1");
    expect(spool.stats()).toMatchObject({ pending: 1, forwardBlocked: "wrongtype" });

    await redis.del(stream);
    await waitFor(async () => (await ids(stream)).length === 1, "the held event forwarded", 15_000);
    await spool.flush();
    expect(await blocked()).toBe("0");
  });

  it("a marker turned into a hash and the id set deleted: the spool forwards on and the stream gets no event twice", async () => {
    const stream = newStream();
    const { spool, lines } = spoolOn(stream);
    await spool.start();
    for (let k = 1; k <= 3; k++) spool.append(makeEvent("gw-w", "L1", k));
    await spool.flush();
    const [marker] = await redis.keys(`{${stream}}:spool:gw-w:*[^s]`);
    await redis.del(marker!, idsKey(marker!));
    await redis.hset(marker!, "x", "1");
    spool.append(makeEvent("gw-w", "L1", 4));
    await spool.flush();
    expect(await ids(stream)).toEqual(["gw-w:L1:1", "gw-w:L1:2", "gw-w:L1:3", "gw-w:L1:4"]);
    expect(parsed(lines).some((l) => l.code === "GW_EVENTS_REDIS_ROLLED_BACK")).toBe(false);
    expect(spool.stats()).toMatchObject({ markerResets: 1, redisRollbacks: 0, pending: 0, forwarded: 4 });
  });
});
