import type { Logger } from "../core/logger.js";
import type { Lane } from "../lane/index.js";

/** What a graceful stop touches. Getters for what a reload may replace: they are read after it ends. */
export interface ShutdownParts {
  lanes: ReadonlyMap<string, Pick<Lane, "setProblem" | "settle" | "close">>;
  health: { stop(): void };
  /** The reload in progress, if any. */
  reloading: () => Promise<unknown> | undefined;
  cameras: { stop(): Promise<void> };
  pool: () => { close(): Promise<void> };
  outputs: () => { close(): Promise<void> } | undefined;
  replay: { close(): Promise<void> };
  http: { close(): Promise<void> };
  trust: { stop(): Promise<void> };
  redis?: { disconnect(): void };
  /** Ends the fault log (fault-log.ts) last, so a fault during the stop is still logged. */
  offFaultLog: () => void;
  log: Logger;
  /** How long the stop waits for a reload in progress (default RELOAD_WAIT_MS). */
  reloadWaitMs?: number;
}

/**
 * A reload can wait on a trust server for its whole fetch timeout (30 s by default), and systemd
 * kills the whole unit at TimeoutStopSec (20 s in docs/deploy): waiting that long would lose the
 * rest of the stop (outputs flushed, MQTT's offline, the displays told). What a reload left half
 * started ends with the process.
 */
export const RELOAD_WAIT_MS = 5_000;

/**
 * The graceful stop, in order: lanes out of service, then cameras, decode, outputs, HTTP, trust,
 * Redis. The caller makes it idempotent (one promise for every call).
 */
export async function shutdown(p: ShutdownParts): Promise<void> {
  p.log.info("gateway stopping");
  // Screens first: no lane may keep showing green while the rest shuts down.
  for (const l of p.lanes.values()) l.setProblem("SHUTTING_DOWN", true);
  p.health.stop();
  // A reload half done would leave stages it opened running after the stop: wait for it, a while.
  const reload = p.reloading();
  if (reload) {
    let timer: NodeJS.Timeout | undefined;
    const waitMs = p.reloadWaitMs ?? RELOAD_WAIT_MS;
    const ended = await Promise.race([
      reload.then(
        () => true,
        () => true,
      ),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), waitMs))),
    ]);
    clearTimeout(timer);
    if (!ended) p.log.warn({ waitedMs: waitMs }, "a reload is still running: stopping without waiting for it");
  }
  // No new frames, then no decoding; decisions in flight finish before the outputs that record them close.
  await p.cameras.stop();
  await p.pool().close();
  await Promise.all([...p.lanes.values()].map((l) => l.settle()));
  await p.outputs()?.close();
  await p.replay.close();
  await p.http.close();
  for (const l of p.lanes.values()) l.close();
  await p.trust.stop();
  p.redis?.disconnect();
  p.offFaultLog();
  p.log.info("gateway stopped");
}
