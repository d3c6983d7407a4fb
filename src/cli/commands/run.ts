import { loadConfigFile, ConfigError } from "../../config/load.js";
import { checkedForReload, preflight } from "../../config/preflight.js";
import { createLogger } from "../../core/logger.js";
import { parse, UsageError } from "../args.js";
import { writeErr } from "../stderr.js";
import { systemClock } from "../../core/clock.js";
import { createSystemdNotifier } from "../../output/systemd/notify.js";
import { installProcessPolicy } from "../../app/process-policy.js";
import { preflightFailure, startFailureExit } from "./preflight-exit.js";

export const DEFAULT_CONFIG = "config/demo.yaml";

/**
 * `run [--config FILE]`: starts the gateway (default: the demo) and stays up until SIGTERM/SIGINT
 * (graceful stop, displays told first); SIGHUP reloads the config file. Every signal is logged.
 * An invalid config prints every problem and exits 2 before anything starts; a state directory
 * the disk cannot write exits 75 (preflight-exit.ts).
 */
export default async function runCommand(args: string[]): Promise<number> {
  // SIGHUP's default action ends the process without a line: from the first moment it is noted,
  // and the reload it asks for (the file may have changed after it was read) runs once the gateway is up.
  let earlyHup = false;
  const hupBeforeStart = () => (earlyHup = true);
  process.on("SIGHUP", hupBeforeStart);
  try {
    return await runGateway(args, () => earlyHup);
  } finally {
    process.off("SIGHUP", hupBeforeStart);
  }
}


/** Ctrl-C under `npm start` arrives twice (from the terminal and forwarded by npm): only a stop request well after the first means "exit now". */
const REPEAT_MS = 1500;

