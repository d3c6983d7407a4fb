import { basename } from "node:path";
import { parse, UsageError } from "../args.js";
import { LEDGER_NAME } from "../../output/ledger/chain.js";
import { verifyLedgerFiles } from "../../output/ledger/verify.js";

const USAGE = "usage: checkpoint-gateway ledger verify [--json] FILE...\n";

/** `ledger verify FILE...`: exit 0 when the chain holds, 1 naming the first broken entry, 64 on usage. */
export default async function ledgerCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(args, { json: { type: "boolean" }, help: { type: "boolean", short: "h" } });
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n${USAGE}`);
      return 64;
    }
    throw e;
  }
  const [sub, ...files] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (sub !== "verify" || files.length === 0) {
    process.stderr.write(USAGE);
    return 64;
  }
  // Daily files named ledger-YYYY-MM-DD.jsonl are put in date order whatever order the shell gave.
  const ordered = files.every((f) => LEDGER_NAME.test(basename(f))) ? [...files].sort((a, b) => basename(a).localeCompare(basename(b))) : files;
  const r = verifyLedgerFiles(ordered);
  if (parsed.values.json) process.stdout.write(JSON.stringify(r) + "\n");
  else if (r.ok) process.stdout.write(`ok: ${r.entries} entries (seq ${r.firstSeq}..${r.lastSeq}) in ${ordered.length} file(s)\n`);
  else process.stderr.write(`GW_LEDGER_BROKEN ${r.firstBroken!.file}:${r.firstBroken!.line}: ${r.firstBroken!.problem} (${r.entries} entries verified before it)\n`);
  return r.ok ? 0 : 1;
}
