/**
 * The lock shared by gateway.lock and ledger.lock: a live holder (another process, or a lock this
 * process holds) is refused with the caller's error; a stale lock (dead pid, this pid from an earlier
 * process, a pid reused by a later process, an unreadable file) is taken over with a warning; a lock
 * from another host is taken over only once its holder has stopped refreshing it (mtime older than
 * FOREIGN_STALE_MS); the holder refreshes its own every LOCK_REFRESH_MS without ever throwing; a
 * release removes only its own lock; a failed write leaves no temp file behind.
 */
import * as fs from "node:fs";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { acquireDirLock, FOREIGN_STALE_MS, LOCK_REFRESH_MS, liveHolder, type DirLockOptions, type LockFs, type LockRecord } from "../../src/core/dir-lock.js";
import { FakeClock } from "../../src/core/clock.js";
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
const take = (dir: string, more: Partial<DirLockOptions> = {}) => {
  const seen: string[] = [];
  const lock = acquireDirLock(dir, FILE, { what: "test", warn: (msg) => void seen.push(msg), refuse: (h) => new Refused(h), ...more });
  return { lock, seen };
};
const otherHost = `not-${hostname()}`;

function fail(code: string): never {
  throw Object.assign(new Error(`${code}: simulated, write`), { code });
}

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

  it("a lock from another host is live while its holder refreshes it (its pid means nothing here), stale once not refreshed for FOREIGN_STALE_MS", () => {
    const dir = newDir();
    // A container recreated after a SIGKILL: new host name, the old holder's pid long gone.
    writeLock(dir, { pid: deadPid(), host: otherHost });
    const path = join(dir, FILE);
    const mtime = statSync(path).mtimeMs;
    expect(() => take(dir, { now: () => mtime + FOREIGN_STALE_MS - 1000 })).toThrow(Refused);
    expect(liveHolder(path, mtime + FOREIGN_STALE_MS - 1000)?.host).toBe(otherHost);
    // An mtime ahead of our clock (another host's clock runs ahead) counts as fresh.
    expect(() => take(dir, { now: () => mtime - 3_600_000 })).toThrow(Refused);
    expect(liveHolder(path, mtime + FOREIGN_STALE_MS + 1000)).toBeUndefined();
    const { lock, seen } = take(dir, { now: () => mtime + FOREIGN_STALE_MS + 1000 });
    expect(seen).toEqual(["taking over a stale test lock"]);
    expect(JSON.parse(readFileSync(path, "utf8")).instance).toBe(lock.record.instance);
    lock.release();
  });

  it("the takeover warning names the old holder's host and why", () => {
    const dir = newDir();
    writeLock(dir, { pid: 4242, host: otherHost });
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(join(dir, FILE), old, old);
    const fields: object[] = [];
    const lock = acquireDirLock(dir, FILE, { what: "test", warn: (_m, f) => void fields.push(f), refuse: (h) => new Refused(h) });
    expect(fields).toEqual([expect.objectContaining({ pid: 4242, host: otherHost, reason: expect.stringMatching(new RegExp(`^written on host ${otherHost} and not refreshed for 600 s`)) })]);
    lock.release();
  });

  it("the holder refreshes its lock's mtime every LOCK_REFRESH_MS on the injected clock, and stops at release", () => {
    const dir = newDir();
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const { lock, seen } = take(dir, { now: () => clock.now(), timers: clock });
    const path = join(dir, FILE);
    clock.advance(LOCK_REFRESH_MS - 1);
    expect(statSync(path).mtimeMs).not.toBe(clock.now());
    clock.advance(1);
    expect(statSync(path).mtimeMs).toBe(Date.UTC(2030, 0, 1) + LOCK_REFRESH_MS);
    clock.advance(5 * LOCK_REFRESH_MS);
    expect(statSync(path).mtimeMs).toBe(Date.UTC(2030, 0, 1) + 6 * LOCK_REFRESH_MS);
    expect(clock.pendingCount).toBe(1);
    lock.release();
    expect(clock.pendingCount).toBe(0);
    expect(seen).toEqual([]);
  });

  it("a refresh that fails is one warning, never a throw, and says so when it works again; a lock taken over by another is left alone", () => {
    const dir = newDir();
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    let failing = true;
    const flaky: LockFs = { ...fs, utimesSync: (...a: Parameters<typeof fs.utimesSync>) => (failing ? fail("EROFS") : fs.utimesSync(...a)) };
    const { lock, seen } = take(dir, { now: () => clock.now(), timers: clock, fs: flaky });
    clock.advance(3 * LOCK_REFRESH_MS);
    expect(seen).toEqual([`the test lock could not be refreshed: a gateway on another host may take it over after ${FOREIGN_STALE_MS / 1000} s`]);
    failing = false;
    clock.advance(LOCK_REFRESH_MS);
    expect(seen.at(-1)).toBe("the test lock is refreshed again");
    writeLock(dir, { pid: liveChild(), instance: "the-new-holder" });
    const before = statSync(join(dir, FILE)).mtimeMs;
    clock.advance(3 * LOCK_REFRESH_MS);
    expect(seen.at(-1)).toBe("the test lock was taken over by another process: it is no longer refreshed");
    expect(statSync(join(dir, FILE)).mtimeMs).toBe(before);
    expect(clock.pendingCount).toBe(0);
    lock.release();
    expect(JSON.parse(readFileSync(join(dir, FILE), "utf8")).instance).toBe("the-new-holder");
  });

  it("a lock whose write fails (full or read-only disk) leaves no temp file and no lock behind", () => {
    for (const code of ["ENOSPC", "EROFS", "EIO"]) {
      const dir = newDir();
      // As on a full disk: the open creates the file, the write fails.
      const full: LockFs = { ...fs, writeFileSync: (p: fs.PathOrFileDescriptor) => (fs.writeFileSync(p, ""), fail(code)) };
      expect(() => take(dir, { fs: full })).toThrow(expect.objectContaining({ code }));
      expect(readdirSync(dir)).toEqual([]);
      // The directory is free for the next start.
      take(dir).lock.release();
    }
  });
  it("a release removes only its own lock: one another process took over stays", () => {
    const dir = newDir();
    const { lock } = take(dir);
    writeLock(dir, { pid: liveChild(), instance: "the-new-holder" });
    lock.release();
    expect(JSON.parse(readFileSync(join(dir, FILE), "utf8")).instance).toBe("the-new-holder");
  });
});
