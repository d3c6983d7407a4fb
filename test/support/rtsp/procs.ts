import { readdirSync, readFileSync } from "node:fs";

/** Live child processes of `parentPid` whose command name is `comm` (zombies excluded), from /proc. */
export function childProcesses(parentPid: number, comm = "ffmpeg"): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const procComm = stat.slice(stat.indexOf("(") + 1, close);
      const [state, ppid] = stat.slice(close + 2).split(" ");
      if (procComm === comm && Number(ppid) === parentPid && state !== "Z") out.push(Number(name));
    } catch {
      // The process went away while we looked.
    }
  }
  return out;
}
