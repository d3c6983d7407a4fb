import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const unit = readFileSync("docs/deploy/checkpoint-gateway.service", "utf8");
const dir = mkdtempSync(join(tmpdir(), "unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `systemd-analyze verify` with the unit's install paths pointed at this checkout and this Node. */
function verify(extra?: string): { status: number | null; out: string } {
  const local = unit.replaceAll("/opt/node/node_modules/.bin/node", process.execPath).replaceAll("/opt/checkpoint-gateway", resolve("."));
  const file = join(dir, "checkpoint-gateway.service");
  writeFileSync(file, local);
  if (extra) {
    mkdirSync(`${file}.d`, { recursive: true });
    writeFileSync(join(`${file}.d`, "hwaccel.conf"), extra);
  }
  const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
  // Lines about units this one does not own (the host's own units) are not ours to judge.
  const out = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.includes("checkpoint-gateway")).join("\n");
  return { status: r.status, out };
}

describe("the shipped systemd unit", () => {
  it("passes systemd-analyze verify, also with the hwaccel drop-in", () => {
    expect(verify()).toEqual({ status: 0, out: "" });
    expect(verify(readFileSync("docs/deploy/hwaccel.conf", "utf8"))).toEqual({ status: 0, out: "" });
  });

  it("does not restart on an invalid config, reloads with SIGHUP, pings a watchdog and filters system calls", () => {
    for (const line of ["RestartPreventExitStatus=2", "ExecReload=/bin/kill -HUP $MAINPID", "Type=notify", "NotifyAccess=all", "SystemCallFilter=@system-service", "PrivateDevices=yes"]) {
      expect(unit.split("\n")).toContain(line);
    }
    expect(unit).toMatch(/^WatchdogSec=\d+s$/m);
    expect(readFileSync("docs/deploy/hwaccel.conf", "utf8")).toMatch(/^DeviceAllow=\/dev\/dri rw$/m);
  });
});
