import { execFile } from "node:child_process";
import type { Clock, TimerHandle } from "../../core/clock.js";

/**
 * systemd service notifications (`Type=notify`, `WatchdogSec=`). Node cannot send on a Unix
 * datagram socket itself, so each message goes through Debian's `systemd-notify` with `--pid`
 * naming this process (the unit sets `NotifyAccess=all` so the helper's message is accepted).
 * The watchdog ping runs on the main event loop: a loop that hangs stops pinging and systemd
 * restarts the gateway, which is the point. `--no-block` skips the synchronisation barrier: a ping
 * must never wait on systemd. Outside systemd (`NOTIFY_SOCKET` unset) nothing runs.
 */
export type RunNotify = (args: string[], env: NodeJS.ProcessEnv, done: (err: Error | null) => void) => void;

export interface SystemdNotifyOptions {
  env: NodeJS.ProcessEnv;
  pid: number;
  clock: Clock;
  /** Runs `systemd-notify ARGS`; the real one uses execFile. */
  run?: RunNotify;
  onError?: (err: Error) => void;
}

export interface SystemdNotifier {
  ready(status?: string): void;
  stopping(): void;
  reloading(): void;
  close(): void;
}

const execNotify: RunNotify = (args, env, done) => {
  execFile("systemd-notify", args, { timeout: 5000, env }, (err) => done(err));
};

/** Ping interval: half of WatchdogSec, as sd_watchdog_enabled(3) recommends. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  // WATCHDOG_PID, when set, names the process the watchdog is meant for.
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(100, Math.floor(usec / 2000));
}

export function createSystemdNotifier(opts: SystemdNotifyOptions): SystemdNotifier | undefined {
  if (!opts.env.NOTIFY_SOCKET) return undefined;
  const run = opts.run ?? execNotify;
  const send = (...fields: string[]) =>
    run([`--pid=${opts.pid}`, "--no-block", ...fields], opts.env, (err) => {
      if (err) opts.onError?.(err);
    });
  const every = watchdogIntervalMs(opts.env, opts.pid);
  let timer: TimerHandle | undefined;
  let closed = false;
  const ping = () => {
    if (closed) return;
    send("WATCHDOG=1");
    timer = opts.clock.setTimeout(ping, every!);
  };
  return {
    ready(status) {
      send("READY=1", ...(status ? [`STATUS=${status}`] : []));
      if (every !== undefined && timer === undefined) ping();
    },
    reloading() {
      send("RELOADING=1");
    },
    stopping() {
      send("STOPPING=1");
    },
    close() {
      closed = true;
      if (timer) opts.clock.clearTimeout(timer);
    },
  };
}
