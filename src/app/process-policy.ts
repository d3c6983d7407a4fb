import type { Logger } from "../core/logger.js";
import { recordFault } from "../core/faults.js";

export interface ProcessPolicyOptions {
  logger: Logger;
  /**
   * Called once after an uncaught exception has been logged: the caller shuts down gracefully
   * (displays out of service first) and exits non-zero so the service manager restarts it.
   */
  onFatal: (error: unknown) => void;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * The process-level policy (installed by `run`):
 * - every internal fault (guarded timer, lane decision, ...) is counted in src/core/faults.ts and
 *   logged by the running gateway with its place;
 * - an unhandled promise rejection is logged and counted, and the process keeps running: a
 *   rejection is one failed operation, and every stage reports its own consequences (a lane that
 *   cannot see goes out of service), so exiting would only turn one lost operation into every lane
 *   going dark;
 * - an uncaught exception is logged and counted, then the gateway stops gracefully and exits 70.
 *   Unlike a rejection it unwound a stack mid-way through code that did not expect it (an
 *   EventEmitter 'error' nobody listens to, a throw in a socket callback), so any state it touched
 *   may be half-updated; Node documents the process as unsafe to resume then. Timers are already
 *   guarded by the clock, so this is for what slipped past every guard; systemd (Restart=always)
 *   brings a clean process back within seconds, and the displays say "out of service" meanwhile
 *   instead of trusting state we cannot vouch for.
 * Returns the uninstaller (tests).
 */
export function installProcessPolicy(o: ProcessPolicyOptions): () => void {
  const log = o.logger.child({ module: "process" });
  const onRejection = (reason: unknown) => recordFault("unhandled_rejection", "process", reason);
  let fatal = false;
  const onException = (error: unknown) => {
    recordFault("uncaught_exception", "process", error);
    if (fatal) return;
    fatal = true;
    log.fatal({ code: "GW_UNCAUGHT_EXCEPTION", err: message(error) }, "uncaught exception: stopping gracefully, then exiting for a clean restart");
    o.onFatal(error);
  };
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return () => {
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onException);
  };
}
