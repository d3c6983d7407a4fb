import { spawnSync, type SpawnSyncReturns } from "node:child_process";

/** The built CLI (dist/, built by the vitest globalSetup), as an operator runs it. */
export const CLI = "bin/checkpoint-gateway.js";

/** Runs the CLI to completion: exit status, stdout and stderr as text; `env` is added to ours. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
}
