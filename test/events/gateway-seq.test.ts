import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { Redis } from "ioredis";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/core/logger.js";
import type { LaneStatus, VerdictEvent } from "../../src/core/types.js";
import { result } from "../lane/helpers.js";
import type { Gateway } from "../../src/app/gateway.js";
import { SYNTHETIC, startGateway } from "../support/gateway.js";
import { credentialsOnDisk } from "../e2e/support.js";
import { makeReadOnly, rid, SHARED_REDIS, waitFor } from "./helpers.js";
import { deleteKeysWith } from "../support/redis.js";

/** The real gateway wiring (FileSeqStore in stateDir, lanes, bus): ids that cannot be persisted put the lane out of service. */
describe("gateway with a state dir whose event ids cannot be persisted", () => {
  const gws: Gateway[] = [];
  const undo: Array<() => void> = [];
  let dir = "";
  const prefix = `cpgw-test-${rid()}:`;
  afterAll(async () => {
    const r = new Redis(SHARED_REDIS);
    await deleteKeysWith(r, prefix);
    r.disconnect();
    undo.forEach((u) => u());
    await Promise.all(gws.map((g) => g.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a lane starts out of service when its seq file is unreadable, and goes out of service when the dir turns read-only", async () => {
    expect.hasAssertions();
    const c = await credentialsOnDisk();
    dir = c.dir;
    const make = (id: string) =>
      parseConfig({
        // One id per durable write: the read-only dir shows at the very next verdict (blocks: seq-store.test.ts).
        gateway: { id, stateDir: join(dir, id), hashSalt: "site-salt-0123456789abcdef", eventIdBlock: 1 },
        server: { listen: { host: "127.0.0.1", port: 0 } },
        decode: { workers: 1 },
        cameras: [
          { id: `${id}-a`, lane: "A", ...SYNTHETIC, width: 320, height: 240, fps: 4 },
          { id: `${id}-b`, lane: "B", ...SYNTHETIC, width: 320, height: 240, fps: 4 },
        ],
        lanes: [{ id: "A" }, { id: "B" }],
        trust: { lists: [{ source: c.trustList, rootKey: c.rootKey }] },
        redis: { url: SHARED_REDIS, keyPrefix: prefix, stream: `${prefix}verdicts` },
      });
    // Lane B's seq "file" is a directory: unreadable, not missing.
    mkdirSync(join(dir, "gw-q", "lanes", "B.seq"), { recursive: true });
    writeFileSync(join(dir, "gw-q", "lanes", "A.seq"), "41\n");
    const g = await startGateway(make("gw-q"), { logger: silentLogger });
    gws.push(g);
    const verdicts: VerdictEvent[] = [];
    const statuses: LaneStatus[] = [];
    g.bus.on("verdict", (v) => verdicts.push(v));
    g.bus.on("lane-status", (s) => statuses.push(s));
    const a = g.lanes.get("A")!;
    const b = g.lanes.get("B")!;
    await waitFor(() => a.status().state === "idle", "lane A in service", 30_000, 50);
    expect(b.status().state).toBe("out-of-service");
    expect(b.status().problems).toContain("EVENTS_SEQ_ERROR");

    const read = (cameraId: string, text: string) => result(cameraId, 1, performance.now(), [text]);
    await a.onDecode(read("gw-q-a", c.creds.passes.valid));
    expect(verdicts.map((v) => v.id)).toEqual(["gw-q:A:42"]);

    undo.push(makeReadOnly(join(dir, "gw-q", "lanes")));
    await waitFor(() => a.status().state === "idle", "lane A idle again (after the pass hold)", 30_000, 50);
    await a.onDecode(read("gw-q-a", c.creds.passes.expired));
    expect(verdicts.map((v) => v.id)).toEqual(["gw-q:A:42"]);
    expect(a.status()).toMatchObject({ state: "out-of-service" });
    expect(a.status().problems).toContain("EVENTS_SEQ_ERROR");
    expect(statuses.some((s) => s.lane === "A" && s.state === "out-of-service" && s.problems.includes("EVENTS_SEQ_ERROR"))).toBe(true);
    // Ledger and stream agree: the one event with a persisted id, nothing with an unsaved one.
    const r = new Redis(SHARED_REDIS);
    try {
      await waitFor(async () => (await r.xlen(`${prefix}verdicts`)) >= 1, "the verdict in the stream", 20_000, 50);
      const streamIds = (await r.xrange(`${prefix}verdicts`, "-", "+")).map(([, f]) => f[f.indexOf("id") + 1]);
      const ledgerDir = join(dir, "gw-q", "ledger");
      const ledgerIds = readdirSync(ledgerDir)
        .filter((f) => f.endsWith(".jsonl"))
        .flatMap((f) => readFileSync(join(ledgerDir, f), "utf8").split("\n").filter(Boolean))
        .map((l) => (JSON.parse(l) as { id: string }).id);
      expect(streamIds).toEqual(["gw-q:A:42"]);
      expect(ledgerIds).toEqual(streamIds);
    } finally {
      r.disconnect();
    }
  }, 90_000);
});
