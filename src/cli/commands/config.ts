import { loadConfigFile, ConfigError } from "../../config/load.js";
import { preflight } from "../../config/preflight.js";
import { parse, UsageError } from "../args.js";
import { writeErr } from "../stderr.js";
import { preflightFailure } from "./preflight-exit.js";

const USAGE = "usage: checkpoint-gateway config check [--connect] FILE";

/**
 * `config check [--connect] FILE`: the preflight. Validates the file and runs every check `run`
 * makes before it starts (files, keys, URL schemes, ports, lanes with cameras) without starting a
 * camera. Exit codes: 0 ok, 2 the config is invalid or `run` would fail, 3 (`--connect` only) Redis,
 * MQTT or a camera host could not be reached, 64 usage, 75 the only problem is a state directory the
 * disk cannot write (temporary: preflight-exit.ts).
 */
export default async function configCommand(args: string[]): Promise<number> {
  let connect = false;
  let sub: string | undefined;
  let file: string | undefined;
  try {
    const { values, positionals } = parse(args, { connect: { type: "boolean" } });
    connect = values.connect === true;
    [sub, file] = positionals;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    writeErr(`${e.message}\n${USAGE}\n`);
    return 64;
  }
  if (sub !== "check" || !file) {
    writeErr(`${USAGE}\n`);
    return 64;
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
  const report = await preflight(cfg, { connect });
  if (report.problems.length > 0) {
    const failure = preflightFailure(report.problems);
    writeErr(`${file}: ${failure.code}\n  ${report.problems.join("\n  ")}\n`);
    return failure.exit;
  }
  if (report.unreachable.length > 0) {
    writeErr(`${file}: valid, but not everything answers\n  ${report.unreachable.join("\n  ")}\n`);
    return 3;
  }
  process.stdout.write(`${file}: ok (${cfg.cameras.length} cameras, ${cfg.lanes.length} lanes${connect ? ", all reachable" : ""})\n`);
  return 0;
}
