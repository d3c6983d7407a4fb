import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { forwardBatch, idsKey, markerKey } from "../../src/output/events/forward.js";
import type { SpoolRecord } from "../../src/output/events/spool-file.js";
import { rid, SHARED_REDIS } from "./helpers.js";

let redis: Redis;
const stream = `cpgw-test:fwd:${rid()}`;
const marker = markerKey(stream, "gw-f", "e1");

const rec = (n: number, id = `gw-f:L1:${n}`): SpoolRecord => ({ n, id, lane: "L1", verdict: "PASS", reason: "OK", json: "{}", bytes: 2, appendedAt: 0 });
const ids = async () => (await redis.xrange(stream, "-", "+")).map(([, f]) => f[f.indexOf("id") + 1]);
const opts = { markerTtlS: 600, maxLen: 0 };

beforeAll(async () => {
  redis = new Redis(SHARED_REDIS);
  await redis.ping();
});
afterAll(async () => {
  await redis.del(stream, marker, idsKey(marker));
  redis.disconnect();
});

describe("forwardBatch (exactly once by event id)", () => {
  it("skips a resent batch's records the stream already has, and says how many it added", async () => {
    expect(await forwardBatch(redis, { stream, marker }, [rec(1), rec(2), rec(3)], opts)).toEqual({ added: 3, skippedIds: [], reused: [] });
    expect(await forwardBatch(redis, { stream, marker }, [rec(2), rec(3), rec(4)], opts)).toEqual({ added: 1, skippedIds: [], reused: [] });
    expect(await ids()).toEqual(["gw-f:L1:1", "gw-f:L1:2", "gw-f:L1:3", "gw-f:L1:4"]);
  });

  it("never adds an id twice, and returns every id it refused (an id reused under a new position)", async () => {
    // A lost marker: the id set alone still knows what was sent.
    await redis.del(marker);
    expect(await forwardBatch(redis, { stream, marker }, [rec(3), rec(4), rec(5)], opts)).toEqual({ added: 1, skippedIds: [], reused: [] });
    // A reused id (a new event under an old id) is refused by the guard: the caller must be told.
    expect(await forwardBatch(redis, { stream, marker }, [rec(9, "gw-f:L1:2"), rec(10)], opts)).toEqual({ added: 1, skippedIds: [{ id: "gw-f:L1:2", n: 9 }], reused: [] });
    expect(await ids()).toEqual(["gw-f:L1:1", "gw-f:L1:2", "gw-f:L1:3", "gw-f:L1:4", "gw-f:L1:5", "gw-f:L1:10"]);
    expect(Number(await redis.get(marker))).toBe(10);
  });

  it("adds new events at positions at or below the marker (positions reused after a power cut) and says which", async () => {
    const m = markerKey(stream, "gw-f", "e-cut");
    try {
      const at = (n: number, id = `gw-f:L9:${n}`) => rec(n, id);
      expect(await forwardBatch(redis, { stream, marker: m }, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => at(n)), opts)).toMatchObject({ added: 10 });
      // The spool lost its tail: positions 6 and 7 come back under new event ids while the marker says 10.
      expect(await forwardBatch(redis, { stream, marker: m }, [at(6, "gw-f:L9:11"), at(7, "gw-f:L9:12"), at(10), at(11, "gw-f:L9:13")], opts)).toEqual({
        added: 3,
        skippedIds: [],
        reused: [
          { id: "gw-f:L9:11", n: 6 },
          { id: "gw-f:L9:12", n: 7 },
        ],
      });
      expect((await ids()).slice(-3)).toEqual(["gw-f:L9:11", "gw-f:L9:12", "gw-f:L9:13"]);
      expect(Number(await redis.get(m))).toBe(11);
      // Resent after a crash, they are skipped like any resend.
      expect(await forwardBatch(redis, { stream, marker: m }, [at(6, "gw-f:L9:11"), at(7, "gw-f:L9:12")], opts)).toEqual({ added: 0, skippedIds: [], reused: [] });
      // At or below the marker, an id the set lost with nothing else known at its position is a
      // resend, as the marker says: never added twice.
      await redis.zrem(idsKey(m), "gw-f:L9:8");
      expect(await forwardBatch(redis, { stream, marker: m }, [at(8)], opts)).toEqual({ added: 0, skippedIds: [], reused: [] });
    } finally {
      await redis.del(m, idsKey(m));
    }
  });
});

describe("forwardBatch with a damaged marker", () => {
  const m = markerKey(stream, "gw-f", "e2");
  afterAll(async () => {
    await redis.del(m, idsKey(m));
  });

  it.each(["garbage", "1e15", "-3", "2.5"])("a marker holding %s is reset to the highest forwarded position, and nothing new is skipped", async (bad) => {
    await redis.del(m, idsKey(m));
    expect(await forwardBatch(redis, { stream, marker: m }, [rec(101), rec(102)], opts)).toMatchObject({ added: 2 });
    await redis.set(m, bad);
    const res = await forwardBatch(redis, { stream, marker: m }, [rec(102), rec(103), rec(104)], opts);
    expect(res).toEqual({ added: 2, skippedIds: [], reused: [], markerWas: bad });
    expect(Number(await redis.get(m))).toBe(104);
    // The id set survived (a huge marker used to empty it at the trim): a resend is still known.
    expect(await forwardBatch(redis, { stream, marker: m }, [rec(101), rec(104)], opts)).toEqual({ added: 0, skippedIds: [], reused: [] });
  });

  it("a huge marker on a fresh epoch (no ids yet) does not skip the first events", async () => {
    await redis.del(m, idsKey(m));
    await redis.set(m, "1000000000000000");
    expect(await forwardBatch(redis, { stream, marker: m }, [rec(1, "gw-f:L2:1"), rec(2, "gw-f:L2:2")], opts)).toEqual({ added: 2, skippedIds: [], reused: [], markerWas: "1000000000000000" });
  });
});
