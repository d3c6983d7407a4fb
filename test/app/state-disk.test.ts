/**
 * A stateDir that cannot take a write (full, read-only after an ext4 error, refused): `config check`
 * and `run` both exit 75 (temporary: the unit restarts) with GW_STATE_DIR_UNWRITABLE naming the path and the errno (access(W_OK)
 * passed for root on a full disk and `run` died with a bare ENOSPC), and failed starts leave no
 * lock or temp file behind. The real disks are a small tmpfs (root only: skipped otherwise).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { acquireStateLock } from "../../src/app/state-lock.js";
import type { LockFs } from "../../src/core/dir-lock.js";
import { configSchema } from "../../src/config/schema.js";
import { preflight } from "../../src/config/preflight.js";
import { probeWritable, type ProbeFs } from "../../src/config/state-probe.js";
import { lockLedgerDir } from "../../src/output/ledger/lock.js";
import { CLI, runCli } from "../support/cli.js";

const root = mkdtempSync(join(tmpdir(), "cpgw-disk-"));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) spawnSync("umount", [m]);
  rmSync(root, { recursive: true, force: true });
});

const errno = (code: string, syscall: string) => Object.assign(new Error(`${code}: simulated, ${syscall}`), { code, syscall });
const noWarn = { warn: () => {} };

/** A 64 KiB tmpfs, filled to the last byte (`ro`: then remounted read-only); undefined when not root or mount fails. */
function smallDisk(name: string, how: "full" | "ro"): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = join(root, name);
  mkdirSync(dir);
  if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]).status !== 0) return undefined;
  mounts.push(dir);
  mkdirSync(join(dir, "state"));
  if (how === "full") spawnSync("dd", ["if=/dev/zero", `of=${join(dir, "state", "filler")}`, "bs=4k"]);
  else if (spawnSync("mount", ["-o", "remount,ro", dir]).status !== 0) return undefined;
  return join(dir, "state");
}

function configFile(stateDir: string): string {
  const f = join(root, `c${readdirSync(root).length}.yaml`);
  writeFileSync(f, `gateway: { stateDir: ${JSON.stringify(stateDir)} }\nserver: { listen: { host: 127.0.0.1, port: 0 } }\nlanes:\n  - id: l1\ncameras:\n  - id: c1\n    lane: l1\n    url: rtsp://127.0.0.1/y\n`);
  return f;
}

describe("a stateDir that cannot take a write", () => {
  for (const [how, code] of [["full", "ENOSPC"], ["ro", "EROFS"]] as const) {
    it(`${how} disk (${code}): config check and run exit 75 with GW_STATE_DIR_UNWRITABLE, the path and the errno; nothing is left behind`, (ctx) => {
      const sd = smallDisk(how, how);
      if (!sd) return ctx.skip();
      const before = readdirSync(sd);
      const f = configFile(sd);
      const check = runCli(["config", "check", f]);
      expect(check.status).toBe(75);
      expect(check.stderr).toMatch(new RegExp(`GW_STATE_DIR_UNWRITABLE: cannot write: ${code} \\(.+\\) at ${sd}`));
      // Bounded: were the disk fine, `run` would start and never return.
      const run = spawnSync(process.execPath, [CLI, "run", "--config", f], { encoding: "utf8", timeout: 20_000 });
      expect(run.status).toBe(75);
      expect(run.stderr).toContain(`GW_STATE_DIR_UNWRITABLE: cannot write: ${code}`);
      expect(readdirSync(sd)).toEqual(before);
    });
  }

  it("full disk: the stateDir lock (past the preflight: the disk filled since) is GW_STATE_DIR_UNWRITABLE and the ledger lock is ENOSPC, both leave no file", (ctx) => {
    const sd = smallDisk("full-lock", "full");
    if (!sd) return ctx.skip();
    expect(() => acquireStateLock(sd, noWarn)).toThrow(expect.objectContaining({ code: "GW_STATE_DIR_UNWRITABLE", message: expect.stringContaining(`ENOSPC (no space left on device) at ${join(sd, "gateway.lock")}`) }));
    expect(readdirSync(sd)).toEqual(["filler"]);
    mkdirSync(join(sd, "ledger"));
    expect(() => lockLedgerDir(join(sd, "ledger"))).toThrow(expect.objectContaining({ code: "ENOSPC" }));
    expect(readdirSync(join(sd, "ledger"))).toEqual([]);
  });

  it("the stateDir lock maps disk errnos (EACCES, EROFS, ENOSPC, EDQUOT, EIO) to GW_STATE_DIR_UNWRITABLE; others pass as they are", () => {
    for (const code of ["EACCES", "EROFS", "ENOSPC", "EDQUOT", "EIO"]) {
      const sd = join(root, `inj-${code}`);
      const refusing: LockFs = { ...fs, writeFileSync: () => { throw errno(code, "open"); } };
      expect(() => acquireStateLock(sd, { ...noWarn, fs: refusing })).toThrow(expect.objectContaining({ code: "GW_STATE_DIR_UNWRITABLE", message: expect.stringMatching(new RegExp(`^gateway.stateDir ${sd} cannot be written: ${code} \\(simulated\\) at ${sd}/gateway.lock$`)) }));
    }
    const odd: LockFs = { ...fs, writeFileSync: () => { throw errno("EMFILE", "open"); } };
    expect(() => acquireStateLock(join(root, "inj-other"), { ...noWarn, fs: odd })).toThrow(expect.objectContaining({ code: "EMFILE" }));
  });
});

