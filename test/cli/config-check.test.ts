import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, ["bin/checkpoint-gateway.js", ...args], { encoding: "utf8", env: { ...process.env, ...env } });

describe("checkpoint-gateway config check", () => {
  const dir = mkdtempSync(join(tmpdir(), "cfgcli-"));

  it("exits 2 and prints every problem for an invalid file", () => {
    const f = join(dir, "bad.yaml");
    writeFileSync(f, "lanes:\n  - id: l1\n    speed: 3\ncameras:\n  - id: c1\n    lane: l9\n    url: rtsp://x/y\n");
    const r = cli(["config", "check", f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("lanes.0.speed: unknown key (got '3')");
    expect(r.stderr).toContain("cameras.0.lane: no lane with this id (got 'l9')");
  });

  it("exits 0 for a valid file with ${ENV} secrets", () => {
    const f = join(dir, "good.yaml");
    writeFileSync(f, "lanes:\n  - id: l1\ncameras:\n  - id: c1\n    lane: l1\n    url: rtsp://127.0.0.1/y\n    password: ${CAM_PW}\n");
    const r = cli(["config", "check", f], { CAM_PW: "pw-from-env" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("ok (1 cameras, 1 lanes)");
  });

  it("exits 64 on an unknown command", () => {
    expect(cli(["frobnicate"]).status).toBe(64);
  });
});
