import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { bundleFixture } from "../support/bundle.js";
import { verifyLedgerFiles } from "../../src/output/ledger/verify.js";
import { RECOVERY_GAP } from "../../src/lane/seq-store.js";
import { RedisChild, rmDir, tmpDir } from "./helpers.js";

const CHILD = ".tmp/events/events-child.mjs";
let redisChild: RedisChild;
const stateDir = tmpDir("restart");

beforeAll(async () => {
  await bundleFixture("test/events/fixtures/events-child.ts", CHILD);
  redisChild = await RedisChild.create();
  await redisChild.start();
});
afterAll(async () => {
  await redisChild.destroy();
  rmDir(stateDir);
});

interface Life {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}
function life(args: Record<string, unknown>): Promise<Life> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD, JSON.stringify(args)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.on("error", reject);
    p.on("exit", (code, signal) => resolve({ code, signal, out }));
  });
}

/** The child's lease TTL (fixtures/events-child.ts) plus a margin. */
const leaseExpiry = () => new Promise((r) => setTimeout(r, 1700));

describe("gateway process killed between forward and acknowledgement, and a torn seq file", () => {
  it("ledger and stream hold the same events, each once, and no id is ever reused", async () => {
    const stream = "{cpgw}:restart";
    const base = { stateDir, redisUrl: redisChild.url, stream, gatewayId: "gw-r", lanes: ["L1", "L2"] };
    // Life 1 and 2: SIGKILLed right after a batch was applied in Redis, before the spool recorded it.
    const l1 = await life({ ...base, total: 400, dieAfterBatch: 3 });
    expect(l1.signal).toBe("SIGKILL");
    // A SIGKILLed gateway leaves its owner lease (1.5 s in the child): its restart waits it out, or
    // it would see GATEWAY_ID_CONFLICT (another live holder) and rightly not forward.
    await leaseExpiry();
    const l2 = await life({ ...base, total: 400, dieAfterBatch: 2 });
    expect(l2.signal).toBe("SIGKILL");
    // The disk tears L1's sequence file (what the old writeFileSync without fsync could leave).
    const l1Seq = Number(readFileSync(join(stateDir, "lanes", "L1.seq"), "utf8"));
    writeFileSync(join(stateDir, "lanes", "L1.seq"), "1\u0000\u0000");
    await leaseExpiry();
    const l3 = await life({ ...base, total: 300 });
    expect(l3.code).toBe(0);
    const last = JSON.parse(l3.out.trim()) as { made: number; pending: number; skippedIds: number; forwarded: number; alreadyForwarded: number };
    expect(last).toMatchObject({ made: 300, pending: 0, skippedIds: 0 });

    const ledgerFiles = readdirSync(join(stateDir, "ledger")).filter((f) => f.endsWith(".jsonl")).sort().map((f) => join(stateDir, "ledger", f));
    expect(verifyLedgerFiles(ledgerFiles).ok).toBe(true);
    const ledgerIds = ledgerFiles.flatMap((f) => readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id));
    const redis = new Redis(redisChild.url);
    const streamIds = (await redis.xrange(stream, "-", "+")).map(([, f]) => f[f.indexOf("id") + 1]!);
    redis.disconnect();
    console.log(`[events] restart test: ledger=${ledgerIds.length} stream=${streamIds.length} unique=${new Set(streamIds).size} life3=${JSON.stringify(last)}`);

    // Every event handed out in the killed lives is in the ledger (appended before the kill) and the stream.
    expect(ledgerIds.length).toBeGreaterThan(2 * 150);
    expect(new Set(ledgerIds).size).toBe(ledgerIds.length);
    expect(new Set(streamIds).size).toBe(streamIds.length);
    expect(streamIds).toEqual(ledgerIds);
    // No id reused: per lane, seqs only grow; L1 resumed after the torn file past a gap.
    for (const lane of ["L1", "L2"]) {
      const seqs = ledgerIds.filter((id) => id.startsWith(`gw-r:${lane}:`)).map((id) => Number(id.split(":")[2]));
      expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
    }
    const l1Seqs = ledgerIds.filter((id) => id.startsWith("gw-r:L1:")).map((id) => Number(id.split(":")[2]));
    expect(l1Seqs).toContain(l1Seq + RECOVERY_GAP + 1);
    expect(l1Seqs).not.toContain(l1Seq + 1);
  }, 120_000);
});
