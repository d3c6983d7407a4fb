import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** Live processes that are not this one (lock holders), and pids that no longer run. */
export function pidSupply(): { live: () => number; dead: () => number; killAll: () => void } {
  const children: ChildProcess[] = [];
  return {
    live: () => {
      const c = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
      children.push(c);
      return c.pid!;
    },
    dead: () => spawnSync(process.execPath, ["-e", "0"]).pid!,
    killAll: () => {
      for (const c of children.splice(0)) c.kill("SIGKILL");
    },
  };
}

/**
 * Fresh directories for lock tests under one temp root, with live and dead pids to write into
 * lock files; the root and the live processes go when the file's tests end.
 */
export function lockDirs(prefix: string): { root: string; newDir: () => string; liveChild: () => number; deadPid: () => number } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const { live, dead, killAll } = pidSupply();
  afterAll(() => {
    killAll();
    rmSync(root, { recursive: true, force: true });
  });
  let n = 0;
  return { root, newDir: () => join(root, `d${n++}`), liveChild: live, deadPid: dead };
}
