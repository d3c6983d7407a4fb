/**
 * Process-wide record of internal faults: a timer callback that threw, a promise nobody handled,
 * an uncaught exception. The process must outlive them (a lane that cannot see says so instead),
 * so they are counted here, reported to listeners (the app logs them; metrics read the counts),
 * and never rethrown.
 */
export type FaultKind = "timer" | "unhandled_rejection" | "uncaught_exception" | "callback";

export interface Fault {
  kind: FaultKind;
  /** Where it happened (a timer label or module name); never payload data. */
  where: string;
  error: unknown;
}

type Listener = (f: Fault) => void;

const counts = new Map<FaultKind, number>();
const byWhere = new Map<string, number>();
const listeners = new Set<Listener>();

/** Counts the fault and tells every listener; a throwing listener is ignored (it must not loop). */
export function recordFault(kind: FaultKind, where: string, error: unknown): void {
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
  byWhere.set(where, (byWhere.get(where) ?? 0) + 1);
  if (listeners.size === 0) {
    // Nobody wired a logger (a library user, a test): still leave a trace.
    process.stderr.write(`internal fault (${kind} at ${where}): ${error instanceof Error ? error.message : String(error)}\n`);
    return;
  }
  for (const l of listeners) {
    try {
      l({ kind, where, error });
    } catch {
      // A broken listener must not turn one fault into a crash.
    }
  }
}

export function onFault(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Totals since process start, by kind (every kind present, 0 when none). */
export function faultCounts(): Record<FaultKind, number> {
  return {
    timer: counts.get("timer") ?? 0,
    unhandled_rejection: counts.get("unhandled_rejection") ?? 0,
    uncaught_exception: counts.get("uncaught_exception") ?? 0,
    callback: counts.get("callback") ?? 0,
  };
}

/** Totals by where it happened (timer label, module). */
export function faultCountsByWhere(): Record<string, number> {
  return Object.fromEntries(byWhere);
}

/**
 * Runs a callback so that neither a synchronous throw nor a rejected promise it returns can reach
 * the process: both are recorded as faults of `kind` at `where`.
 */
export function runGuarded(fn: () => unknown, where: string, kind: FaultKind = "callback"): void {
  try {
    const r = fn();
    if (r !== null && typeof r === "object" && typeof (r as PromiseLike<unknown>).then === "function") {
      (r as PromiseLike<unknown>).then(undefined, (e: unknown) => recordFault(kind, where, e));
    }
  } catch (e) {
    recordFault(kind, where, e);
  }
}

/** The guarded form of a callback, for raw timers and event handlers outside the clock. */
export function guarded(fn: () => unknown, where: string, kind: FaultKind = "callback"): () => void {
  return () => runGuarded(fn, where, kind);
}
