import { loadConfigFile, ConfigError } from "../../config/load.js";
import { preflight } from "../../config/preflight.js";
import { createLogger } from "../../core/logger.js";
import { parse, UsageError } from "../args.js";
import { systemClock } from "../../core/clock.js";
import { createSystemdNotifier } from "../../output/systemd/notify.js";

export const DEFAULT_CONFIG = "config/demo.yaml";

/**
 * `run [--config FILE]`: starts the gateway (default: the demo) and stays up until SIGTERM/SIGINT.
 * An invalid config prints every problem and exits 2 before anything starts.
 */
export default async function runCommand(args: string[]): Promise<number> {
  let file = DEFAULT_CONFIG;
  try {
    const { values } = parse(args, { config: { type: "string", short: "c" } });
    if (values.config) file = values.config;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\nusage: checkpoint-gateway run [--config FILE]\n`);
      return 64;
    }
    throw e;
  }
  let cfg;
  try {
    cfg = loadConfigFile(file);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${file}: ${e.code}\n  ${e.problems.join("\n  ")}\n`);
      return 2;
    }
    throw e;
  }
  // The same preflight as `config check`: a missing key or clip, a busy port or a lane without a
  // camera is refused here, in one message, not found one by one after cameras have started.
  const report = await preflight(cfg);
  if (report.problems.length > 0) {
    process.stderr.write(`${file}: GW_CONFIG_INVALID\n  ${report.problems.join("\n  ")}\n`);
    return 2;
  }
  // LOG_LEVEL overrides the file (config schema: log.level).
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? cfg.log.level });
  // Loaded lazily: `config check` and friends must not pay for the pipeline's imports.
  const { startGateway } = await import("../../app/gateway.js");
  let gw;
  try {
    gw = await startGateway(cfg, { logger, reloadConfig: () => loadConfigFile(file) });
  } catch (e) {
    const code = (e as { code?: string }).code;
    logger.fatal({ err: (e as Error).message, code }, "gateway failed to start");
    process.stderr.write(`gateway failed to start: ${code ? `${code}: ` : ""}${(e as Error).message}\n`);
    // A config that validates but points at something unusable (e.g. a missing root key) is still a config error.
    return code === "GW_CONFIG_INVALID" ? 2 : 1;
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
    const stop = (signal: NodeJS.Signals) => {
      if (stoppingSince !== undefined) {
        // Ctrl-C under `npm start` arrives twice (from the terminal and forwarded by npm): only a
        // signal well after the first means "exit now".
        if (performance.now() - stoppingSince < 1500) return;
        process.stderr.write(`${signal} again: exiting without waiting\n`);
        process.exit(130);
      }
      stoppingSince = performance.now();
      logger.info({ signal }, "shutdown requested");
      notifier?.stopping();
      notifier?.close();
      gw.close().then(
        () => resolve(0),
        (e: unknown) => {
          logger.error({ err: (e as Error).message }, "shutdown failed");
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
