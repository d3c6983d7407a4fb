import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/core/logger.js";
import type { LaneStatus } from "../../src/core/types.js";
import { SYNTHETIC, startGateway } from "../support/gateway.js";
import { runCli } from "../support/cli.js";

describe("gateway wiring", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpgw-gw-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("starts with Redis configured but down (local replay guard), lanes go idle, shutdown puts them out of service", async () => {
    const cfg = parseConfig({
      gateway: { id: "gw-r", stateDir: join(dir, "state"), hashSalt: "robustness-salt-0123" },
      server: { listen: { host: "127.0.0.1", port: 0 } },
      decode: { workers: 1 },
      cameras: [{ id: "c1", lane: "L1", ...SYNTHETIC, width: 320, height: 240, fps: 5 }],
      lanes: [{ id: "L1" }],
      redis: { url: "redis://127.0.0.1:1", keyPrefix: `cpgw-test-${process.pid}:` },
      events: { ledger: true },
    });
    const gw = await startGateway(cfg, { logger: silentLogger });
    const statuses: LaneStatus[] = [];
    gw.bus.on("lane-status", (s) => statuses.push(s));
    const deadline = Date.now() + 30_000;
    const lane = gw.lanes.get("L1")!;
    while (lane.status().state !== "idle" || lane.stats().framesDecoded === 0) {
      if (Date.now() > deadline) throw new Error("lane never became idle with decoded frames");
      await new Promise((r) => setTimeout(r, 50));
    }
    const res = await fetch(`${gw.urls.public}/healthz`);
    expect(res.status).toBe(200);
    const mark = statuses.length;
    await gw.close();
    await gw.close(); // idempotent
    // The screen goes out of service before the cameras stop, not because they stopped.
    expect(statuses[mark]).toMatchObject({ lane: "L1", state: "out-of-service", problems: ["SHUTTING_DOWN"] });
    expect(statuses.at(-1)?.state).toBe("out-of-service");
  }, 60_000);

  it("run: an invalid config prints every problem and exits 2", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "cameras:\n  - { id: c1, lane: nowhere, source: file }\nlanes: []\nbogus: 1\n");
    const r = runCli(["run", "--config", bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("GW_CONFIG_INVALID");
    expect(r.stderr).toContain("bogus: unknown key");
    expect(r.stderr).toContain("cameras[c1].lane: no lane with this id");
    expect(r.stderr).toContain("cameras[c1].file: required when source is file");
  });

  it("run: an unknown option is a usage error (64)", () => {
    const r = runCli(["run", "--nope"]);
    expect(r.status).toBe(64);
  });
});

describe("run: a config that validates but cannot be used", () => {
  const dir = mkdtempSync(join(tmpdir(), "cpgw-run-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a missing trust root key exits 2 with the problem named", () => {
    const cfg = join(dir, "nokey.yaml");
    writeFileSync(cfg, `gateway: { stateDir: ${JSON.stringify(join(dir, "state"))} }\nserver: { listen: { host: 127.0.0.1, port: 0 } }\nlanes: [{ id: L1 }]\ntrust: { lists: [{ source: x.jws, rootKey: ${JSON.stringify(join(dir, "missing.jwk"))} }] }\n`);
    const r = runCli(["run", "--config", cfg]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("GW_CONFIG_INVALID");
    expect(r.stderr).toContain("trust.lists[0].rootKey: no such file or directory");
  });
});
