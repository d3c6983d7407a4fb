import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import type { ForwardResult } from "../../src/output/events/forward.js";
import { backoffMs, ForwardPump } from "../../src/output/events/forward-pump.js";
import { PendingQueue } from "../../src/output/events/pending-queue.js";
import type { SpoolRecord } from "../../src/output/events/spool-file.js";
import { captureLogger } from "./helpers.js";

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function rec(n: number): SpoolRecord {
  return { n, id: `gw:L1:${n}`, lane: "L1", verdict: "PASS", reason: "OK", json: "{}", bytes: 10, appendedAt: 0 };
}

/** A scripted forward call: answers from `reply` (default: all added), or fails / hangs on demand. */
function setup(n: number, o: { batchMax?: number; status?: string; open?: boolean } = {}) {
  const clock = new FakeClock();
  const redis = { status: o.status ?? "ready" };
  const queue = new PendingQueue();
  queue.reset(Array.from({ length: n }, (_, k) => rec(k + 1)));
  const { logger, lines } = captureLogger();
  const calls: number[][] = [];
  const done: number[][] = [];
  const script = { fail: undefined as string | undefined, hang: false, lease: true, reply: undefined as ((b: readonly SpoolRecord[]) => ForwardResult) | undefined };
  const held: Array<() => void> = [];
  const rollbacks: Array<[number, number]> = [];
  let bounds = 0;
  const pump = new ForwardPump({
    redis,
    clock,
    log: logger,
    queue,
    batchMax: o.batchMax ?? 500,
    conflictPauseMs: 5000,
    holdsLease: () => Promise.resolve(script.lease),
    forward: (batch) => {
      calls.push(batch.map((r) => r.n));
      if (script.fail) return Promise.reject(new Error(script.fail));
      const res = script.reply?.(batch) ?? { added: batch.length, skippedIds: [], reused: [] };
      if (script.hang) return new Promise((resolve) => held.push(() => resolve(res)));
      return Promise.resolve(res);
    },
    enforceBound: () => bounds++,
    forwarded: (batch) => done.push(batch.map((r) => r.n)),
    rolledBack: (reach, count) => {
      rollbacks.push([reach, count]);
      script.reply = undefined;
    },
  });
  if (o.open !== false) pump.open();
  return { clock, redis, queue, lines, calls, done, script, held, rollbacks, pump, bounds: () => bounds };
}

describe("backoffMs", () => {
  it("steps 0.25 -> 5 s and stays at 5 s", () => {
    expect([0, 1, 2, 3, 4, 5, 50].map(backoffMs)).toEqual([250, 500, 1000, 2000, 5000, 5000, 5000]);
  });
});

