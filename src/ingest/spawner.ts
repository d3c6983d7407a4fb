import { spawn } from "node:child_process";
import type { SpawnedProcess, Spawner } from "./types.js";

/** The real spawner: stdin closed, stdout (frames) and stderr (warnings) piped. */
export const nodeSpawner: Spawner = (command, args) => {
  const child = spawn(command, [...args], { stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
  // A stream 'error' without a listener would throw in the gateway; the exit is what we act on.
  child.stdout.on("error", () => {});
  child.stderr.on("error", () => {});
  return child as unknown as SpawnedProcess;
};
