import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { GatewayBus } from "../../src/core/bus.js";
import { createEventSpool } from "../../src/output/events/spool.js";
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
    const timer = setInterval(() => {
      // Two lanes, a couple of verdicts per tick: a busy checkpoint, well above 10 verdicts/s.
      for (const lane of ["L1", "L2"]) {
        const seq = (seqs.get(lane) ?? 0) + 1;
        seqs.set(lane, seq);
        bus.emit("verdict", makeEvent("gw-o", lane, seq));
        emitted++;
      }
    }, 10);

    const outages: Array<{ signal: string; spooledDuringOutage: number }> = [];
    try {
      for (const signal of ["SIGKILL", "SIGTERM", "SIGKILL"] as const) {
        const before = spool.stats().forwarded;
        await waitFor(() => spool.stats().forwarded >= before + 40 && spool.stats().redisUp, "forwarding before the outage");
        await child.kill(signal);
        await waitFor(() => !spool.stats().redisUp, "the spool to notice the outage");
        const atDown = emitted;
        await waitFor(() => spool.stats().pending >= 40, "events to pile up in the spool");
        outages.push({ signal, spooledDuringOutage: emitted - atDown });
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

    console.log(`[events] redis outage test: emitted=${emitted} ledger=${ledgerIds.length} stream=${streamIds.length} unique=${new Set(streamIds).size} dropped=${stats.dropped} outages=${JSON.stringify(outages)}`);
    expect(verifyLedgerFiles(ledgerFiles).ok).toBe(true);
    expect(ledgerIds.length).toBe(emitted);
    expect(new Set(streamIds).size).toBe(streamIds.length);
    expect(streamIds).toEqual(ledgerIds);
    expect(stats).toMatchObject({ spooled: emitted, forwarded: emitted, dropped: 0, pending: 0 });
    expect(lines.filter((l) => l.includes("GW_REDIS_UNAVAILABLE")).length).toBeGreaterThanOrEqual(3);
  });
});
