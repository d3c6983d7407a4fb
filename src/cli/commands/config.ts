import { loadConfigFile, ConfigError } from "../../config/load.js";

/** `config check FILE`: prints every problem and exits 2, or prints a short summary and exits 0. */
export default async function configCommand(args: string[]): Promise<number> {
  const [sub, file] = args;
  if (sub !== "check" || !file) {
    process.stderr.write("usage: checkpoint-gateway config check FILE\n");
    return 64;
  }
  try {
    const cfg = loadConfigFile(file);
    process.stdout.write(`${file}: ok (${cfg.cameras.length} cameras, ${cfg.lanes.length} lanes)\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${file}: ${e.code}\n  ${e.problems.join("\n  ")}\n`);
      return 2;
    }
    throw e;
  }
}
