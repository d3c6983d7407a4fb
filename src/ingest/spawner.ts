import { spawn } from "node:child_process";
import type { SpawnedProcess, Spawner } from "./types.js";

/**
 * The real spawner: stdout (frames) piped or the given socket, stderr (warnings) piped; stdin closed, or carrying
 * `stdin` (the input description with credentials, kept off the command line) and then closed.
 */
export const nodeSpawner: Spawner = (command, args, stdin, stdout) => {
  const child = spawn(command, [...args], { stdio: [stdin === undefined ? "ignore" : "pipe", stdout ?? "pipe", "pipe"], windowsHide: true });
  if (stdin !== undefined && child.stdin) {
    child.stdin.on("error", () => {}); // EPIPE when ffmpeg exits early: its exit is what counts
    child.stdin.end(stdin);
  }
  // A stream 'error' without a listener would throw in the gateway; the exit is what we act on.
  child.stdout?.on("error", () => {});
  child.stderr!.on("error", () => {});
  return child as unknown as SpawnedProcess;
};
