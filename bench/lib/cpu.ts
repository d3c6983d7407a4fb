import { readProcTicks, TICKS_PER_SECOND } from "../../src/ingest/proc-cpu.js";
import { sleep } from "./wait.js";

/**
 * CPU accounting for the live benchmarks: another process's ticks from /proc, this process's from
 * process.cpuUsage(), both turned into "% of one core" (100 = one core) over a wall-clock window.
 */

/** utime + stime ticks of a process; 0 when it is gone (a window then counts what it used before). */
export function procTicks(pid: number): number {
  return readProcTicks(pid) ?? 0;
}

/** CPU % of `ticks` clock ticks spent over `wallMs` of wall time. */
export function ticksCpuPct(ticks: number, wallMs: number): number {
  return (ticks / TICKS_PER_SECOND) * 100 * (1000 / wallMs);
}

/** CPU ms of `ticks` clock ticks. */
export function ticksMs(ticks: number): number {
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** CPU ms (user + system) of a process.cpuUsage() delta (given in microseconds). */
export function usageMs(usage: { user: number; system: number }): number {
  return (usage.user + usage.system) / 1000;
}

/** CPU % of a process.cpuUsage() delta over `wallMs` of wall time. */
export function usageCpuPct(usage: { user: number; system: number }, wallMs: number): number {
  return (usageMs(usage) / wallMs) * 100;
}

/**
 * CPU % of this process over `ms` while it only waits: what the harness running in this process
 * (the RTSP feeds' progress parsing) costs, to take off what is measured for the code under test.
 */
export async function idleProcessCpu(ms: number): Promise<number> {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(ms);
  const c = process.cpuUsage(c0);
  return usageCpuPct(c, performance.now() - w0);
}
