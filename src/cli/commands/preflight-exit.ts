/**
 * How `config check` and `run` end on preflight problems. A config problem is permanent: exit 2, and
 * the systemd unit does not restart on it (RestartPreventExitStatus=2). A state directory that cannot
 * take a write (full, read-only after a filesystem error, failing) is the machine's state, not the
 * config's, and goes away when logs rotate or a disk is freed: exit 75 (EX_TEMPFAIL), which the unit
 * restarts with its delay, so an unattended checkpoint comes back without a person.
 */
export const EXIT_CONFIG = 2;
export const EXIT_TEMPFAIL = 75;

const DISK = "GW_STATE_DIR_UNWRITABLE";

/** The header code and exit status for a non-empty list of preflight problems. */
export function preflightFailure(problems: readonly string[]): { code: string; exit: number } {
  const diskOnly = problems.length > 0 && problems.every((p) => p.includes(DISK));
  return diskOnly ? { code: DISK, exit: EXIT_TEMPFAIL } : { code: "GW_CONFIG_INVALID", exit: EXIT_CONFIG };
}

/** The exit status for a start that failed with `code` after the preflight passed. */
export function startFailureExit(code: string | undefined): number {
  if (code === DISK) return EXIT_TEMPFAIL;
  return code === "GW_CONFIG_INVALID" || code === "GW_STATE_DIR_LOCKED" ? EXIT_CONFIG : 1;
}
