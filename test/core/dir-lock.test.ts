/**
 * The lock shared by gateway.lock and ledger.lock: a live holder (another process, or a lock this
 * process holds) is refused with the caller's error; a stale lock (dead pid, this pid from an earlier
 * process, a pid reused by a later process, an unreadable file) is taken over with a warning; a lock
 * from another host is taken over only once its holder has stopped refreshing it (mtime older than
 * FOREIGN_STALE_MS); the holder refreshes its own every LOCK_REFRESH_MS without ever throwing; a
 * release removes only its own lock; a failed write leaves no temp file behind. A takeover or a
 * release that loses a race to another process (simulated through the fs seam, following the
 * claim protocol) removes nothing but what it judged; dir-lock-race.test.ts races real processes.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireDirLock, FOREIGN_STALE_MS, LOCK_REFRESH_MS, liveHolder, type DirLockOptions, type LockFs, type LockRecord } from "../../src/core/dir-lock.js";
import { FakeClock } from "../../src/core/clock.js";
import { lockDirs } from "../support/pids.js";

const FILE = "x.lock";
const { newDir, liveChild, deadPid } = lockDirs("cpgw-dirlock-");
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

/** The claim file on the lock content `text` (the on-disk protocol, spelled out: every version must agree). */
const claimOn = (path: string, text: string) => `${path}.takeover-${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
/** Start of `pid` in clock ticks since boot (/proc/<pid>/stat field 22). */
const startTicks = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
};
/** Puts `r` at `path` in one step, as another process's link would (the inode changes). */
const replaceWith = (path: string, r: object) => {
  writeFileSync(`${path}.other`, JSON.stringify({ host: hostname(), startedAt: Date.now(), ...r }) + "\n");
  fs.renameSync(`${path}.other`, path);
};
/** An fs whose reads of `path` run `then` right after reading (another process acting in between). */
const afterRead = (path: string, then: () => void): LockFs => ({
  ...fs,
  readFileSync: ((p: fs.PathOrFileDescriptor, o?: unknown) => {
    const got = fs.readFileSync(p, o as "utf8");
    if (p === path) then();
    return got;
  }) as typeof fs.readFileSync,
});

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
    // A reused pid: by the start in ticks since boot when the lock has one, by the wall clock when it is older.
    const cases: Array<object | "garbage"> = [{ pid: deadPid() }, { pid: process.pid, instance: "an-earlier-process" }, { pid: liveChild(), startedAt: Date.now() - 3_600_000 }, { pid: liveChild(), startTicks: 1 }, "garbage", { pid: -1 }];
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

  it("a holder's start is compared in ticks since boot: a lock written while the wall clock was an hour behind (stepped forward since) is live", () => {
    const pid = liveChild();
    const dir = newDir();
    // Before: /proc's wall-clock start (btime moves with the step) came out an hour after startedAt, "reused".
    writeLock(dir, { pid, startedAt: Date.now() - 3_600_000, startTicks: startTicks(pid) });
    expect(liveHolder(join(dir, FILE))?.pid).toBe(pid);
    expect(() => take(dir)).toThrow(expect.objectContaining({ holder: expect.objectContaining({ pid }) }));
    const { lock } = take(newDir());
    expect(lock.record.startTicks).toBe(startTicks(process.pid));
    lock.release();
  });

  it("a takeover that loses the race (another process took the stale lock over right after we read it) is refused and removes nothing", () => {
    const dir = newDir();
    const path = join(dir, FILE);
    writeLock(dir, { pid: deadPid() });
    const winner = liveChild();
    let raced = false;
    const racy = afterRead(path, () => {
      if (!raced) replaceWith(path, { pid: winner, instance: "the-winner" });
      raced = true;
    });
    const seen: string[] = [];
    expect(() => acquireDirLock(dir, FILE, { what: "test", warn: (m) => void seen.push(m), refuse: (h) => new Refused(h), fs: racy })).toThrow(expect.objectContaining({ holder: expect.objectContaining({ pid: winner }) }));
    expect(JSON.parse(readFileSync(path, "utf8")).instance).toBe("the-winner");
    expect(readdirSync(dir)).toEqual([FILE]);
    expect(seen).toEqual([]);
  });

  it("a live process already taking the same stale lock over (its claim is there) wins: refused with its record, nothing removed", () => {
    const dir = newDir();
    const path = join(dir, FILE);
    writeLock(dir, { pid: deadPid() });
    const stale = readFileSync(path, "utf8");
    const claimant = liveChild();
    writeFileSync(claimOn(path, stale), JSON.stringify({ pid: claimant, instance: "the-claimant", host: hostname(), startedAt: Date.now() }));
    expect(() => take(dir)).toThrow(expect.objectContaining({ holder: expect.objectContaining({ pid: claimant }) }));
    expect(readFileSync(path, "utf8")).toBe(stale);
    expect(readdirSync(dir).sort()).toEqual([FILE, claimOn(FILE, stale)].sort());
  });

  it("a claim left by a process that died mid-takeover is taken over with the lock; no claim or temp file is left", () => {
    const dir = newDir();
    const path = join(dir, FILE);
    writeLock(dir, { pid: deadPid() });
    const stale = readFileSync(path, "utf8");
    writeFileSync(claimOn(path, stale), JSON.stringify({ pid: deadPid(), instance: "crashed-taker", host: hostname(), startedAt: Date.now() }));
    const { lock, seen } = take(dir);
    expect(seen).toEqual(["taking over a stale test lock"]);
    expect(JSON.parse(readFileSync(path, "utf8")).instance).toBe(lock.record.instance);
    expect(readdirSync(dir)).toEqual([FILE]);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a release racing a process that takes the lock over (it judged ours stale) never removes that process's lock", () => {
    const dir = newDir();
    const path = join(dir, FILE);
    let armed = false;
    let takerHolds = false;
    const ours = { current: "" };
    // The taker follows the protocol: it removes our lock only under the claim on its content.
    const racy = afterRead(path, () => {
      if (!armed) return;
      armed = false;
      try {
        fs.writeFileSync(`${path}.taker`, "");
        fs.linkSync(`${path}.taker`, claimOn(path, ours.current));
      } catch {
        return; // the claim is held: the taker backs off
      } finally {
        fs.unlinkSync(`${path}.taker`);
      }
      fs.unlinkSync(path);
      writeFileSync(path, JSON.stringify({ pid: liveChild(), instance: "the-taker", host: hostname(), startedAt: Date.now() }));
      fs.unlinkSync(claimOn(path, ours.current));
      takerHolds = true;
    });
    const { lock } = take(dir, { fs: racy });
    ours.current = readFileSync(path, "utf8");
    armed = true;
    lock.release();
    expect(armed).toBe(false);
    if (takerHolds) expect(JSON.parse(readFileSync(path, "utf8")).instance).toBe("the-taker");
    else expect(readdirSync(dir)).toEqual([]);
  });

  it("a lock file that cannot be read at all (EACCES) is still stale and taken over, claimed by its inode", () => {
    const dir = newDir();
    const path = join(dir, FILE);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, "not ours to read");
    const denied: LockFs = {
      ...fs,
      readFileSync: ((p: fs.PathOrFileDescriptor, o?: unknown) => {
        const got = fs.readFileSync(p, o as "utf8");
        return p === path && got === "not ours to read" ? fail("EACCES") : got;
      }) as typeof fs.readFileSync,
    };
    const { lock, seen } = take(dir, { fs: denied });
    expect(seen).toEqual(["taking over a stale test lock"]);
    expect(readdirSync(dir)).toEqual([FILE]);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });
});
