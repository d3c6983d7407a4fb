import { onFault, type FaultKind } from "../core/faults.js";
import type { Logger } from "../core/logger.js";

/** The log code of each contained fault kind, so operators can alert on one code per cause. */
export function faultCode(kind: FaultKind): string {
  switch (kind) {
    case "timer":
      return "GW_TIMER_FAULT";
    case "unhandled_rejection":
      return "GW_UNHANDLED_REJECTION";
    case "uncaught_exception":
      return "GW_UNCAUGHT_EXCEPTION";
    default:
      return "GW_INTERNAL_FAULT";
  }
}

/**
 * Logs every contained fault (a timer that threw, a lane decision that failed) with its place, for
 * as long as the gateway runs. Returns the unsubscribe: a stopped gateway must not keep logging
 * faults of a later one in the same process.
 */
export function logFaults(log: Logger): () => void {
  return onFault((f) =>
    log.error({ code: faultCode(f.kind), kind: f.kind, where: f.where, err: f.error instanceof Error ? f.error.message : String(f.error) }, "internal fault contained; the gateway keeps running"),
  );
}