async function runGateway(args: string[], hupDuringStart: () => boolean): Promise<number> {
  let file = DEFAULT_CONFIG;
  try {
    const { values } = parse(args, { config: { type: "string", short: "c" } });
    if (values.config) file = values.config;
  } catch (e) {
    if (e instanceof UsageError) {
      writeErr(`${e.message}\nusage: checkpoint-gateway run [--config FILE]\n`);
      return 64;
    }
    throw e;
  }
  let cfg;
  try {
    cfg = loadConfigFile(file);
  } catch (e) {
    if (e instanceof ConfigError) {
      writeErr(`${file}: ${e.code}\n  ${e.problems.join("\n  ")}\n`);
      return 2;
    }
    throw e;
  }
  // The same preflight as `config check`: a missing key or clip, a busy port or a lane without a
  // camera is refused here, in one message, not found one by one after cameras have started.
  const report = await preflight(cfg);
  if (report.problems.length > 0) {
    const failure = preflightFailure(report.problems);
    writeErr(`${file}: ${failure.code}\n  ${report.problems.join("\n  ")}\n`);
    return failure.exit;
  }
  // LOG_LEVEL overrides the file (config schema: log.level).
  const logger = createLogger({ level: process.env.LOG_LEVEL || cfg.log.level });
  // Loaded lazily: `config check` and friends must not pay for the pipeline's imports.
  const { startGateway } = await import("../../app/gateway.js");
  // Signals during start-up are logged too: a stop request is honoured as soon as the gateway is
  // up (a repeated one, as after start-up, exits at once: a start held on a slow trust server must
  // not ignore the operator), and so is a reload.
  let earlyStop: { signal: NodeJS.Signals; at: number } | undefined;
  const early = (signal: NodeJS.Signals) => {
    if (signal !== "SIGHUP" && earlyStop && performance.now() - earlyStop.at >= REPEAT_MS) {
      logger.warn({ signal }, "second stop request during start-up: exiting without waiting");
      writeErr(`${signal} again: exiting without waiting\n`);
      process.exit(130);
    }
    logger.info({ signal }, signal === "SIGHUP" ? "signal received during start-up: reloading once started" : "signal received during start-up: stopping once started");
    if (signal !== "SIGHUP") earlyStop ??= { signal, at: performance.now() };
  };
  for (const sig of ["SIGHUP", "SIGTERM", "SIGINT"] as const) process.on(sig, early);
  let gw;
  try {
    gw = await startGateway(cfg, { logger, reloadConfig: () => checkedForReload(loadConfigFile(file)) });
  } catch (e) {
    for (const sig of ["SIGHUP", "SIGTERM", "SIGINT"] as const) process.off(sig, early);
    const code = (e as { code?: string }).code;
    logger.fatal({ err: (e as Error).message, code }, "gateway failed to start");
    writeErr(`gateway failed to start: ${code ? `${code}: ` : ""}${(e as Error).message}\n`);
    // The preflight's problems found late (a race with another start, a disk that filled since):
    // a config that validates but points at something unusable or a stateDir in use exit 2, a
    // stateDir the disk cannot write 75 (preflight-exit.ts).
    return startFailureExit(e);
  }
  const lines = [`checkpoint-gateway ${cfg.gateway.id} running (${file})`, `  dashboard: ${gw.urls.dashboard}`];
  for (const [id, url] of Object.entries(gw.urls.lanes)) lines.push(`  lane ${id}: ${url}`);
  lines.push(`  metrics:   ${gw.urls.public}/metrics`);
  if (gw.urls.admin) lines.push(`  admin API: ${gw.urls.admin}`);
  process.stdout.write(lines.join("\n") + "\n");
  // Under systemd (Type=notify, WatchdogSec): ready once listening, then watchdog pings.
  let notifyFailed = false;
  const notifier = createSystemdNotifier({
    env: process.env,
    pid: process.pid,
    clock: systemClock,
    onError: (e) => {
      if (!notifyFailed) logger.warn({ err: e.message }, "systemd notification failed");
      notifyFailed = true;
    },
  });
  notifier?.ready(`${Object.keys(gw.urls.lanes).length} lanes`);

  return new Promise<number>((resolve) => {
    let stoppingSince: number | undefined;
    let exitCode = 0;
    const stop = (why: string, code: number) => {
      if (stoppingSince !== undefined) {
        if (performance.now() - stoppingSince < REPEAT_MS) return;
        logger.warn({ signal: why }, "second stop request: exiting without waiting");
        writeErr(`${why} again: exiting without waiting\n`);
        process.exit(130);
      }
      stoppingSince = performance.now();
      exitCode = code;
      logger.info({ signal: why }, "shutdown requested");
      notifier?.stopping();
      notifier?.close();
      gw.close().then(
        () => resolve(exitCode),
        (e: unknown) => {
          logger.error({ err: (e as Error).message }, "shutdown failed");
          resolve(1);
        },
      );
    };
    // SIGHUP is the conventional "re-read your config" (systemd ExecReload): the same reload as
    // POST /admin/reload. Before this handler existed, SIGHUP killed the process without a line.
    const hup = () => {
      logger.info({ signal: "SIGHUP" }, "signal received: reloading the configuration");
      // systemd shows "reloading" until READY=1 again, whatever the outcome.
      notifier?.reloading();
      gw.reload()
        .then(
          (r) => logger.info({ signal: "SIGHUP", applied: r.applied, restartRequired: r.restartRequired }, "SIGHUP reload done"),
          (e: unknown) => logger.error({ signal: "SIGHUP", code: (e as { code?: string }).code ?? "GW_ADMIN_ACTION_FAILED", err: (e as Error).message }, "SIGHUP reload failed; the previous configuration stays"),
        )
        .finally(() => notifier?.ready());
    };
    const term = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "signal received");
      stop(signal, 0);
    };
    // The new handlers go on before the start-up ones come off: a signal with no listener left
    // even for a moment has its watcher stopped, and one already received but not yet dispatched
    // is lost (a SIGHUP right after start-up was dropped that way).
    process.on("SIGHUP", hup);
    process.on("SIGTERM", term);
    process.on("SIGINT", term);
    for (const sig of ["SIGHUP", "SIGTERM", "SIGINT"] as const) process.off(sig, early);
    if (earlyStop) stop(earlyStop.signal, 0);
    else if (hupDuringStart()) hup();
    installProcessPolicy({
      logger,
      // After an uncaught exception: displays out of service, graceful stop, exit 70 (EX_SOFTWARE) for a clean restart.
      onFatal: () => {
        // If even the graceful stop hangs, the service manager still gets its exit.
        setTimeout(() => process.exit(70), 10_000).unref();
        stop("uncaughtException", 70);
      },
    });
  });
}