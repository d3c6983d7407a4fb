import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { promBinary } from "./prom.js";


describe("deploy/prometheus with promtool", () => {
  const run = (...args: string[]) => spawnSync(promBinary("promtool"), args, { cwd: "deploy/prometheus", encoding: "utf8" });

  it("alerts.yml passes promtool check rules", () => {
    const r = run("check", "rules", "alerts.yml");
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it("alerts.test.yml passes promtool test rules (camera down, lane out of service, display disconnected, spool growing, trust stale, trust source failing, decode workers restarting, ledger and spool write or fsync errors, a camera's frame path failing, skipped event ids, lanes without a verdict, a failing metrics collector, ledger anchor lagging and unsigned heads, replay guard degraded, trust expiring soon, decode workers missing, paused-lane state errors, a lane held closed by an unreadable paused.json past 10 minutes, records lost in a crash recovery, event forwarding held by a Redis key of the wrong type, an ffmpeg given up after SIGKILL, a camera stream above its configured fps, a TLS certificate expiring or not reloaded, a burst of auth refusals (also inside one scrape), a failed config reload, a restart waiting)", () => {
    const r = run("test", "rules", "alerts.test.yml");
    expect(r.stdout + r.stderr).toContain("SUCCESS");
    expect(r.status).toBe(0);
    const tested = execFileSync("grep", ["-o", "alertname: [A-Za-z]*", "alerts.test.yml"], { cwd: "deploy/prometheus", encoding: "utf8" });
    for (const a of ["CheckpointCameraDown", "CheckpointLaneOutOfService", "CheckpointLaneDisplayDisconnected", "CheckpointEventSpoolGrowing", "CheckpointTrustStale", "CheckpointDecodeWorkersRestarting", "CheckpointLedgerWriteErrors", "CheckpointLedgerDamaged", "CheckpointEventsNotExactlyOnce", "CheckpointTrustSourceFailing", "CheckpointCameraFramePathFailing", "CheckpointEventSpoolWriteErrors", "CheckpointEventsIdSkipped", "CheckpointLaneNoVerdict", "CheckpointMetricsCollectorFailing", "CheckpointLedgerAnchorLagging", "CheckpointLedgerAnchorSignErrors", "CheckpointReplayGuardDegraded", "CheckpointTrustExpiresSoon", "CheckpointDecodeWorkersMissing", "CheckpointPauseStateErrors", "CheckpointLanePauseStateUnknown", "CheckpointEventsLostInRecovery", "CheckpointEventsForwardBlocked", "CheckpointFfmpegAbandoned", "CheckpointCameraFpsAboveConfig", "CheckpointTlsCertificateExpiring", "CheckpointTlsCertificateExpiringSoon", "CheckpointTlsReloadFailing", "CheckpointAuthRefusalsBurst", "CheckpointConfigReloadFailed", "CheckpointConfigRestartRequired"]) {
      expect(tested).toContain(a);
    }
  });

  it("every alert in alerts.yml has a promtool test case", () => {
    const rules = [...readFileSync("deploy/prometheus/alerts.yml", "utf8").matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]!);
    const tested = new Set([...readFileSync("deploy/prometheus/alerts.test.yml", "utf8").matchAll(/alertname: (\w+)/g)].map((m) => m[1]!));
    expect(rules.length).toBeGreaterThan(15);
    expect(rules.filter((a) => !tested.has(a)), "alerts without a promtool case").toEqual([]);
  });

  it("the example prometheus.yml (bearer token for /metrics) passes promtool check config", () => {
    const r = run("check", "config", "--syntax-only", "prometheus.yml");
    expect(r.stdout + r.stderr).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });
});