describe("ForwardPump", () => {
  it("forwards the queue in order, one batch at a time, and releases drained() when empty", async () => {
    const { queue, calls, done, pump } = setup(5, { batchMax: 2 });
    let drained = false;
    void pump.drained().then(() => (drained = true));
    pump.kick();
    pump.kick(); // already running: no second concurrent call
    await settle();
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
    expect(done).toEqual(calls);
    expect([queue.length, queue.bytes, queue.inflight]).toEqual([0, 0, 0]);
    expect(drained).toBe(true);
    expect(pump.counts).toEqual({ forwarded: 5, alreadyForwarded: 0, skippedIds: 0, reusedPositions: 0, markerResets: 0, redisRollbacks: 0 });
    expect(pump.redisUp).toBe(true);
  });

  it("does nothing before open or after stop", async () => {
    const a = setup(1, { open: false });
    a.pump.kick();
    await settle();
    expect(a.calls).toEqual([]);
    const b = setup(1);
    await b.pump.stop();
    b.pump.kick();
    await settle();
    expect(b.calls).toEqual([]);
    expect(b.queue.length).toBe(1);
  });

  it("counts what the script added, what the stream already had and the refused ids, and logs the refused ones", async () => {
    const { lines, pump, script } = setup(4);
    script.reply = () => ({ added: 1, skippedIds: [{ id: "gw:L1:3", n: 3 }], reused: [] });
    pump.kick();
    await settle();
    expect(pump.counts).toEqual({ forwarded: 1, alreadyForwarded: 2, skippedIds: 1, reusedPositions: 0, markerResets: 0, redisRollbacks: 0 });
    const warn = lines.find((l) => l.includes('"code":"GW_EVENTS_ID_SKIPPED"'));
    expect(warn).toContain('"level":"warn"');
    expect(warn).toContain("gw:L1:3");
  });

  it("counts and logs records added at or below the marker (reused positions) and a marker that was reset", async () => {
    const { lines, pump, script } = setup(3);
    script.reply = () => ({ added: 3, skippedIds: [], reused: [{ id: "gw:L1:1", n: 1 }, { id: "gw:L1:2", n: 2 }], markerWas: "garbage" });
    pump.kick();
    await settle();
    expect(pump.counts).toEqual({ forwarded: 3, alreadyForwarded: 0, skippedIds: 0, reusedPositions: 2, markerResets: 1, redisRollbacks: 0 });
    const ahead = lines.filter((l) => l.includes('"code":"GW_EVENTS_MARKER_AHEAD"'));
    expect(ahead.find((l) => l.includes('"markerWas":"garbage"'))).toContain('"level":"error"');
    expect(ahead.find((l) => l.includes('"reusedTotal":2'))).toContain("gw:L1:2");
  });

  it("a batch refused because Redis lost what it acknowledged: counted, handed to the spool, then forwarded at once, never acknowledged itself", async () => {
    const { queue, calls, done, rollbacks, pump, script } = setup(3);
    script.reply = () => ({ added: 0, skippedIds: [], reused: [], rolledBack: 7 });
    pump.kick();
    await settle();
    expect(rollbacks).toEqual([[7, 1]]);
    // The spool answered (its queue would hold the records put back): no backoff, the next call follows.
    expect(calls).toEqual([[1, 2, 3], [1, 2, 3]]);
    expect(done).toEqual([[1, 2, 3]]);
    expect(queue.length).toBe(0);
    expect(pump.counts).toEqual({ forwarded: 3, alreadyForwarded: 0, skippedIds: 0, reusedPositions: 0, markerResets: 0, redisRollbacks: 1 });
  });

  it("while the client is not ready: one warning, drained() released at once, a 1 s re-check, and wake() resumes", async () => {
    const { clock, redis, lines, calls, pump } = setup(2, { status: "reconnecting" });
    expect(pump.redisUp).toBe(false);
    let drained = false;
    void pump.drained().then(() => (drained = true));
    pump.kick();
    await settle();
    expect(drained).toBe(true);
    clock.advance(3000);
    await settle();
    expect(lines.filter((l) => l.includes('"code":"GW_REDIS_UNAVAILABLE"'))).toHaveLength(1);
    expect(clock.pendingCount).toBe(1);
    redis.status = "ready";
    pump.wake();
    await settle();
    expect(calls).toEqual([[1, 2]]);
    expect(lines.some((l) => l.includes("redis reachable again"))).toBe(true);
  });

  it("a failed forward backs off 250 ms, then 500 ms, keeps the batch, and forwards it once Redis answers", async () => {
    const { clock, queue, lines, calls, done, pump, script, bounds } = setup(3);
    script.fail = "WRONGTYPE";
    pump.kick();
    await settle();
    expect(calls).toHaveLength(1);
    expect(pump.redisUp).toBe(false);
    expect([queue.length, queue.inflight]).toEqual([3, 0]);
    expect(bounds()).toBeGreaterThan(0);
    clock.advance(249);
    await settle();
    expect(calls).toHaveLength(1);
    clock.advance(1);
    await settle();
    expect(calls).toHaveLength(2);
    clock.advance(499);
    await settle();
    expect(calls).toHaveLength(2);
    script.fail = undefined;
    clock.advance(1);
    await settle();
    expect(done).toEqual([[1, 2, 3]]);
    expect(lines.filter((l) => l.includes("forwarding to redis failed"))).toHaveLength(1);
    // Success reset the backoff: the next failure waits 250 ms again.
    queue.push(rec(4));
    script.fail = "LOADING";
    pump.kick();
    await settle();
    const before = calls.length;
    clock.advance(250);
    await settle();
    expect(calls.length).toBe(before + 1);
    await pump.stop();
  });

  it("while another instance holds the lease: nothing forwarded, events kept, the bound applied, a pause", async () => {
    const { clock, queue, calls, pump, script, bounds } = setup(2);
    script.lease = false;
    pump.kick();
    await settle();
    expect(calls).toEqual([]);
    expect([queue.length, queue.inflight]).toEqual([2, 0]);
    expect(pump.redisUp).toBe(true);
    expect(bounds()).toBe(1);
    script.lease = true;
    clock.advance(4999);
    await settle();
    expect(calls).toEqual([]);
    clock.advance(1);
    await settle();
    expect(calls).toEqual([[1, 2]]);
  });

  it("stop waits for the batch in flight and its answer still leaves the queue", async () => {
    const { queue, held, done, pump, script } = setup(2);
    script.hang = true;
    pump.kick();
    await settle();
    expect(queue.inflight).toBe(2);
    let stopped = false;
    const stopping = pump.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    held.splice(0).forEach((f) => f());
    await stopping;
    expect(done).toEqual([[1, 2]]);
    expect([queue.length, queue.inflight]).toEqual([0, 0]);
  });

  it("releaseWaiters frees flush() callers even with events left", async () => {
    const { pump, script } = setup(1);
    script.hang = true;
    pump.kick();
    let drained = false;
    void pump.drained().then(() => (drained = true));
    await settle();
    expect(drained).toBe(false);
    pump.releaseWaiters();
    await settle();
    expect(drained).toBe(true);
  });
});
