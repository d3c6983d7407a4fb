import { spawn, spawnSync, type ChildProcess } from "node:child_process";

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
