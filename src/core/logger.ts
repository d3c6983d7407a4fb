import { pino, type Logger, type DestinationStream } from "pino";
import { secretMasker } from "./mask.js";

export type { Logger } from "pino";

export interface LoggerOptions {
  level?: string;
  /** Where lines go; stdout by default. Tests pass a collecting stream. */
  destination?: DestinationStream;
}

/**
 * JSON logs on stdout. Masking happens in `streamWrite`, i.e. on the final serialized line,
 * so a URL or secret that reaches any field (or an error message) is still removed.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? "info";
  return pino(
    {
      level,
      base: { service: "checkpoint-gateway" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: (s) => secretMasker.mask(s) },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/** A logger that drops everything, for pure code paths under test. */
export const silentLogger: Logger = pino({ level: "silent" });

/** Child loggers are bound to pipeline coordinates, never to payloads. */
export function moduleLogger(parent: Logger, module: string, ids: { camera?: string; lane?: string } = {}): Logger {
  return parent.child({ module, ...ids });
}
