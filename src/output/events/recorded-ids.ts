import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import { LEDGER_NAME } from "../ledger/chain.js";
import { readLaneMarks } from "../ledger/lane-marks.js";
import { SPOOL_FILE } from "./spool-file.js";

/**
 * How many ledger files, newest first, the quick check (the seq file read fine) reads to find a lane:
 * a lane idle since before the newest file (closed for a day, or only other lanes decided after
 * midnight UTC) has its last id in an older one, and a seq file restored from a backup must be caught
 * there too. About a month of daily files; a start never scans years of them.
 */
export const QUICK_LEDGER_FILES = 31;

/**
 * The highest lane seq found in this gateway's durable records (the ledger's lane marks, ledger
 * files newest first, and the spool file), 0 when there is none. Used only to recover a missing or damaged sequence file, so a
 * recovered lane never hands out an id that was already used. Reads files with fs errors thrown:
 * the caller must not guess when the evidence cannot be read.
 */
export function highestRecordedSeq(stateDir: string, gatewayId: string, lane: string, thorough = true): number {
  const prefix = Buffer.from(`"id":"${jsonEscape(`${gatewayId}:${lane}:`)}`, "utf8");
  let best = 0;
  const spool = join(stateDir, "spool", SPOOL_FILE);
  if (existsSync(spool)) best = Math.max(best, scanFile(spool, prefix, thorough ? Infinity : QUICK_BYTES));
  const ledgerDir = join(stateDir, "ledger");
  // The ledger's lane marks keep a lane's last seq however long it has been idle (the file scan below stops after 31 files).
  best = Math.max(best, readLaneMarks(ledgerDir)?.lanes[`${gatewayId}:${lane}`] ?? 0);
  if (existsSync(ledgerDir)) {
    const files = readdirSync(ledgerDir).filter((f) => LEDGER_NAME.test(f)).sort().reverse();
    // Ids only grow, so the newest file that mentions the lane holds its highest id.
    for (const f of thorough ? files : files.slice(0, QUICK_LEDGER_FILES)) {
      const found = scanFile(join(ledgerDir, f), prefix, Infinity);
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
const CHUNK = 1 << 20;

/**
 * The highest id with `prefix` in the last `tailBytes` of the file, read in chunks: a ledger day or a
 * spool file can be larger than one string can hold, and reading it whole threw, which put a lane with
 * a damaged seq file out of service.
 */
function scanFile(path: string, prefix: Buffer, tailBytes: number): number {
  // An id cut by a chunk's end is read whole in the next chunk, which repeats this overlap.
  const overlap = prefix.length + MAX_DIGITS + 1;
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    let pos = Math.max(0, size - tailBytes);
    const buf = Buffer.allocUnsafe(CHUNK + overlap);
    let kept = 0;
    let best = 0;
    while (pos < size) {
      const got = readSync(fd, buf, kept, Math.min(CHUNK, size - pos), pos);
      if (got === 0) break;
      pos += got;
      const end = kept + got;
      best = Math.max(best, scan(buf.subarray(0, end), prefix));
      kept = Math.min(overlap, end);
      buf.copy(buf, 0, end - kept, end);
    }
    return best;
  } finally {
    closeSync(fd);
  }
}

/** More digits than any safe integer has: such an id was not handed out by a sound store. */
const MAX_DIGITS = 16;

function scan(buf: Buffer, prefix: Buffer): number {
  let best = 0;
  for (let i = buf.indexOf(prefix); i >= 0; i = buf.indexOf(prefix, i + prefix.length)) {
    const from = i + prefix.length;
    let j = from;
    while (j < buf.length && j - from <= MAX_DIGITS && buf[j]! >= 0x30 && buf[j]! <= 0x39) j++;
    if (j === from || j - from > MAX_DIGITS || buf[j] !== 0x22) continue;
    const n = Number(buf.toString("latin1", from, j));
    // Past 2^53 a number cannot be told from its neighbours: a damaged value, not an id.
    if (Number.isSafeInteger(n)) best = Math.max(best, n);
  }
  return best;
}

function jsonEscape(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}
