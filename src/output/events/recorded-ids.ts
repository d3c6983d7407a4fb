import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { LEDGER_NAME } from "../ledger/chain.js";
import { SPOOL_FILE } from "./spool-file.js";

/**
 * The highest lane seq found in this gateway's durable records (ledger files, newest first, and the
 * spool file), 0 when there is none. Used only to recover a missing or damaged sequence file, so a
 * recovered lane never hands out an id that was already used. Reads files with fs errors thrown:
 * the caller must not guess when the evidence cannot be read.
 */
export function highestRecordedSeq(stateDir: string, gatewayId: string, lane: string, thorough = true): number {
  const prefix = `"id":"${jsonEscape(`${gatewayId}:${lane}:`)}`;
  let best = 0;
  const spool = join(stateDir, "spool", SPOOL_FILE);
  if (existsSync(spool)) best = Math.max(best, scan(thorough ? readFileSync(spool, "utf8") : tail(spool, QUICK_BYTES), prefix));
  const ledgerDir = join(stateDir, "ledger");
  if (existsSync(ledgerDir)) {
    const files = readdirSync(ledgerDir).filter((f) => LEDGER_NAME.test(f)).sort().reverse();
    // Ids only grow, so the newest file that mentions the lane holds its highest id. A quick check
    // (the seq file read fine) looks at the newest file only, so a start never scans years of files.
    for (const f of thorough ? files : files.slice(0, 1)) {
      const found = scan(readFileSync(join(ledgerDir, f), "utf8"), prefix);
      if (found > 0) {
        best = Math.max(best, found);
        break;
      }
    }
  }
  return best;
}

/** The quick check reads only the end of the spool (up to its 64 MiB bound otherwise, per lane). */
const QUICK_BYTES = 1 << 20;

function tail(path: string, bytes: number): string {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, bytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

function scan(text: string, prefix: string): number {
  let best = 0;
  for (let i = text.indexOf(prefix); i >= 0; i = text.indexOf(prefix, i + prefix.length)) {
    const m = /^([0-9]{1,16})"/.exec(text.slice(i + prefix.length, i + prefix.length + 18));
    if (m) best = Math.max(best, Number(m[1]));
  }
  return best;
}

function jsonEscape(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}
