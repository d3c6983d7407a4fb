import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";

/** Shared helpers so every benchmark prints the same kind of table: median, p95, p99, ratio to a reference. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export interface Summary {
  n: number;
  median: number;
  p95: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), mean, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

export function fmt(n: number | undefined, digits = 2): string {
  if (n === undefined || Number.isNaN(n)) return "-";
  if (Math.abs(n) >= 1000) return n.toFixed(0);
  return n.toFixed(digits);
}

/** Prints an aligned text table. */
export function printTable(title: string, headers: string[], rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells) console.log(line(r));
}

/** Writes machine-readable results to bench/results/NAME.json (committed: docs quote only these files). */
export function writeResults(name: string, data: unknown): string {
  mkdirSync("bench/results", { recursive: true });
  const file = `bench/results/${name}.json`;
  const meta = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model, at: new Date().toISOString() };
  writeFileSync(file, JSON.stringify({ meta, data }, null, 2) + "\n");
  return file;
}

/** Runs fn repeatedly and returns per-call ms, after warm-up calls. */
export async function timeIt(fn: () => unknown | Promise<unknown>, iterations: number, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}
