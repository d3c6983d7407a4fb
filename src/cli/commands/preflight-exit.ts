/**
 * How `config check` and `run` end on preflight problems. A config problem is permanent: exit 2, and
 * the systemd unit does not restart on it (RestartPreventExitStatus=2). A state directory the disk
 * cannot write right now (full, over quota, read-only after a filesystem error, failing I/O) is the
 * machine's state, not the config's, and goes away when logs rotate or a disk is freed or repaired:
 * exit 75 (EX_TEMPFAIL), which the unit restarts with its delay, so an unattended checkpoint comes
 * back without a person. A directory refused by permissions (EACCES, EPERM) or a path through a
 * file (ENOTDIR) is a deployment mistake that no restart fixes: exit 2 like the config.
 */
export const EXIT_CONFIG = 2;
export const EXIT_TEMPFAIL = 75;

const DISK = "GW_STATE_DIR_UNWRITABLE";
/** The errnos that pass by themselves: space freed, quota raised, filesystem repaired or remounted. */
const TEMPORARY_ERRNOS = new Set(["ENOSPC", "EDQUOT", "EROFS", "EIO"]);
/**
 * The preflight's own wording for a state directory that failed its write probe (preflight.ts):
 * anchored at the start, so a path echoed later in another problem never matches.
 */
const TEMPORARY_PROBLEM = /^gateway\.stateDir: GW_STATE_DIR_UNWRITABLE: cannot write: (ENOSPC|EDQUOT|EROFS|EIO) /;

/** The header code and exit status for a non-empty list of preflight problems. */
export function preflightFailure(problems: readonly string[]): { code: string; exit: number } {
  const temporary = problems.length > 0 && problems.every((p) => TEMPORARY_PROBLEM.test(p));
  return temporary ? { code: DISK, exit: EXIT_TEMPFAIL } : { code: "GW_CONFIG_INVALID", exit: EXIT_CONFIG };
}

/** The exit status for a start that failed with `e` after the preflight passed. */
export function startFailureExit(e: unknown): number {
  const err = e as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = err?.code;
  if (code === DISK) return TEMPORARY_ERRNOS.has(String(err?.cause?.code)) ? EXIT_TEMPFAIL : EXIT_CONFIG;
  return code === "GW_CONFIG_INVALID" || code === "GW_STATE_DIR_LOCKED" ? EXIT_CONFIG : 1;
}
