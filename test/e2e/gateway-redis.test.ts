import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/core/logger.js";
import type { VerdictEvent } from "../../src/core/types.js";
import { result } from "../lane/helpers.js";
import type { Gateway } from "../../src/app/gateway.js";
import { SYNTHETIC, startGateway } from "../support/gateway.js";
import { credentialsOnDisk } from "./support.js";
import { deleteKeysWith } from "../support/redis.js";

/** Two gateways sharing the real Redis on 127.0.0.1:6379 (random key prefix, removed afterwards). */
describe("two gateways sharing Redis", () => {
  const prefix = `cpgw-test-${randomBytes(6).toString("hex")}:`;
  const gws: Gateway[] = [];
  let dir = "";
  afterAll(async () => {
    await Promise.all(gws.map((g) => g.close()));
    const r = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true });
    await r.connect();
    await deleteKeysWith(r, prefix);
    r.disconnect();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a pass accepted at gateway 1 is FLAG REPLAYED at gateway 2; the verdicts reach the Redis stream", async () => {
    const c = await credentialsOnDisk();
    dir = c.dir;
    const make = (id: string) =>
      parseConfig({
        gateway: { id, stateDir: join(dir, id), hashSalt: "shared-site-salt-0123456789" },
        server: { listen: { host: "127.0.0.1", port: 0 } },
        decode: { workers: 1 },
        cameras: [{ id: `${id}-cam`, lane: "L", ...SYNTHETIC, width: 320, height: 240, fps: 4 }],
        lanes: [{ id: "L" }],
        trust: { lists: [{ source: c.trustList, rootKey: c.rootKey }] },
        redis: { url: "redis://127.0.0.1:6379", keyPrefix: prefix, stream: `${prefix}verdicts` },
      });
    for (const id of ["gw-a", "gw-b"]) gws.push(await startGateway(make(id), { logger: silentLogger }));
    const verdicts: VerdictEvent[] = [];
    for (const g of gws) g.bus.on("verdict", (v) => verdicts.push(v));
    for (const g of gws) {
      const lane = g.lanes.get("L")!;
      const deadline = Date.now() + 30_000;
      while (lane.status().state !== "idle") {
        if (Date.now() > deadline) throw new Error("lane never became idle");
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // What the decode pool would hand the lane for a frame showing `text`.
    const read = (cameraId: string, text: string) => result(cameraId, 1, performance.now(), [text]);
    await gws[0]!.lanes.get("L")!.onDecode(read("gw-a-cam", c.creds.passes.valid));
    await gws[1]!.lanes.get("L")!.onDecode(read("gw-b-cam", c.creds.passes.valid));
    expect(verdicts.map((v) => `${v.gatewayId} ${v.verdict} ${v.reason}`)).toEqual(["gw-a PASS OK", "gw-b FLAG REPLAYED"]);
    expect(verdicts[0]!.credentialHash).toBe(verdicts[1]!.credentialHash);

    const r = new Redis({ host: "127.0.0.1", port: 6379 });
    try {
      const deadline = Date.now() + 20_000;
      let n = 0;
      while ((n = await r.xlen(`${prefix}verdicts`)) < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      expect(n).toBe(2);
      const entries = JSON.stringify(await r.xrange(`${prefix}verdicts`, "-", "+"));
      expect(entries).not.toContain("VN1:");
    } finally {
      r.disconnect();
    }
  }, 90_000);
});