describe("the preflight's write probe", () => {
  const handle = (over: Partial<{ write: () => Promise<unknown>; sync: () => Promise<void> }> = {}) => ({ write: async () => 0, sync: async () => {}, close: async () => {}, ...over });

  it("reports a refused create, a failed write and a failed fsync with the errno and the file, and removes a file it created", async () => {
    const removed: string[] = [];
    const fsWith = (open: ProbeFs["open"]): ProbeFs => ({ open, unlink: async (p) => void removed.push(p) });
    expect(await probeWritable("/s", fsWith(async () => { throw errno("EACCES", "open"); }))).toMatch(/^EACCES \(simulated\) at \/s\/\.cpgw-probe-/);
    expect(removed).toEqual([]);
    expect(await probeWritable("/s", fsWith(async () => handle({ write: async () => { throw errno("ENOSPC", "write"); } })))).toMatch(/^ENOSPC \(simulated\) at \/s\/\.cpgw-probe-/);
    expect(await probeWritable("/s", fsWith(async () => handle({ sync: async () => { throw errno("EIO", "fsync"); } })))).toMatch(/^EIO \(simulated\) at /);
    expect(removed).toHaveLength(2);
    expect(await probeWritable("/s", fsWith(async () => handle()))).toBeUndefined();
    expect(removed).toHaveLength(3);
  });

  it("a real directory takes it and keeps nothing", async () => {
    const d = join(root, "fine");
    mkdirSync(d);
    expect(await probeWritable(d)).toBeUndefined();
    expect(readdirSync(d)).toEqual([]);
  });

  it("preflight reports an EACCES probe as GW_STATE_DIR_UNWRITABLE; a reload's preflight does not probe", async () => {
    const sd = join(root, "pf");
    mkdirSync(sd);
    const cfg = configSchema.parse({ gateway: { stateDir: sd }, server: { listen: { host: "127.0.0.1", port: 0 } }, lanes: [{ id: "l1" }], cameras: [{ id: "c1", lane: "l1", url: "rtsp://127.0.0.1/y" }] });
    const refusing: ProbeFs = { open: async () => { throw errno("EACCES", "open"); }, unlink: async () => {} };
    const { problems } = await preflight(cfg, { probeFs: refusing });
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^gateway.stateDir: GW_STATE_DIR_UNWRITABLE: cannot write: EACCES \\(simulated\\) at ${sd}/\\.cpgw-probe-`))]);
    expect((await preflight(cfg, { probeFs: refusing, probeState: false, skipPorts: true })).problems).toEqual([]);
  });
});
