import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { GatewayBus } from "../../src/core/bus.js";
import { createEventSpool } from "../../src/output/events/spool.js";
import { forwardBatch, markerKey } from "../../src/output/events/forward.js";
import type { SpoolRecord } from "../../src/output/events/spool-file.js";
import { createLedger } from "../../src/output/ledger/ledger.js";
import { verifyLedgerFiles } from "../../src/output/ledger/verify.js";
import { captureLogger, makeEvent, RedisChild, rmDir, tmpDir, waitFor } from "./helpers.js";

let child: RedisChild;
const dir = tmpDir("outage");

beforeAll(async () => {
  child = await RedisChild.create();
  await child.start();
});
afterAll(async () => {
  await child.destroy();
  rmDir(dir);
});

describe("Redis stopped and restarted while verdicts flow", () => {
  it("loses and duplicates nothing: XRANGE equals the ledger", async () => {
    const stream = "{cpgw}:verdicts";
    const redis = new Redis(child.port, "127.0.0.1", { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on("error", () => undefined);
    const { logger, lines } = captureLogger();
    const bus = new GatewayBus((e) => {
      throw e;
    });
    const spool = createEventSpool({ dir: join(dir, "spool"), fsync: "interval", maxBytes: 16 << 20, redis, stream, logger, gatewayId: "gw-o", commandTimeoutMs: 2000 });
    const ledger = createLedger({ dir: join(dir, "ledger"), gatewayId: "gw-o" });
    await spool.start();
    bus.on("verdict", (ev) => spool.append(ev));
    bus.on("verdict", (ev) => ledger.append(ev));

    const seqs = new Map<string, number>();
    let emitted = 0;
    const emitOne = (lane: string) => {
      const seq = (seqs.get(lane) ?? 0) + 1;
      seqs.set(lane, seq);
      bus.emit("verdict", makeEvent("gw-o", lane, seq));
      emitted++;
    };
    // Two lanes, a verdict each per tick: a busy checkpoint, well above 10 verdicts/s.
    const timer = setInterval(() => ["L1", "L2"].forEach(emitOne), 10);

    const outages: Array<{ signal: string; emittedDuringOutage: number; pendingAtRestart: number }> = [];
    try {
      for (const signal of ["SIGKILL", "SIGTERM", "SIGKILL", "SIGKILL"] as const) {
        const before = spool.stats().forwarded;
        await waitFor(() => spool.stats().forwarded >= before + 40 && spool.stats().redisUp, "forwarding before the outage");
        // A burst just before the kill, so a forward batch is likely in flight when Redis dies
        // (the XADD may or may not have been applied: the marker must sort that out).
        for (let i = 0; i < 300; i++) emitOne(i % 2 ? "L1" : "L2");
        await new Promise((r) => setImmediate(r));
        await child.kill(signal);
        await waitFor(() => !spool.stats().redisUp, "the spool to notice the outage");
        const atDown = emitted;
        await waitFor(() => emitted >= atDown + 40, "verdicts to keep flowing during the outage");
        outages.push({ signal, emittedDuringOutage: emitted - atDown, pendingAtRestart: spool.stats().pending });
        await child.start();
      }
      const before = spool.stats().forwarded;
      await waitFor(() => spool.stats().forwarded >= before + 40, "forwarding after the last restart");
    } finally {
      clearInterval(timer);
    }
    await spool.flush();
    const stats = spool.stats();
    await spool.close();
    await ledger.close();

    const entries = await redis.xrange(stream, "-", "+");
    const streamIds = entries.map(([, f]) => f[f.indexOf("id") + 1]!);
    const ledgerFiles = readdirSync(join(dir, "ledger")).filter((f) => f.endsWith(".jsonl")).sort().map((f) => join(dir, "ledger", f));
    const ledgerIds = ledgerFiles.flatMap((f) => readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id));
    redis.disconnect();

    // Names the first duplicated ids (stream position and entry id) so a failure says where it happened.
    const firstAt = new Map<string, number>();
    const dups = entries.flatMap(([sid], i) => (firstAt.has(streamIds[i]!) ? [`${streamIds[i]}@${i}/${sid} first@${firstAt.get(streamIds[i]!)}`] : (firstAt.set(streamIds[i]!, i), [])));
    console.log(`[events] redis outage test: dups=${dups.length} ${dups.slice(0, 3).join(" ")} emitted=${emitted} ledger=${ledgerIds.length} stream=${streamIds.length} unique=${new Set(streamIds).size} dropped=${stats.dropped} forwarded=${stats.forwarded} alreadyForwarded=${stats.alreadyForwarded} outages=${JSON.stringify(outages)}`);
    expect(verifyLedgerFiles(ledgerFiles).ok).toBe(true);
    expect(ledgerIds.length).toBe(emitted);
    expect(new Set(streamIds).size).toBe(streamIds.length);
    expect(streamIds).toEqual(ledgerIds);
    // `forwarded` is what the script added; a batch applied whose reply was lost in the kill is resent
    // and skipped by the marker (alreadyForwarded). No event id was refused as reused.
    expect(stats).toMatchObject({ spooled: emitted, dropped: 0, pending: 0, skippedIds: 0 });
    expect(stats.forwarded + stats.alreadyForwarded).toBe(emitted);
    // A batch in flight at the kill may simply be resent by ioredis after the restart, so not every
    // outage is seen by the pump; at least one is.
    expect(lines.filter((l) => l.includes("GW_REDIS_UNAVAILABLE")).length).toBeGreaterThanOrEqual(1);
    expect(outages.every((o) => o.pendingAtRestart > 0)).toBe(true);
  });
});

describe("a forward script's AOF block torn by a SIGKILL", () => {
  it("with aof-load-truncated no and redis-check-aof --fix, the resent batch is in the stream once, across two restarts", async () => {
    const torn = await RedisChild.create();
    try {
      await torn.start();
      const connect = () => new Redis(torn.port, "127.0.0.1", { maxRetriesPerRequest: 0, retryStrategy: () => null });
      const stream = "{cpgw}:verdicts";
      const keys = { stream, marker: markerKey(stream, "gw-t", "e1") };
      const opts = { markerTtlS: 600, maxLen: 0 };
      const rec = (n: number): SpoolRecord => ({ n, id: `gw-t:L1:${n}`, lane: "L1", verdict: "PASS", reason: "OK", json: JSON.stringify({ id: `gw-t:L1:${n}`, pad: "x".repeat(400) }), bytes: 1, appendedAt: 0 });
      const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, k) => rec(a + k));
      const aofDir = join(torn.dir, "appendonlydir");
      const incr = () => join(aofDir, readdirSync(aofDir).find((f) => f.endsWith(".incr.aof"))!);
      const streamIds = async (r: Redis) => (await r.xrange(stream, "-", "+")).map(([, f]) => f[f.indexOf("id") + 1]!);

      let r = connect();
      await forwardBatch(r, keys, range(1, 10), opts);
      const before = statSync(incr()).size;
      // One script call: 300 XADD + ZADD written as one MULTI/EXEC block (about 200 KB).
      await forwardBatch(r, keys, range(11, 310), opts);
      const after = statSync(incr()).size;
      r.disconnect();
      await torn.kill("SIGKILL");
      // What a SIGKILL during that block's write() leaves: its first 60 %, cut mid-command. The
      // reply never left Redis, so the pump resends the batch.
      truncateSync(incr(), before + Math.floor((after - before) * 0.6));

      await torn.start();
      expect(torn.aofRepairs).toBe(1);
      r = connect();
      expect(await streamIds(r)).toHaveLength(10);
      expect(await forwardBatch(r, keys, range(11, 310), opts)).toMatchObject({ added: 300 });
      r.disconnect();
      await torn.kill("SIGTERM");

      await torn.start();
      r = connect();
      const ids = await streamIds(r);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(range(1, 310).map((x) => x.id));
      expect(await forwardBatch(r, keys, range(311, 312), opts)).toEqual({ added: 2, skippedIds: [], reused: [] });
      r.disconnect();
    } finally {
      await torn.destroy();
    }
  });
});
