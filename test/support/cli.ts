import { spawnSync, type SpawnSyncReturns } from "node:child_process";

/** The built CLI (dist/, built by the vitest globalSetup), as an operator runs it. */
export const CLI = "bin/checkpoint-gateway.js";

/** Runs the CLI to completion: exit status, stdout and stderr as text; `env` is added to ours. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
}

/** Runs a CLI command in-process (its module from src/), with everything it writes to stdout and stderr. */
export async function inProcess(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (out.push(s), true)) as typeof process.stderr.write;
  try {
    return { code: await run(), out: out.join("") };
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
  }
}
