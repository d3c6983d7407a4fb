/** How an ffmpeg run ended: an exit (code, signal), a spawn or process error, or given up after SIGKILL. */
export interface ExitHow {
  code?: number | null;
  signal?: NodeJS.Signals | null;
  error?: Error;
  abandoned?: boolean;
}

export interface ExitFacts {
  how: ExitHow;
  /** The frame transport failed first (the supervisor then killed the process). */
  transportFailed: boolean;
  /** The supervisor had sent the process a signal (watchdog, transport failure). */
  killedByUs: boolean;
  /** The process delivered at least one frame. */
  framesFlowed: boolean;
  /** The camera has a host that can be probed (an RTSP URL). */
  hostKnown: boolean;
  /** ffmpeg's stderr says the camera refused our credentials (authRefused). */
  authRefused?: boolean;
}

/**
 * `restart`: back off and start again, spending the budget if `counted`; `auth`: the camera refused
 * our credentials, so retry slowly (supervisor). `probe`: probe the host first; if it answers,
 * restart (spending the budget if `countedIfUp`), else wait out the outage.
 */
export type ExitPlan = { next: "restart"; counted: boolean; auth?: true } | { next: "probe"; countedIfUp: boolean };

/** ffmpeg's words when the camera refuses the credentials: "method DESCRIBE failed: 401 Unauthorized", "Server returned 403 Forbidden (access denied)". */
const AUTH_REFUSED = /\b(?:401 Unauthorized|403 Forbidden)\b/i;

/** Did the camera refuse our credentials (RTSP 401/403), by ffmpeg's stderr? */
export function authRefused(stderr: readonly string[]): boolean {
  return stderr.some((line) => AUTH_REFUSED.test(line));
}

/**
 * What to do after an unexpected exit. An outage is not a crash: only a crash (ffmpeg could not
 * start, its transport failed, it could not be killed, or it died of a signal we did not send:
 * segfault, abort) or an exit after frames flowed spends the restart budget; every other exit of
 * an RTSP camera first asks whether its host answers at all.
 */
export function planAfterExit(f: ExitFacts): ExitPlan {
  const { how } = f;
  const crash = how.error !== undefined || f.transportFailed || how.abandoned === true || (how.signal != null && !f.killedByUs);
  // The host answered (it refused us), so no probe; nothing crashed, so nothing spent: a new
  // start cannot fix a password, and the camera may lock the account after a few bad logins.
  if (f.authRefused && !crash) return { next: "restart", counted: false, auth: true };
  if (crash || !f.hostKnown) return { next: "restart", counted: crash || f.framesFlowed };
  return { next: "probe", countedIfUp: f.framesFlowed };
}

/** What the exit log line needs of the run that ended. */
export interface EndedRun {
  startedAt: number;
  delivered: number;
  failure: Error | undefined;
  stderr: { tail(): string[] };
}

/** The `ffmpeg_exit` log record; `mask` removes credentials from ffmpeg's own text (error, stderr). */
export function exitRecord(how: ExitHow, run: EndedRun, now: number, mask: (s: string) => string): Record<string, unknown> {
  return {
    event: "ffmpeg_exit",
    code: how.code ?? null,
    signal: how.signal ?? null,
    error: how.error ? mask(how.error.message) : run.failure?.message,
    uptimeMs: Math.round(now - run.startedAt),
    framesDelivered: run.delivered,
    stderr: run.stderr.tail().map(mask),
  };
}
