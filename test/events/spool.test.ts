import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cpSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createEventSpool, type EventSpool } from "../../src/output/events/spool.js";
import { forwardBatch, hashTag, ID_WINDOW, markerKey } from "../../src/output/events/forward.js";
import { silentLogger } from "../../src/core/logger.js";
import { canRefuseFileWrites, captureLogger, freePort, makeEvent, refuseFileWrites, rid, rmDir, SHARED_REDIS, tmpDir, waitFor } from "./helpers.js";

let redis: Redis;
const keys: string[] = [];
const dirs: string[] = [];
const spools: EventSpool[] = [];

beforeAll(async () => {
  redis = new Redis(SHARED_REDIS);
  await redis.ping();
});
afterEach(async () => {
  for (const s of spools.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmDir(d);
});
afterAll(async () => {
  // Markers are per stream: remove the streams and every marker derived from them.
  for (const k of keys) {
    const markers = await redis.keys(`{${k}}:spool:*`);
    await redis.del(k, ...markers);
  }
  redis.disconnect();
});

function setup(overrides: Partial<Parameters<typeof createEventSpool>[0]> = {}) {
  const stream = `test:events:${rid()}`;
  keys.push(stream);
  const dir = tmpDir("spool");
  dirs.push(dir);
  const opts = { dir, fsync: "always" as const, maxBytes: 1 << 20, redis, stream, logger: silentLogger, gatewayId: "gw-t", ...overrides };
  const make = (o: Partial<Parameters<typeof createEventSpool>[0]> = {}) => {
    const s = createEventSpool({ ...opts, ...o });
    spools.push(s);
    return s;
  };
  return { stream, dir, make };
}

async function streamIds(stream: string): Promise<string[]> {
  const entries = await redis.xrange(stream, "-", "+");
  return entries.map(([, fields]) => fields[fields.indexOf("id") + 1]!);
}

describe("event spool -> Redis Stream", () => {
  it("forwards every verdict once, in order, with PII-free fields, and compacts the spool", async () => {
    const { stream, dir, make } = setup();
    const spool = make({ compactBytes: 1 });
    await spool.start();
    for (let i = 1; i <= 120; i++) spool.append(makeEvent("gw-t", i % 2 ? "L1" : "L2", i));
    await spool.flush();
    const ids = await streamIds(stream);
    expect(ids).toEqual(Array.from({ length: 120 }, (_, k) => `gw-t:${(k + 1) % 2 ? "L1" : "L2"}:${k + 1}`));
    const [first] = await redis.xrange(stream, "-", "+", "COUNT", 1);
    const f = first![1];
    expect(Object.fromEntries(f.reduce<string[][]>((a, v, i) => (i % 2 ? a : [...a, [v, f[i + 1]!]]), []))).toMatchObject({ id: "gw-t:L1:1", lane: "L1", verdict: "PASS", reason: "OK" });
    const event = JSON.parse(f[f.indexOf("event") + 1]!) as Record<string, unknown>;
    expect(event).toMatchObject({ id: "gw-t:L1:1", payloadHash: "ffeeddccbbaa9988" });
    expect(spool.stats()).toMatchObject({ spooled: 120, forwarded: 120, pending: 0, pendingBytes: 0, dropped: 0, redisUp: true });
    // Compacted to the header alone: epoch and position floor, no records.
    expect(readFileSync(join(dir, "spool.jsonl"), "utf8")).toMatch(/^\{"epoch":"[0-9a-f]{16}","base":120\}\n$/);
  });

  it.runIf(canRefuseFileWrites)("an append the disk refuses is counted in stats() and degraded until Redis has the event", async () => {
    const { stream, dir, make } = setup();
    const spool = make();
    await spool.start();
    expect(spool.stats()).toMatchObject({ writeErrors: 0, fsyncErrors: 0, compactionErrors: 0, degraded: false });
    const undo = refuseFileWrites(join(dir, "spool.jsonl"));
    try {
      spool.append(makeEvent("gw-t", "L1", 1));
    } finally {
      undo();
    }
    // Synchronously after the append: the event is in memory only, Redis cannot have it yet.
    expect(spool.stats()).toMatchObject({ writeErrors: 1, fsyncErrors: 0, degraded: true, pending: 1 });
    expect(readFileSync(join(dir, "spool.jsonl"), "utf8")).not.toContain("gw-t:L1:1");
    await spool.flush();
    expect(await streamIds(stream)).toEqual(["gw-t:L1:1"]);
    expect(spool.stats()).toMatchObject({ writeErrors: 1, degraded: false, pending: 0 });
  });

  it("an event id appended twice is forwarded once", async () => {
    const { stream, make } = setup();
    const spool = make();
    await spool.start();
    spool.append(makeEvent("gw-t", "L1", 1));
    spool.append(makeEvent("gw-t", "L1", 1));
    spool.append(makeEvent("gw-t", "L1", 2));
    await spool.flush();
    expect(await streamIds(stream)).toEqual(["gw-t:L1:1", "gw-t:L1:2"]);
    expect(spool.stats().duplicates).toBe(1);
  });

  it("a reused event id is refused by the guard but counted and logged, never reported as forwarded", async () => {
    const { stream, make } = setup();
    const a = make();
    await a.start();
    for (let i = 1; i <= 3; i++) a.append(makeEvent("gw-t", "L1", i));
    await a.flush();
    await a.close();
    // Same spool dir (same epoch), a new FLAG event under an id handed out before (a seq file that lost a write).
    const { logger, lines } = captureLogger();
    const b = make({ logger });
    await b.start();
    b.append(makeEvent("gw-t", "L1", 2, { verdict: "FLAG", reason: "REVOKED" }));
    b.append(makeEvent("gw-t", "L1", 4));
    await b.flush();
    expect(await streamIds(stream)).toEqual(["gw-t:L1:1", "gw-t:L1:2", "gw-t:L1:3", "gw-t:L1:4"]);
    expect(b.stats()).toMatchObject({ spooled: 2, forwarded: 1, skippedIds: 1, pending: 0 });
    const warn = lines.find((l) => l.includes('"code":"GW_EVENTS_ID_SKIPPED"'));
    expect(warn).toContain('"level":"warn"');
    expect(warn).toContain("gw-t:L1:2");
  });

  it("a crash between XADD and the state write does not duplicate (marker in Redis)", async () => {
    const { stream, dir, make } = setup();
    const a = make();
    await a.start();
    for (let i = 1; i <= 30; i++) a.append(makeEvent("gw-t", "L1", i));
    await a.flush();
    // Simulate the crash: on disk the spool still holds all 30 and the state says nothing was forwarded.
    const state = JSON.parse(readFileSync(join(dir, "spool.state.json"), "utf8")) as { epoch: string; doneN: number };
    await a.close();
    writeFileSync(join(dir, "spool.state.json"), JSON.stringify({ ...state, doneN: 0 }));
    writeFileSync(join(dir, "spool.jsonl"), Array.from({ length: 30 }, (_, k) => `{"n":${k + 1},"e":${JSON.stringify({ ...makeEvent("gw-t", "L1", k + 1) })}}\n`).join(""));
    const b = make();
    await b.start();
    b.append(makeEvent("gw-t", "L1", 31));
    await b.flush();
    expect(await streamIds(stream)).toEqual(Array.from({ length: 31 }, (_, k) => `gw-t:L1:${k + 1}`));
    // The script's count, not the batch size: 30 resent records were already there.
    expect(b.stats()).toMatchObject({ forwarded: 1, alreadyForwarded: 30, skippedIds: 0 });
  });

  it("positions reused after a power cut (the disk lost the spool's tail and state) carry new events: forwarded, counted and logged, never skipped", async () => {
    const { stream, dir, make } = setup({ fsync: "interval" });
    const a = make();
    await a.start();
    for (let i = 1; i <= 10; i++) a.append(makeEvent("gw-t", "L1", i));
    await a.flush();
    const { epoch } = JSON.parse(readFileSync(join(dir, "spool.state.json"), "utf8")) as { epoch: string };
    await a.close();
    // Power cut within the fsync interval: 6..10 were forwarded (marker 10) but neither they nor the
    // new doneN reached the disk, which holds doneN 5 and records 1..5.
    writeFileSync(join(dir, "spool.state.json"), JSON.stringify({ epoch, doneN: 5 }));
    writeFileSync(join(dir, "spool.jsonl"), `{"epoch":"${epoch}","base":0}\n` + [1, 2, 3, 4, 5].map((n) => `{"n":${n},"e":${JSON.stringify(makeEvent("gw-t", "L1", n))}}\n`).join(""));
    const { logger, lines } = captureLogger();
    const b = make({ logger });
    await b.start();
    // New verdicts, fresh ids, at positions 6..8 again.
    for (let i = 11; i <= 13; i++) b.append(makeEvent("gw-t", "L1", i));
    await b.flush();
    expect(await streamIds(stream)).toEqual(Array.from({ length: 13 }, (_, k) => `gw-t:L1:${k + 1}`));
    expect(b.stats()).toMatchObject({ forwarded: 3, alreadyForwarded: 0, skippedIds: 0, reusedPositions: 3, markerResets: 0 });
    const warn = lines.find((l) => l.includes('"code":"GW_EVENTS_MARKER_AHEAD"'));
    expect(warn).toContain('"level":"warn"');
    expect(warn).toContain("gw-t:L1:11");
  });

  it("a spool restored from a copy older than ID_WINDOW positions: new events at the old positions reach the stream, counted and logged as reused", async () => {
    const { stream, dir, make } = setup();
    const a = make();
    await a.start();
    for (let i = 1; i <= 10; i++) a.append(makeEvent("gw-t", "L1", i));
    await a.flush();
    await a.close();
    const copy = tmpDir("spool-copy");
    dirs.push(copy);
    cpSync(dir, copy, { recursive: true });
    // The live spool went on for more than ID_WINDOW positions after the copy; one record at its
    // last position stands for them (the id set is trimmed from the marker, so 1..10 are forgotten).
    const { epoch } = JSON.parse(readFileSync(join(dir, "spool.state.json"), "utf8")) as { epoch: string };
    const far = ID_WINDOW + 50;
    await forwardBatch(redis, { stream, marker: markerKey(stream, "gw-t", epoch) }, [{ n: far, id: `gw-t:L1:${far}`, lane: "L1", verdict: "PASS", reason: "OK", json: "{}", bytes: 2, appendedAt: 0 }], { markerTtlS: 600, maxLen: 0 });
    rmDir(dir);
    cpSync(copy, dir, { recursive: true });
    const { logger, lines } = captureLogger();
    const b = make({ logger });
    await b.start();
    // New FLAG verdicts under new ids (the lane's seq file, restored too, is recovered past the recorded ids).
    const fresh = Array.from({ length: 5 }, (_, k) => 200_001 + k);
    for (const q of fresh) b.append(makeEvent("gw-t", "L1", q, { verdict: "FLAG", reason: "REVOKED" }));
    await b.flush();
    expect((await streamIds(stream)).slice(-5)).toEqual(fresh.map((q) => `gw-t:L1:${q}`));
    expect(b.stats()).toMatchObject({ forwarded: 5, alreadyForwarded: 0, reusedPositions: 5, redisRollbacks: 0, pending: 0 });
    expect(lines.find((l) => l.includes('"code":"GW_EVENTS_MARKER_AHEAD"'))).toContain("gw-t:L1:200001");
  });

  it.each(["garbage", "1000000000000000"])("a marker set to %s in Redis neither stalls forwarding nor skips events: reset, counted and logged", async (bad) => {
    const { stream, dir, make } = setup({ commandTimeoutMs: 2000 });
    const { logger, lines } = captureLogger();
    const s = make({ logger });
    await s.start();
    const { epoch } = JSON.parse(readFileSync(join(dir, "spool.state.json"), "utf8")) as { epoch: string };
    const key = markerKey(stream, "gw-t", epoch);
    await redis.set(key, bad);
    for (let i = 1; i <= 3; i++) s.append(makeEvent("gw-t", "L1", i, { verdict: "FLAG", reason: "REVOKED" }));
    await s.flush();
    // Once more after some ids are known, so the reset is checked against the id set too.
    await redis.set(key, bad);
    s.append(makeEvent("gw-t", "L1", 4));
    await s.flush();
    expect(await streamIds(stream)).toEqual(["gw-t:L1:1", "gw-t:L1:2", "gw-t:L1:3", "gw-t:L1:4"]);
    expect(s.stats()).toMatchObject({ forwarded: 4, alreadyForwarded: 0, markerResets: 2, pending: 0, redisUp: true });
    expect(await redis.get(key)).toBe("4");
    const reset = lines.filter((l) => l.includes('"code":"GW_EVENTS_MARKER_AHEAD"') && l.includes(`"markerWas":"${bad}"`));
    expect(reset.length).toBe(2);
    expect(reset[0]).toContain('"level":"error"');
  });

  it("a lost state file keeps the epoch (spool header): pending events are resent without duplicates, positions never reused", async () => {
    const { stream, dir, make } = setup();
    const a = make();
    await a.start();
    for (let i = 1; i <= 20; i++) a.append(makeEvent("gw-t", "L1", i));
    await a.flush();
    await a.close();
    // The crash case: records forwarded but still in the file, and the state file gone.
    const state = JSON.parse(readFileSync(join(dir, "spool.state.json"), "utf8")) as { epoch: string };
    writeFileSync(join(dir, "spool.jsonl"), `{"epoch":"${state.epoch}","base":0}\n` + Array.from({ length: 20 }, (_, k) => `{"n":${k + 1},"e":${JSON.stringify(makeEvent("gw-t", "L1", k + 1))}}\n`).join(""));
    rmDir(join(dir, "spool.state.json"));
    const { logger, lines } = captureLogger();
    const b = make({ logger });
    await b.start();
    b.append(makeEvent("gw-t", "L1", 21));
    await b.flush();
    expect(await streamIds(stream)).toEqual(Array.from({ length: 21 }, (_, k) => `gw-t:L1:${k + 1}`));
    expect(b.stats()).toMatchObject({ forwarded: 1, alreadyForwarded: 20 });
    expect(lines.some((l) => l.includes("recovered from the spool file's header"))).toBe(true);
    await b.close();
    // Everything forwarded and compacted away: the header alone still keeps positions from restarting at 1.
    rmDir(join(dir, "spool.state.json"));
    const c = make();
    await c.start();
    c.append(makeEvent("gw-t", "L1", 22));
    await c.flush();
    expect(await streamIds(stream)).toEqual(Array.from({ length: 22 }, (_, k) => `gw-t:L1:${k + 1}`));
  });

  it("keeps events spooled across a restart while Redis is unreachable, then forwards them in order", async () => {
    const { stream, dir, make } = setup();
    const deadPort = await freePort();
    const dead = new Redis(deadPort, "127.0.0.1", { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    dead.on("error", () => undefined);
    const a = make({ redis: dead });
    await a.start();
    for (let i = 1; i <= 25; i++) a.append(makeEvent("gw-t", "L1", i));
    expect(a.stats()).toMatchObject({ spooled: 25, forwarded: 0, pending: 25, redisUp: false });
    await a.close();
    dead.disconnect();
    // A torn last line, as a crash mid-write leaves it.
    appendFileSync(join(dir, "spool.jsonl"), '{"n":26,"e":{"id":"gw-t:L1:2');
    const { logger, lines } = captureLogger();
    const b = make({ logger });
    await b.start();
    b.append(makeEvent("gw-t", "L1", 26));
    await b.flush();
    expect(await streamIds(stream)).toEqual(Array.from({ length: 26 }, (_, k) => `gw-t:L1:${k + 1}`));
    expect(lines.some((l) => l.includes("badLines"))).toBe(true);
  });

  it("bounds the spool: drops the oldest with a loud GW_SPOOL_FULL, forwards the newest in order", async () => {
    const { stream, make } = setup();
    const deadPort = await freePort();
    const dead = new Redis(deadPort, "127.0.0.1", { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    dead.on("error", () => undefined);
    const { logger, lines } = captureLogger();
    const a = make({ redis: dead, maxBytes: 8 * 1024, logger });
    await a.start();
    for (let i = 1; i <= 100; i++) a.append(makeEvent("gw-t", "L1", i));
    const st = a.stats();
    expect(st.dropped).toBeGreaterThan(0);
    expect(st.pendingBytes).toBeLessThanOrEqual(8 * 1024);
    expect(st.dropped + st.pending).toBe(100);
    const full = lines.filter((l) => l.includes('"code":"GW_SPOOL_FULL"'));
    expect(full.length).toBe(1);
    expect(full[0]).toContain('"level":"error"');
    await a.close();
    dead.disconnect();
    const b = make();
    await b.start();
    await b.flush();
    const ids = await streamIds(stream);
    expect(ids).toEqual(Array.from({ length: st.pending }, (_, k) => `gw-t:L1:${st.dropped + k + 1}`));
  });

  it("refuses append before start and ignores appends after close", async () => {
    const { make } = setup();
    const s = make();
    expect(() => s.append(makeEvent("gw-t", "L1", 1))).toThrow(/before start/);
    await s.start();
    await s.close();
    expect(() => s.append(makeEvent("gw-t", "L1", 2))).not.toThrow();
  });
});

describe("marker key (cluster slot)", () => {
  it("shares the stream's hash tag", () => {
    expect(hashTag("cpgw:verdicts")).toBeUndefined();
    expect(hashTag("{cpgw}:verdicts")).toBe("cpgw");
    expect(hashTag("a{}b")).toBeUndefined();
    expect(markerKey("cpgw:verdicts", "gw-1", "ab")).toBe("{cpgw:verdicts}:spool:gw-1:ab");
    expect(markerKey("{city}:verdicts", "gw-1", "ab")).toBe("{city}:spool:gw-1:ab");
    expect(() => markerKey("a{}b", "gw-1", "ab")).toThrow(/hash tag/);
  });
});

describe("event spool shutdown", () => {
  it("flush() returns at once while Redis is unreachable (events stay on disk) instead of hanging a shutdown", async () => {
    const { make } = setup();
    const dead = new Redis(await freePort(), "127.0.0.1", { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    dead.on("error", () => undefined);
    const s = make({ redis: dead });
    await s.start();
    s.append(makeEvent("gw-t", "L1", 1));
    await s.flush();
    expect(s.stats()).toMatchObject({ pending: 1, forwarded: 0 });
    await s.close();
    dead.disconnect();
  });
});

describe("forward script failure", () => {
  it("reports a Redis error (stream key of the wrong type) as down, and recovers once it is fixed", async () => {
    const { stream, make } = setup();
    await redis.set(stream, "not a stream");
    const { logger, lines } = captureLogger();
    const s = make({ logger });
    await s.start();
    s.append(makeEvent("gw-t", "L1", 1));
    await waitFor(() => lines.some((l) => l.includes("WRONGTYPE")), "the WRONGTYPE error logged");
    expect(s.stats()).toMatchObject({ forwarded: 0, pending: 1, redisUp: false });
    await redis.del(stream);
    await waitFor(() => s.stats().forwarded === 1, "forwarded after the key was fixed", 30_000, 50);
    expect(await streamIds(stream)).toEqual(["gw-t:L1:1"]);
  });
});
