/**
 * The lock shared by gateway.lock and ledger.lock: a live holder (another process, or a lock this
 * process holds) is refused with the caller's error; a stale lock (dead pid, this pid from an earlier
 * process, a pid reused by a later process, an unreadable file) is taken over with a warning; a lock
 * from another host is never taken over; a release removes only its own lock.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { acquireDirLock, liveHolder, type LockRecord } from "../../src/core/dir-lock.js";
import { pidSupply } from "../support/pids.js";

const FILE = "x.lock";
const root = mkdtempSync(join(tmpdir(), "cpgw-dirlock-"));
const { live: liveChild, dead: deadPid, killAll } = pidSupply();
afterAll(() => {
  killAll();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
const newDir = () => join(root, `d${n++}`);
const writeLock = (dir: string, r: object) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, FILE), JSON.stringify({ instance: "other", host: hostname(), startedAt: Date.now(), ...r }));
};
class Refused extends Error {
  constructor(readonly holder: LockRecord) {
    super(`refused: pid ${holder.pid}`);
  }
}
const take = (dir: string) => {
  const seen: string[] = [];
  const lock = acquireDirLock(dir, FILE, { what: "test", warn: (msg) => void seen.push(msg), refuse: (h) => new Refused(h) });
  return { lock, seen };
};

describe("directory lock", () => {
  it("a lock this process holds is refused; after its release the directory is free and no warning was given", () => {
    const dir = newDir();
    const first = take(dir);
    expect(() => take(dir)).toThrow(Refused);
    expect(liveHolder(join(dir, FILE))).toBeUndefined();
    first.lock.release();
    expect(existsSync(join(dir, FILE))).toBe(false);
    const again = take(dir);
    again.lock.release();
    expect([...first.seen, ...again.seen]).toEqual([]);
  });

  it("a live process's lock is refused with the caller's error and left as it is; liveHolder names it", () => {
    const pid = liveChild();
    // The lock file of the ledger before it shared this module (`since`, ISO) is read too.
    for (const r of [{ pid, startedAt: Date.now() + 5000 }, { pid, startedAt: undefined, since: new Date(Date.now() + 5000).toISOString() }]) {
      const dir = newDir();
      writeLock(dir, r);
      expect(() => take(dir)).toThrow(expect.objectContaining({ holder: expect.objectContaining({ pid }) }));
      expect(JSON.parse(readFileSync(join(dir, FILE), "utf8")).pid).toBe(pid);
      expect(liveHolder(join(dir, FILE))?.pid).toBe(pid);
    }
  });

  it("a stale lock (dead pid, this pid from an earlier process, a pid reused by a later process, unreadable) is taken over with a warning", () => {
    const cases: Array<object | "garbage"> = [{ pid: deadPid() }, { pid: process.pid, instance: "an-earlier-process" }, { pid: liveChild(), startedAt: Date.now() - 3_600_000 }, "garbage", { pid: -1 }];
    for (const c of cases) {
      const dir = newDir();
      if (c === "garbage") {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, FILE), "");
      } else writeLock(dir, c);
      expect(liveHolder(join(dir, FILE))).toBeUndefined();
      const { lock, seen } = take(dir);
      expect(seen).toEqual(["taking over a stale test lock"]);
      expect(JSON.parse(readFileSync(join(dir, FILE), "utf8")).instance).toBe(lock.record.instance);
      lock.release();
    }
  });

  it("a lock written on another host is never taken over, even when its pid does not run here", () => {
    const dir = newDir();
    writeLock(dir, { pid: deadPid(), host: `not-${hostname()}` });
    expect(() => take(dir)).toThrow(Refused);
  });

  it("a release removes only its own lock: one another process took over stays", () => {
    const dir = newDir();
    const { lock } = take(dir);
    writeLock(dir, { pid: liveChild(), instance: "the-new-holder" });
    lock.release();
    expect(JSON.parse(readFileSync(join(dir, FILE), "utf8")).instance).toBe("the-new-holder");
  });
});
