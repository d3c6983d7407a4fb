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
  it("skips positions at or below the marker when a batch is resent, and says how many it added", async () => {
    expect(await forwardBatch(redis, { stream, marker }, [rec(1), rec(2), rec(3)], opts)).toEqual({ added: 3, skippedIds: [] });
    expect(await forwardBatch(redis, { stream, marker }, [rec(2), rec(3), rec(4)], opts)).toEqual({ added: 1, skippedIds: [] });
    expect(await ids()).toEqual(["gw-f:L1:1", "gw-f:L1:2", "gw-f:L1:3", "gw-f:L1:4"]);
  });

  it("never adds an id twice, and returns every id it refused (marker lost, or an id reused under a new position)", async () => {
    await redis.del(marker);
    expect(await forwardBatch(redis, { stream, marker }, [rec(3), rec(4), rec(5)], opts)).toEqual({
      added: 1,
      skippedIds: [
        { id: "gw-f:L1:3", n: 3 },
        { id: "gw-f:L1:4", n: 4 },
      ],
    });
    // A reused id (a new event under an old id) is refused by the guard: the caller must be told.
    expect(await forwardBatch(redis, { stream, marker }, [rec(9, "gw-f:L1:2"), rec(10)], opts)).toEqual({ added: 1, skippedIds: [{ id: "gw-f:L1:2", n: 9 }] });
    expect(await ids()).toEqual(["gw-f:L1:1", "gw-f:L1:2", "gw-f:L1:3", "gw-f:L1:4", "gw-f:L1:5", "gw-f:L1:10"]);
    expect(Number(await redis.get(marker))).toBe(10);
  });
});
