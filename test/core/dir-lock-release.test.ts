/**
 * A release racing a takeover, through the fs seam: the holder H has checked that the path still
 * holds its lock and is about to remove it when a process T on another host (the host name is
 * switched for it) starts and judges H's lock stale (its refresh failed for 120 s). H's claim must be
 * live to T: it once was a hard link of the lock, with the lock's old mtime, so T took it over, took
 * the lock and linked its own in, and H's removal then deleted T's lock (T held a lock that was not
 * there; the next start took it too). And a claim that another process took over from us and remade
 * is not removed by our `finally`. With a real second host: /tmp scratch repro (unshare -u, root).
 */
import * as fs from "node:fs";
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { takeoverClaim } from "../../src/core/dir-lock-claims.js";
import { acquireDirLock, type LockFs, type LockRecord } from "../../src/core/dir-lock.js";
import { lockDirs } from "../support/pids.js";

const host = vi.hoisted(() => ({ name: "host-h" }));
vi.mock("node:os", async (orig) => ({ ...(await orig<typeof import("node:os")>()), hostname: () => host.name }));

const FILE = "x.lock";
const { newDir, liveChild, deadPid } = lockDirs("cpgw-lockrelease-");
class Refused extends Error {
  constructor(readonly holder: LockRecord) {
    super(`refused: pid ${holder.pid}`);
  }
}
const opts = { what: "test", warn: () => {}, refuse: (h: LockRecord) => new Refused(h) };
/** Puts another live process's claim at `claim` in one step (it took ours over and made its own). */
const remake = (claim: string, pid: number) => {
  writeFileSync(`${claim}.other`, JSON.stringify({ pid, instance: "the-other-claimant", host: host.name, startedAt: Date.now() }) + "\n");
  fs.renameSync(`${claim}.other`, claim);
};

describe("directory lock release", () => {
  it("a taker on another host starting while the holder releases (its lock unrefreshed for 120 s) never ends up holding a lock that is not there", () => {
    host.name = "host-h";
    const dir = newDir();
    const path = join(dir, FILE);
    const taker: { lock?: string; refused?: LockRecord } = {};
    let fired = false;
    const racy: LockFs = {
      ...fs,
      unlinkSync: (p: fs.PathLike) => {
        if (p === path && !fired) {
          fired = true;
          // H has checked that the path holds its lock; T starts now, on another host.
          host.name = "host-t";
          try {
            taker.lock = acquireDirLock(dir, FILE, opts).record.instance;
          } catch (e) {
            if (!(e instanceof Refused)) throw e;
            taker.refused = e.holder;
          } finally {
            host.name = "host-h";
          }
        }
        fs.unlinkSync(p);
      },
    };
    const held = acquireDirLock(dir, FILE, { ...opts, fs: racy });
    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);
    held.release();
    expect(fired).toBe(true);
    // T lost the race to the release (H's claim is fresh and names H): refused, nothing left behind.
    expect(taker).toEqual({ refused: expect.objectContaining({ instance: held.record.instance, host: "host-h" }) });
    expect(readdirSync(dir)).toEqual([]);
    // The directory is free for the next start.
    acquireDirLock(dir, FILE, opts).release();
  });

  it("a claim another process took over from us and remade is left in place by our takeover and by our release", () => {
    host.name = "host-h";
    const other = liveChild();
    // Takeover: the stale lock's claim is replaced right after we checked the path (its second read).
    const dir = newDir();
    const path = join(dir, FILE);
    mkdirSync(dir);
    writeFileSync(path, JSON.stringify({ pid: deadPid(), instance: "dead", host: host.name, startedAt: Date.now() }));
    const stale = readFileSync(path, "utf8");
    let reads = 0;
    const takerFs: LockFs = {
      ...fs,
      readFileSync: ((p: fs.PathOrFileDescriptor, o?: unknown) => {
        const got = fs.readFileSync(p, o as "utf8");
        if (p === path && ++reads === 2) remake(takeoverClaim(path, stale), other);
        return got;
      }) as typeof fs.readFileSync,
    };
    const mine = acquireDirLock(dir, FILE, { ...opts, fs: takerFs });
    expect(JSON.parse(readFileSync(takeoverClaim(path, stale), "utf8")).pid).toBe(other);
    mine.release();
    // Release: our claim is replaced right before we remove our lock.
    const dir2 = newDir();
    const path2 = join(dir2, FILE);
    const claim2: { name?: string } = {};
    const releaseFs: LockFs = {
      ...fs,
      unlinkSync: (p: fs.PathLike) => {
        if (p === path2 && claim2.name) remake(claim2.name, other);
        fs.unlinkSync(p);
      },
    };
    const held = acquireDirLock(dir2, FILE, { ...opts, fs: releaseFs });
    claim2.name = takeoverClaim(path2, readFileSync(path2, "utf8"));
    held.release();
    expect(existsSync(path2)).toBe(false);
    expect(JSON.parse(readFileSync(claim2.name, "utf8")).pid).toBe(other);
  });
});
