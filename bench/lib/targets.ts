import { loadavg } from "node:os";

/**
 * Explicit benchmark targets: each one names its limit and why, is stored with the results, and a
 * missed one makes the bench exit non-zero (the numbers are still written, so a miss is visible).
 */
export interface Target {
  /** What the number is, with its unit. */
  metric: string;
  op: "<=" | ">=";
  limit: number;
  value: number;
  /** Why this limit (what the product needs). */
  why: string;
  ok: boolean;
}

export function target(metric: string, value: number, op: "<=" | ">=", limit: number, why: string): Target {
  const ok = Number.isFinite(value) && (op === "<=" ? value <= limit : value >= limit);
  return { metric, op, limit, value, why, ok };
}

/** Prints every target with its verdict and returns the names of the missed ones. */
export function reportTargets(targets: Record<string, Target>): string[] {
  console.log("\ntargets");
  for (const [name, t] of Object.entries(targets)) {
    const v = Math.abs(t.value) >= 100 ? t.value.toFixed(0) : t.value.toPrecision(3);
    console.log(`  ${t.ok ? "ok    " : "MISSED"} ${name}: ${t.metric} = ${v} (target ${t.op} ${t.limit})`);
  }
  return Object.entries(targets)
    .filter(([, t]) => !t.ok)
    .map(([k]) => k);
}

/** os.loadavg() rounded to two decimals: stored at the start and the end of every run (the machine is shared). */
export function loadNow(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

/** Sets the exit code after a run: 1 when a target was missed (the caller has already written its results). */
export function exitOnMissed(missed: readonly string[]): void {
  if (missed.length > 0) {
    console.error(`targets missed: ${missed.join(", ")}`);
    process.exitCode = 1;
  }
}
