import { afterEach, describe, expect, it } from "vitest";
import { EventEmitter } from "node:events";
import { appendFileSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { FakeClock } from "../../src/core/clock.js";
import { createEventSpool } from "../../src/output/events/spool.js";
import { recordLine } from "../../src/output/events/spool-file.js";
import { toWireEvent } from "../../src/output/events/wire.js";
import { GatewayMetrics } from "../../src/output/metrics/index.js";
import { captureLogger, makeEvent, rmDir, tmpDir } from "./helpers.js";

/** Just enough of ioredis for the forward script: an id is added once, and calls can hang. */
class FakeRedis extends EventEmitter {
  status = "ready";
  entries: string[] = [];
  hang = false;
  held: Array<() => void> = [];
  calls = 0;
  /** The `acked` argument of every forward call. */
  acked: number[] = [];
  /** The forward script (3 keys) or the owner lease (1 key: always granted to the caller). */
  evalsha(_sha: string, nkeys: number, ...rest: (string | number)[]): Promise<unknown> {
    if (nkeys === 1) return Promise.resolve(String(rest[1]));
    this.acked.push(Number(rest[6]));
    const rec = rest.slice(7);
    this.calls++;
    const run = () => {
      let added = 0;
      for (let i = 0; i < rec.length; i += 6) {
        if (this.entries.includes(String(rec[i + 1]))) continue;
        this.entries.push(String(rec[i + 1]));
        added++;
      }
      // added, markerWas, rolledBack, #skipped, markerType (forward.ts)
      return [added, "", "", 0, ""];
    };
    if (!this.hang) return Promise.resolve(run());
    return new Promise((resolve) => this.held.push(() => resolve(run())));
  }
  /** Lease release. */
  eval(): Promise<number> {
    return Promise.resolve(1);
  }
  info(): Promise<string> {
    return Promise.resolve("# Memory\r\nmaxmemory_policy:noeviction\r\n");
  }
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(rmDir));
const settle = () => new Promise((r) => setImmediate(r));

describe("event spool with a fake clock and a scripted Redis", () => {
  it("times out a hung command, retries with backoff, and the late completion adds nothing twice", async () => {
    const dir = tmpDir("spool-fake");
    dirs.push(dir);
    const clock = new FakeClock();
    const redis = new FakeRedis();
    const { logger, lines } = captureLogger();
    const spool = createEventSpool({ dir, fsync: "never", maxBytes: 1 << 20, redis: redis as unknown as Redis, stream: "s", logger, clock, commandTimeoutMs: 10_000 });
    await spool.start();
    redis.hang = true;
    for (let i = 1; i <= 3; i++) spool.append(makeEvent("gw-f", "L1", i));
    await settle();
    expect(redis.calls).toBe(1);
    clock.advance(9_999);
    await settle();
    expect(spool.stats()).toMatchObject({ forwarded: 0, redisUp: true });
    clock.advance(1);
    await settle();
    expect(spool.stats().redisUp).toBe(false);
    expect(lines.some((l) => l.includes("GW_REDIS_UNAVAILABLE") && l.includes("timed out"))).toBe(true);
    // Redis answers again; the retry waits for the first backoff step (250 ms), not a busy loop.
    redis.hang = false;
    clock.advance(249);
    await settle();
    expect(redis.calls).toBe(1);
    clock.advance(1);
    await settle();
    await settle();
    expect(redis.calls).toBe(2);
    expect(spool.stats()).toMatchObject({ forwarded: 3, pending: 0, redisUp: true });
    // The hung call finally completes inside Redis: the id guard makes it a no-op.
    redis.held.splice(0).forEach((f) => f());
    await settle();
    expect(redis.entries).toEqual(["gw-f:L1:1", "gw-f:L1:2", "gw-f:L1:3"]);
    await spool.close();
  });

  it("tells the script what Redis acknowledged, and stops once the marker may have expired by itself (a month without verdicts is no rollback)", async () => {
    const dir = tmpDir("spool-fake");
    dirs.push(dir);
    const clock = new FakeClock();
    const redis = new FakeRedis();
    const spool = createEventSpool({ dir, fsync: "never", maxBytes: 1 << 20, redis: redis as unknown as Redis, stream: "s", logger: captureLogger().logger, clock });
    await spool.start();
    const day = 86_400_000;
    const start = clock.now();
    spool.append(makeEvent("gw-f", "L1", 1));
    await settle();
    clock.setWall(start + 28 * day);
    spool.append(makeEvent("gw-f", "L1", 2));
    await settle();
    clock.setWall(start + 28 * day + 29 * day);
    spool.append(makeEvent("gw-f", "L1", 3));
    await settle();
    // The first forward ever: nothing acknowledged. Then position 1, 28 days on. 29 days after the
    // last acknowledgement the marker's 30-day TTL may have run out: nothing to check against.
    expect(redis.acked).toEqual([0, 1, 0]);
    expect(spool.stats()).toMatchObject({ forwarded: 3, redisRollbacks: 0 });
    await spool.close();
  });

  it("waits for the client's ready event instead of polling fast while Redis is down", async () => {
    const dir = tmpDir("spool-fake");
    dirs.push(dir);
    const clock = new FakeClock();
    const redis = new FakeRedis();
    redis.status = "reconnecting";
    const spool = createEventSpool({ dir, fsync: "interval", maxBytes: 1 << 20, redis: redis as unknown as Redis, stream: "s", logger: captureLogger().logger, clock });
    await spool.start();
    spool.append(makeEvent("gw-f", "L1", 1));
    await settle();
    expect(redis.calls).toBe(0);
    // One 1 s re-check, the fsync timer and the lease renewal: nothing spins.
    expect(clock.pendingCount).toBeLessThanOrEqual(3);
    redis.status = "ready";
    redis.emit("ready");
    await settle();
    await settle();
    expect(redis.entries).toEqual(["gw-f:L1:1"]);
    await spool.close();
    expect(clock.pendingCount).toBe(0);
  });
});

describe("spool bound on disk (Redis takes nothing for a long time)", () => {
  it("keeps the file within twice the bound: the records the bound drops are compacted away, once per bound's worth of verdicts", async () => {
    const dir = tmpDir("spool-fake");
    dirs.push(dir);
    const clock = new FakeClock();
    const redis = new FakeRedis();
    redis.status = "reconnecting";
    const maxBytes = 16 * 1024;
    const { logger, lines } = captureLogger();
    // compactBytes below the bound: what limits the file is the bound, as with the defaults (1 MiB, 64 MiB).
    const spool = createEventSpool({ dir, fsync: "never", maxBytes, compactBytes: 4096, redis: redis as unknown as Redis, stream: "s", gatewayId: "gw-f", logger, clock });
    await spool.start();
    const file = join(dir, "spool.jsonl");
    const lineBytes = Buffer.byteLength(recordLine(1, JSON.stringify(toWireEvent(makeEvent("gw-f", "L1", 1)))));
    let biggest = 0;
    let rewrites = 0;
    let ino = statSync(file).ino;
    let appended = 0;
    for (let i = 1; appended < 10 * maxBytes; i++) {
      spool.append(makeEvent("gw-f", "L1", i));
      appended += lineBytes;
      const st = statSync(file);
      biggest = Math.max(biggest, st.size);
      if (st.ino !== ino) rewrites++;
      ino = st.ino;
    }
    const stats = spool.stats();
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.pendingBytes).toBeLessThanOrEqual(maxBytes);
    expect(biggest).toBeLessThanOrEqual(2 * maxBytes + 100 + lineBytes);
    // About one rewrite per bound's worth of appends (nine here), never one per verdict.
    expect(rewrites).toBeGreaterThanOrEqual(5);
    expect(rewrites).toBeLessThanOrEqual(12);
    expect(stats.compactionErrors).toBe(0);
    expect(lines.filter((l) => l.includes('"code":"GW_SPOOL_FULL"')).length).toBe(1);
    await spool.close();
    // What the file holds is exactly what is pending: the next start finds that backlog and nothing more.
    const again = createEventSpool({ dir, fsync: "never", maxBytes, redis: new FakeRedis() as unknown as Redis, stream: "s", gatewayId: "gw-f", logger: captureLogger().logger, clock: new FakeClock() });
    await again.start();
    expect(again.stats()).toMatchObject({ recoveredAtStart: stats.pending, dropped: 0 });
    await again.close();
  });

  it("starts on a spool file far larger than a string can hold: the newest records within the bound are forwarded, the rest are counted as dropped on /metrics", async () => {
    const dir = tmpDir("spool-fake");
    dirs.push(dir);
    const file = join(dir, "spool.jsonl");
    const epoch = "00112233aabbccdd";
    writeFileSync(join(dir, "spool.state.json"), JSON.stringify({ epoch, doneN: 0 }));
    writeFileSync(file, `{"epoch":"${epoch}","base":0}\n`);
    // 600 MiB of zeros (sparse), as a power cut can leave a file's unwritten blocks, then 300 records.
    truncateSync(file, statSync(file).size + 600 * 1024 * 1024);
    const recs = Array.from({ length: 300 }, (_, k) => recordLine(k + 1, JSON.stringify(toWireEvent(makeEvent("gw-f", "L1", k + 1)))));
    appendFileSync(file, "\n" + recs.join(""));
    const maxBytes = 32 * 1024;
    let keep = 0;
    for (let bytes = 0; bytes + Buffer.byteLength(recs[299 - keep]!) <= maxBytes; keep++) bytes += Buffer.byteLength(recs[299 - keep]!);
    const clock = new FakeClock();
    const redis = new FakeRedis();
    const { logger, lines } = captureLogger();
    const spool = createEventSpool({ dir, fsync: "never", maxBytes, redis: redis as unknown as Redis, stream: "s", gatewayId: "gw-f", logger, clock });
    await spool.start();
    await settle();
    expect(redis.entries).toEqual(Array.from({ length: keep }, (_, k) => `gw-f:L1:${300 - keep + k + 1}`));
    expect(spool.stats()).toMatchObject({ dropped: 300 - keep, recordsDamaged: 1, recoveredAtStart: keep, pending: 0 });
    expect(lines.some((l) => l.includes('"code":"GW_SPOOL_FULL"') && l.includes(`"dropped":${300 - keep}`))).toBe(true);
    // Rewritten at once, so the next start does not read it again.
    expect(statSync(file).size).toBeLessThanOrEqual(maxBytes + 100);
    expect(JSON.parse(readFileSync(join(dir, "spool.state.json"), "utf8"))).toMatchObject({ epoch, doneN: 300 - keep });
    const metrics = new GatewayMetrics({ processMetrics: false });
    metrics.setCollectors({ spool: () => spool.stats() });
    expect(await metrics.render()).toContain(`checkpoint_gateway_events_spool_dropped_total ${300 - keep}\n`);
    await spool.close();
  });
});
