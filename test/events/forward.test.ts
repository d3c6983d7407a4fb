import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { ackedForScript, forwardBatch, ID_WINDOW, idsKey, MARKER_TTL_S, markerKey } from "../../src/output/events/forward.js";
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
      // Only an id the set holds is a resend: one it does not hold is added, whatever the marker says,
      // also where the set knows nothing at its position (the marker is no proof of what the stream has).
      await redis.zrem(idsKey(m), "gw-f:L9:8");
      expect(await forwardBatch(redis, { stream, marker: m }, [at(8, "gw-f:L9:14")], opts)).toEqual({ added: 1, skippedIds: [], reused: [{ id: "gw-f:L9:14", n: 8 }] });
    } finally {
      await redis.del(m, idsKey(m));
    }
  });

  it("a spool restored from a copy older than ID_WINDOW positions: the new events at old positions are added and returned, not skipped", async () => {
    const m = markerKey(stream, "gw-f", "e-restored");
    try {
      const at = (n: number, id = `gw-f:R:${n}`) => rec(n, id);
      expect(await forwardBatch(redis, { stream, marker: m }, Array.from({ length: 100 }, (_, k) => at(k + 1)), opts)).toMatchObject({ added: 100 });
      // The copy is taken here; the live spool goes on past ID_WINDOW more positions (one record
      // stands for them: the trim works from the marker), so the id set forgets positions 1..100.
      expect(await forwardBatch(redis, { stream, marker: m }, [at(ID_WINDOW + 150)], opts)).toMatchObject({ added: 1 });
      expect(await redis.zcard(idsKey(m))).toBe(1);
      // Restored: positions 101..120 again, under new ids (the lane's seq file recovered past the recorded ids).
      const fresh = Array.from({ length: 20 }, (_, k) => at(101 + k, `gw-f:R:${200_001 + k}`));
      const res = await forwardBatch(redis, { stream, marker: m }, fresh, opts);
      expect(res).toEqual({ added: 20, skippedIds: [], reused: fresh.map((r) => ({ id: r.id, n: r.n })) });
      expect((await ids()).slice(-20)).toEqual(fresh.map((r) => r.id));
      expect(Number(await redis.get(m))).toBe(ID_WINDOW + 150);
    } finally {
      await redis.del(m, idsKey(m));
    }
  });
});

describe("forwardBatch when Redis lost what it acknowledged", () => {
  const m = markerKey(stream, "gw-f", "e-rollback");
  afterAll(async () => {
    await redis.del(m, idsKey(m));
  });
  const at = (n: number) => rec(n, `gw-f:B:${n}`);
  const upTo = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, k) => at(a + k));

  it("the first forward ever and a new epoch (no marker, nothing acknowledged) are no rollback", async () => {
    await redis.del(m, idsKey(m));
    expect(await forwardBatch(redis, { stream, marker: m }, upTo(1, 5), { ...opts, acked: 0 })).toEqual({ added: 5, skippedIds: [], reused: [] });
    expect(await forwardBatch(redis, { stream, marker: m }, upTo(6, 8), { ...opts, acked: 5 })).toEqual({ added: 3, skippedIds: [], reused: [] });
  });

  it("marker and id set gone (a restart without persistence): says so, adds nothing, writes nothing", async () => {
    await redis.del(m, idsKey(m));
    const before = (await ids()).length;
    expect(await forwardBatch(redis, { stream, marker: m }, upTo(9, 10), { ...opts, acked: 8 })).toEqual({ added: 0, skippedIds: [], reused: [], rolledBack: 0 });
    expect((await ids()).length).toBe(before);
    expect(await redis.exists(m, idsKey(m))).toBe(0);
  });

  it("marker and id set behind the acknowledged position (an older snapshot): says how far Redis reaches", async () => {
    await redis.del(m, idsKey(m));
    await forwardBatch(redis, { stream, marker: m }, upTo(1, 4), opts);
    expect(await forwardBatch(redis, { stream, marker: m }, upTo(9, 10), { ...opts, acked: 8 })).toEqual({ added: 0, skippedIds: [], reused: [], rolledBack: 4 });
    // The spool sends what it still holds after 4 and asks about 4 from then on.
    expect(await forwardBatch(redis, { stream, marker: m }, upTo(5, 10), { ...opts, acked: 4 })).toEqual({ added: 6, skippedIds: [], reused: [] });
  });

  it("a marker gone alone (deleted, evicted) while the id set reaches the acknowledged position is no rollback: resends are caught by id", async () => {
    await redis.del(m);
    expect(await forwardBatch(redis, { stream, marker: m }, upTo(9, 11), { ...opts, acked: 10 })).toEqual({ added: 1, skippedIds: [], reused: [] });
  });

  it("a marker reset for garbage that leaves Redis behind the acknowledged position is both, counted once", async () => {
    await redis.del(m, idsKey(m));
    await forwardBatch(redis, { stream, marker: m }, upTo(1, 3), opts);
    await redis.set(m, "garbage");
    expect(await forwardBatch(redis, { stream, marker: m }, upTo(7, 7), { ...opts, acked: 6 })).toEqual({ added: 0, skippedIds: [], reused: [], markerWas: "garbage", rolledBack: 3 });
    expect(await redis.get(m)).toBe("3");
  });
});

describe("ackedForScript", () => {
  const day = 86_400_000;
  it("sends the acknowledged position until a day before the marker's TTL could have ended by itself, and only under the same marker key", () => {
    const acked = { n: 42, at: 1000, marker: "k" };
    expect(ackedForScript(undefined, "k", 0)).toBe(0);
    expect(ackedForScript({ ...acked, n: 0 }, "k", 1000)).toBe(0);
    expect(ackedForScript(acked, "k", 1000 + 28 * day)).toBe(42);
    expect(ackedForScript(acked, "k", 1000 + 29 * day)).toBe(0);
    // A new gateway id or stream name: another marker, with no history to check.
    expect(ackedForScript(acked, "other", 1000)).toBe(0);
    expect(MARKER_TTL_S).toBe(30 * 86400);
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
