/**
 * One gateway per stateDir: a second one (another process, or a second gateway in this one) is
 * refused with GW_STATE_DIR_LOCKED; a lock whose holder is gone, or whose pid now belongs to a later
 * process, is taken over with a warning.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireStateLock, LOCK_FILE, type LockRecord } from "../../src/app/state-lock.js";
import { CLI, runCli } from "../support/cli.js";
import { lockDirs } from "../support/pids.js";

const { root: dir, newDir: stateDir, liveChild, deadPid } = lockDirs("cpgw-lock-");
const writeLock = (sd: string, r: Partial<LockRecord>) => {
  mkdirSync(sd, { recursive: true });
  writeFileSync(join(sd, LOCK_FILE), JSON.stringify({ instance: "other", host: hostname(), startedAt: Date.now(), ...r }));
};
const warnings = () => {
  const seen: string[] = [];
  return { seen, warn: (msg: string) => void seen.push(msg) };
};

describe("stateDir lock", () => {
  it("a second gateway on the same stateDir is refused with GW_STATE_DIR_LOCKED; after release it starts", () => {
    const sd = stateDir();
    const w = warnings();
    const first = acquireStateLock(sd, w);
    expect(() => acquireStateLock(sd, w)).toThrow(expect.objectContaining({ code: "GW_STATE_DIR_LOCKED", message: expect.stringContaining(`pid ${process.pid}`) }));
    first.release();
    expect(existsSync(join(sd, LOCK_FILE))).toBe(false);
    const again = acquireStateLock(sd, w);
    again.release();
    expect(w.seen).toEqual([]);
  });

  it("a lock held by a live process is refused with GW_STATE_DIR_LOCKED, naming its pid; a stale one is taken over with the stateDir warning (rules: src/core/dir-lock.test.ts)", () => {
    const sd = stateDir();
    const pid = liveChild();
    writeLock(sd, { pid, startedAt: Date.now() + 5000 });
    expect(() => acquireStateLock(sd, warnings())).toThrow(expect.objectContaining({ code: "GW_STATE_DIR_LOCKED", message: expect.stringContaining(`pid ${pid}`) }));
    expect(JSON.parse(readFileSync(join(sd, LOCK_FILE), "utf8")).pid).toBe(pid);
    const stale = stateDir();
    writeLock(stale, { pid: deadPid() });
    const w = warnings();
    const lock = acquireStateLock(stale, w);
    expect(w.seen).toEqual(["taking over a stale stateDir lock"]);
    lock.release();
    expect(existsSync(join(stale, LOCK_FILE))).toBe(false);
  });

  it("`run` refuses a locked stateDir with the code and exit 2; `config check` reports it", () => {
    const sd = stateDir();
    const pid = liveChild();
    writeLock(sd, { pid, startedAt: Date.now() + 5000 });
    const f = join(dir, "locked.yaml");
    writeFileSync(f, `gateway: { stateDir: ${JSON.stringify(sd)} }\nserver: { listen: { host: 127.0.0.1, port: 0 } }\nlanes:\n  - id: l1\ncameras:\n  - id: c1\n    lane: l1\n    url: rtsp://127.0.0.1/y\n`);
    // Bounded: without the lock, `run` would start and never return.
    const run = spawnSync(process.execPath, [CLI, "run", "--config", f], { encoding: "utf8", timeout: 20_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("GW_STATE_DIR_LOCKED");
    expect(run.stderr).toContain(`pid ${pid}`);
    const check = runCli(["config", "check", f]);
    expect(check.status).toBe(2);
    expect(check.stderr).toContain("GW_STATE_DIR_LOCKED");
  });
});
