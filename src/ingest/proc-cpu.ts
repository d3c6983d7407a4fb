import { readFileSync } from "node:fs";

/** utime+stime of a process in clock ticks from /proc/PID/stat, or undefined (not Linux, gone). */
export function readProcTicks(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
  } catch {
    return undefined;
  }
}

/** Linux USER_HZ is 100 on every mainstream build; reading it would need a native call. */
export const TICKS_PER_SECOND = 100;

/** CPU percent (100 = one core) of one pid between successive samples. Cheap: one small read. */
export class CpuSampler {
  private prev: { pid: number; ticks: number; at: number } | undefined;
  private last: number | undefined;

  sample(pid: number | undefined, nowMs: number): number | undefined {
    if (pid === undefined) return undefined;
    const prev = this.prev;
    // Calls closer than 200 ms would measure tick rounding, not load: repeat the last value.
    if (prev && prev.pid === pid && nowMs - prev.at < 200) return this.last;
    const ticks = readProcTicks(pid);
    if (ticks === undefined) return undefined;
    this.prev = { pid, ticks, at: nowMs };
    this.last = prev && prev.pid === pid ? (((ticks - prev.ticks) / TICKS_PER_SECOND) * 1000 * 100) / (nowMs - prev.at) : undefined;
    return this.last;
  }
}
