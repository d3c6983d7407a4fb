/**
 * `checkpoint-gateway <command>`: each command lives in its own module under commands/
 * and is loaded only when used, so `decode` does not pay for fastify or Redis start-up.
 */
export type CommandMain = (args: string[]) => Promise<number>;

/** One usage line per subcommand; `test/cli/usage.test.ts` keeps them in step with the README. */
const commands: Record<string, { module: string; summary: string[] }> = {
  run: { module: "./commands/run.js", summary: ["run --config FILE          run the gateway (default config/demo.yaml)"] },
  config: { module: "./commands/config.js", summary: ["config check [--connect] FILE   preflight: 0 ok, 2 invalid, 3 unreachable"] },
  decode: { module: "./commands/decode.js", summary: ["decode [--json] [--as-camera] FILE...   read QR codes from images or video clips"] },
  verify: { module: "./commands/verify.js", summary: ["verify [--trust SRC]... [--at TIME] [--json] INPUT...  verify credentials"] },
  keys: { module: "./commands/keys.js", summary: ["keys generate --out DIR [--kid ID] [--issuer ID]   make an ES256 key pair"] },
  pass: { module: "./commands/pass.js", summary: ["pass issue --key KEY --in PASS.json [--png FILE]   sign a checkpoint pass"] },
  "trust-list": { module: "./commands/trust-list.js", summary: [
      "trust-list sign --root KEY --in LIST.json --out FILE   sign a trust list",
      "trust-list verify --root KEY.jwk.json --in FILE [--json]   check a signed trust list",
      "trust-list sign-delta --key KEY --in DELTA.json --out FILE   sign a revocation delta",
    ],
  },
  ledger: { module: "./commands/ledger.js", summary: ["ledger verify FILE...      check a verdict ledger's hash chain"] },
};

export function usage(): string {
  return ["usage: checkpoint-gateway <command> [options]", "", ...Object.values(commands).flatMap((c) => c.summary.map((line) => "  " + line))].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "-h" || name === "--help" || name === "help") {
    process.stdout.write(usage() + "\n");
    return name ? 0 : 64;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`unknown command '${name}'\n${usage()}\n`);
    return 64;
  }
  let mod: { default: CommandMain };
  try {
    mod = (await import(entry.module)) as { default: CommandMain };
  } catch (e) {
    process.stderr.write(`command '${name}' is not available in this build: ${(e as Error).message}\n`);
    return 70;
  }
  return mod.default(rest);
}
