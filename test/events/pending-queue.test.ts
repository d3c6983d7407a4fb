import { describe, expect, it } from "vitest";
import { PendingQueue } from "../../src/output/events/pending-queue.js";
import { recordLine, type SpoolRecord } from "../../src/output/events/spool-file.js";

function rec(n: number, bytes = 10): SpoolRecord {
  return { n, id: `gw:L1:${n}`, lane: "L1", verdict: "PASS", reason: "OK", json: `{"id":"gw:L1:${n}"}`, bytes, appendedAt: 0 };
}

function filled(...ns: number[]): PendingQueue {
  const q = new PendingQueue();
  q.reset(ns.map((n) => rec(n)));
  return q;
}

describe("PendingQueue", () => {
  it("reset and push keep the byte total", () => {
    const q = filled(1, 2);
    expect(q.bytes).toBe(20);
    q.push(rec(3, 7));
    expect([q.length, q.bytes]).toEqual([3, 27]);
  });

  it("putBack puts older records at the front, with their bytes", () => {
    const q = filled(5, 6);
    q.putBack([rec(2, 4), rec(3, 4)]);
    expect(q.take(10).map((r) => r.n)).toEqual([2, 3, 5, 6]);
    expect(q.bytes).toBe(28);
  });

  it("take marks a batch in flight without removing it; ack removes exactly that batch", () => {
    const q = filled(1, 2, 3, 4, 5);
    const batch = q.take(2);
    expect(batch.map((r) => r.n)).toEqual([1, 2]);
    expect([q.length, q.inflight]).toEqual([5, 2]);
    q.ack(batch.length);
    expect([q.length, q.inflight, q.bytes]).toEqual([3, 0, 30]);
    expect(q.take(10).map((r) => r.n)).toEqual([3, 4, 5]);
  });

  it("release ends the flight and keeps the batch", () => {
    const q = filled(1, 2);
    q.take(2);
    q.release();
    expect([q.length, q.inflight]).toEqual([2, 0]);
  });

  it("dropOver drops oldest first until the bytes fit and reports the last dropped position", () => {
    const q = filled(4, 5, 6, 7);
    expect(q.dropOver(20)).toEqual({ dropped: 2, lastN: 5 });
    expect(q.take(10).map((r) => r.n)).toEqual([6, 7]);
    expect(q.bytes).toBe(20);
  });

  it("dropOver does nothing when the bytes fit", () => {
    const q = filled(1, 2);
    expect(q.dropOver(20)).toBeUndefined();
    expect(q.length).toBe(2);
  });

  it("dropOver never drops while a batch is in flight (its answer would acknowledge records that are gone)", () => {
    const q = filled(1, 2, 3);
    q.take(1);
    expect(q.dropOver(0)).toBeUndefined();
    expect(q.length).toBe(3);
    q.release();
    expect(q.dropOver(0)).toEqual({ dropped: 3, lastN: 3 });
    expect([q.length, q.bytes]).toEqual([0, 0]);
  });

  it("lines are the spool file lines of the pending records, in order", () => {
    const q = filled(8, 9);
    expect(q.lines()).toEqual([recordLine(8, '{"id":"gw:L1:8"}'), recordLine(9, '{"id":"gw:L1:9"}')]);
  });
});
