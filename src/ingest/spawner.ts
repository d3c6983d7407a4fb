import { spawn } from "node:child_process";
import type { SpawnedProcess, Spawner } from "./types.js";

/**
 * The real spawner: stdout (frames) piped or the given socket, stderr (warnings) piped; stdin closed, or carrying
 * `stdin` (the input description with credentials, kept off the command line) and then closed.
 *
 * Throws when the process could not be started with its pipes. Out of file descriptors (EMFILE, ENFILE), Node's
 * spawn() returns a child without stdio and emits its 'error' only on the next tick: the listener below is
 * attached first so that late event cannot crash the gateway, and the missing pipes are reported here as the
 * spawn error they are (the supervisor then sets GW_CAMERA_SPAWN and backs off).
 */
export const nodeSpawner: Spawner = (command, args, stdin, stdout) => {
  const child = spawn(command, [...args], { stdio: [stdin === undefined ? "ignore" : "pipe", stdout ?? "pipe", "pipe"], windowsHide: true });
  child.on("error", () => {}); // the supervisor's own listener acts on it; this one only keeps it from throwing meanwhile
  if (!child.stderr) throw noStdioError(command);
  if (stdin !== undefined && child.stdin) {
    child.stdin.on("error", () => {}); // EPIPE when ffmpeg exits early: its exit is what counts
    child.stdin.end(stdin);
  }
  // A stream 'error' without a listener would throw in the gateway; the exit is what we act on.
  child.stdout?.on("error", () => {});
  child.stderr.on("error", () => {});
  return child as unknown as SpawnedProcess;
};

/** Node leaves stdio unset only when it ran out of descriptors (EMFILE per process, or ENFILE system-wide). */
function noStdioError(command: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`spawn ${command} EMFILE: no file descriptors left for its pipes`);
  err.code = "EMFILE";
  err.syscall = `spawn ${command}`;
  return err;
}
