import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { promBinary } from "./prom.js";


describe("deploy/prometheus with promtool", () => {
  const run = (...args: string[]) => spawnSync(promBinary("promtool"), args, { cwd: "deploy/prometheus", encoding: "utf8" });

  it("alerts.yml passes promtool check rules", () => {
    const r = run("check", "rules", "alerts.yml");
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it("alerts.test.yml passes promtool test rules (camera down, lane out of service, display disconnected, spool growing, trust stale, decode workers restarting, ledger write or fsync errors)", () => {
    const r = run("test", "rules", "alerts.test.yml");
    expect(r.stdout + r.stderr).toContain("SUCCESS");
    expect(r.status).toBe(0);
    const tested = execFileSync("grep", ["-o", "alertname: [A-Za-z]*", "alerts.test.yml"], { cwd: "deploy/prometheus", encoding: "utf8" });
    for (const a of ["CheckpointCameraDown", "CheckpointLaneOutOfService", "CheckpointLaneDisplayDisconnected", "CheckpointEventSpoolGrowing", "CheckpointTrustStale", "CheckpointDecodeWorkersRestarting", "CheckpointLedgerWriteErrors", "CheckpointEventsNotExactlyOnce"]) {
      expect(tested).toContain(a);
    }
  });

  it("the example prometheus.yml (bearer token for /metrics) passes promtool check config", () => {
    const r = run("check", "config", "--syntax-only", "prometheus.yml");
    expect(r.stdout + r.stderr).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });
});
