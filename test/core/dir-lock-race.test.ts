/**
 * Gateways that start at the same instant on a directory with a stale lock: exactly one of them
 * holds it. Child processes (the compiled module under dist/, built by the global setup) each try
 * to take the locks of many directories, all at the same instants; a directory held by two was
 * the race a takeover had when it removed whatever was at the path after judging it stale. As root,
 * a taker on another host (unshare -u, its own host name) starts while a holder releases.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { acquireDirLock, liveHolder } from "../../src/core/dir-lock.js";

const FILE = "x.lock";
const root = mkdtempSync(join(tmpdir(), "cpgw-lockrace-"));
const MODULE = JSON.stringify(pathToFileURL(resolve("dist/src/core/dir-lock.js")).href);
/** A new UTS namespace (another host name) needs root; elsewhere that test is skipped. */
const canUnshare = process.getuid?.() === 0 && spawnSync("unshare", ["-u", "true"]).status === 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * One racer: at `t0 + i * step` it takes the lock of `base/t<i>`; prints, per directory, its
 * instance id when it holds the lock, 0 when refused. It stays alive until its stdin closes: a
 * racer that exited would leave locks with a dead pid, rightly taken over by a slower one.
 */
const RACER = `
import { acquireDirLock } from ${MODULE};
const [base, dirs, t0, step] = process.argv.slice(1);
const out = [];
for (let i = 0; i < Number(dirs); i++) {
  while (Date.now() < Number(t0) + i * Number(step)) {}
  try {
    out.push(acquireDirLock(base + "/t" + i, ${JSON.stringify(FILE)}, { what: "race", warn() {}, refuse: () => Object.assign(new Error("refused"), { code: "REFUSED" }) }).record.instance);
  } catch (e) {
    out.push(e.code === "REFUSED" ? 0 : "error " + e.code + " " + e.message);
  }
}
process.stdout.write(JSON.stringify(out) + "\\n");
process.stdin.resume().on("end", () => process.exit(0));
`;

async function race(base: string, racers: number, dirs: number, step: number): Promise<Array<Array<string | 0>>> {
  const t0 = Date.now() + 1500;
  const procs = Array.from({ length: racers }, () => spawn(process.execPath, ["--input-type=module", "-e", RACER, base, String(dirs), String(t0), String(step)], { stdio: ["pipe", "pipe", "inherit"] }));
  try {
    return await Promise.all(
      procs.map((p) => new Promise<Array<string | 0>>((res, rej) => {
        let s = "";
        p.stdout.on("data", (d: Buffer) => {
          s += d.toString();
          if (s.endsWith("\n")) res(JSON.parse(s) as Array<string | 0>);
        });
        p.on("exit", (code) => rej(new Error(`racer exited ${code} before its result`)));
      })),
    );
  } finally {
    for (const p of procs) p.stdin.end();
  }
}

describe("directory lock race", () => {
  it("racers starting at the same instant on a stale lock (dead pid): exactly one holds each directory and the file names it; nothing else is left", async () => {
    // Before the fix, 4 racers on 400 directories had two holders in 4 to 13 directories per run (on 2 busy cores).
    const racers = 4, dirs = 600, step = 6;
    const base = join(root, "dead");
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    for (let i = 0; i < dirs; i++) {
      mkdirSync(join(base, `t${i}`), { recursive: true });
      writeFileSync(join(base, `t${i}`, FILE), JSON.stringify({ pid: dead, instance: "old", host: hostname(), startedAt: Date.now() - 60_000 }) + "\n");
    }
    const results = await race(base, racers, dirs, step);
    const bad: string[] = [];
    for (let i = 0; i < dirs; i++) {
      const got = results.map((r) => r[i]);
      const holders = got.filter((g): g is string => typeof g === "string");
      const file = (JSON.parse(readFileSync(join(base, `t${i}`, FILE), "utf8")) as { instance: string }).instance;
      const left = readdirSync(join(base, `t${i}`));
      if (holders.length !== 1 || holders[0] !== file || left.length !== 1) bad.push(`t${i}: ${JSON.stringify(got)}, file ${file}, left ${left.join(" ")}`);
    }
    expect(bad).toEqual([]);
  }, 30_000);

  it("a live holder that took its lock while the wall clock was an hour behind (NTP stepped it since) is still live to another process", async () => {
    const dir = join(root, "stepped");
    // The holder's clock said an hour earlier than ours: as if ours had been stepped forward since.
    const holder = spawn(process.execPath, ["--input-type=module", "-e", `
      import { acquireDirLock } from ${MODULE};
      acquireDirLock(process.argv[1], ${JSON.stringify(FILE)}, { what: "race", warn() {}, refuse: () => new Error("refused"), now: () => Date.now() - 3_600_000 });
      process.stdout.write("held\\n");
      setTimeout(() => {}, 60_000);
    `, dir], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((res, rej) => {
        holder.stdout.on("data", () => res());
        holder.on("exit", (code) => rej(new Error(`holder exited ${code}`)));
      });
      expect(liveHolder(join(dir, FILE))?.pid).toBe(holder.pid);
      expect(() => acquireDirLock(dir, FILE, { what: "race", warn() {}, refuse: (h) => Object.assign(new Error("refused"), { holder: h }) })).toThrow(expect.objectContaining({ holder: expect.objectContaining({ pid: holder.pid }) }));
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it.skipIf(!canUnshare)("a taker on another host starting while the holder releases (its lock unrefreshed for 120 s) is refused; the release leaves nothing behind", () => {
    const dir = join(root, "release");
    const path = join(dir, FILE);
    const taker = `
      import { acquireDirLock } from ${MODULE};
      try {
        acquireDirLock(process.argv[1], ${JSON.stringify(FILE)}, { what: "race", warn() {}, refuse: (h) => Object.assign(new Error("refused"), { holder: h }) });
        process.stdout.write("held");
      } catch (e) {
        process.stdout.write(e.holder ? "refused by " + e.holder.instance : "error " + e.message);
      }
      process.exit(0);
    `;
    let said = "";
    const racy = {
      ...fs,
      unlinkSync: (p: fs.PathLike) => {
        // Checked that the path holds our lock, about to remove it: the taker starts now.
        if (p === path && !said) said = spawnSync("unshare", ["-u", "sh", "-c", 'hostname other-host && exec "$0" --input-type=module -e "$1" "$2"', process.execPath, taker, dir], { encoding: "utf8" }).stdout;
        fs.unlinkSync(p);
      },
    };
    const held = acquireDirLock(dir, FILE, { what: "race", warn() {}, refuse: () => new Error("refused"), fs: racy });
    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);
    held.release();
    // Before: the taker took the release's claim (the lock's old mtime) and held a lock that the release then removed.
    expect(said).toBe(`refused by ${held.record.instance}`);
    expect(readdirSync(dir)).toEqual([]);
  });
});
