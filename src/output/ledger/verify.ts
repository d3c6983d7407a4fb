import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { GENESIS, HEAD_FILE, hashBody, LEDGER_NAME, type LedgerHead } from "./chain.js";

export interface LedgerVerifyResult {
  ok: boolean;
  entries: number;
  /** First seq checked; > 1 when the files start mid-chain (older files not given). */
  firstSeq?: number;
  lastSeq?: number;
  firstBroken?: { file: string; line: number; problem: string };
  /** What the first entry was checked against: genesis, the previous day's file, or a given head. */
  startAnchor?: "genesis" | "previous-file" | "from-head";
  /** True when an external head (Redis, MQTT, a saved copy) was compared with the files. */
  headChecked?: boolean;
  /** With an external head: the seq it covers, and how many entries the files hold after it (which it cannot vouch for). */
  headSeq?: number;
  entriesAfterHead?: number;
  /** The directory's ledger.head.json: the file it names, and whether that file was given (and so checked). */
  dirHead?: { file: string; checked: boolean };
}

export interface LedgerVerifyOptions {
  /** A trusted head the first entry must continue from (the files start after it). */
  from?: LedgerHead;
  /** A head anchored outside the ledger directory: the files must contain it, unchanged. */
  head?: LedgerHead & { at?: string };
  /** Accept entries written well after the head was published (a head sink down for a while): counted, not refused. */
  allowUncovered?: boolean;
}

/**
 * Entries written this long after the head was published are ones it should have covered: the
 * anchor publishes within a second of each write, so a head older than that is an old value (a
 * Redis rolled back or lagging after a failover, a replayed write) that cannot vouch for them.
 */
export const HEAD_COVER_SLACK_MS = 60_000;

/** The last entry of the ledger file dated just before `file` in the same directory, if any. */
function previousFileHead(file: string): { file: string; seq: number; hash: string } | { error: string } | undefined {
  const dir = dirname(file);
  const name = basename(file);
  if (!LEDGER_NAME.test(name)) return undefined;
  let prevName: string | undefined;
  try {
    prevName = readdirSync(dir).filter((f) => LEDGER_NAME.test(f) && f < name).sort().pop();
  } catch {
    return undefined;
  }
  if (!prevName) return undefined;
  let text: string;
  try {
    text = readFileSync(join(dir, prevName), "utf8");
  } catch (e) {
    return { error: `${prevName} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})` };
  }
  const lines = text.split("\n").filter(Boolean);
  const last = lines[lines.length - 1];
  if (!last) return { error: `${prevName} is empty` };
  try {
    const { hash, ...body } = JSON.parse(last) as Record<string, unknown>;
    if (typeof hash !== "string" || hashBody(JSON.stringify(body)) !== hash || !Number.isSafeInteger(body.seq)) return { error: `the last entry of ${prevName} is damaged` };
    return { file: prevName, seq: body.seq as number, hash };
  } catch {
    return { error: `the last entry of ${prevName} is unparsable` };
  }
}

/** The first entry's seq and prev of the ledger file dated just after `file` in the same directory, if it has one. */
function nextFileStart(file: string): { file: string; seq: unknown; prev: unknown } | undefined {
  const name = basename(file);
  if (!LEDGER_NAME.test(name)) return undefined;
  try {
    const next = readdirSync(dirname(file)).filter((f) => LEDGER_NAME.test(f) && f > name).sort()[0];
    if (!next) return undefined;
    const first = readFileSync(join(dirname(file), next), "utf8").split("\n")[0];
    // An empty or garbled next file anchors nothing here; verifying it reports it.
    if (!first) return undefined;
    const { seq, prev } = JSON.parse(first) as Record<string, unknown>;
    return { file: next, seq, prev };
  } catch {
    return undefined;
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The directory's head file; anything but {file, seq, hash} is tampering (the writer replaces it atomically). */
function readHeadFile(path: string): LedgerHead | { error: string } {
  let h: unknown;
  try {
    const text = readFileSync(path, "utf8");
    // Still not ok (emptying it would hide a cut tail), but said for what it most likely is.
    if (text.length === 0) {
      return { error: `${HEAD_FILE} is empty (0 bytes): a head write cut by a power loss (gateways before the head was fsynced) or the file was emptied; check against the anchored head (--head or --redis)` };
    }
    h = JSON.parse(text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { error: code ? `${HEAD_FILE} cannot be read (${code})` : `${HEAD_FILE} is unparsable: the head was replaced or damaged` };
  }
  const o = (h ?? {}) as Record<string, unknown>;
  if (typeof o.file !== "string" || !LEDGER_NAME.test(o.file) || !Number.isSafeInteger(o.seq) || (o.seq as number) < 0 || typeof o.hash !== "string" || !HEX64.test(o.hash)) {
    return { error: `${HEAD_FILE} is not a ledger head ({file, seq, hash}): the head was replaced or damaged` };
  }
  return { file: o.file, seq: o.seq as number, hash: o.hash };
}

/**
 * Checks files in the order given (callers sort by name: ledger-YYYY-MM-DD sorts by date).
 * Reports the first entry that breaks the chain: an edit breaks its own hash, a deletion,
 * insertion or reordering breaks `seq`/`prev`, a cut tail is caught by the head file.
 */
export function verifyLedgerFiles(files: string[], opts: LedgerVerifyOptions = {}): LedgerVerifyResult {
  let entries = 0;
  let startAnchor: LedgerVerifyResult["startAnchor"];
  let headSeen = false;
  let expectSeq: number | undefined;
  let expectPrev: string | undefined;
  let firstSeq: number | undefined;
  let lastHashes = new Map<number, string>();
  let afterHead = 0;
  let uncovered: { seq: number; time: string } | undefined;
  const headAt = opts.head?.at !== undefined ? Date.parse(opts.head.at) : NaN;
  const broken = (file: string, line: number, problem: string): LedgerVerifyResult => ({ ok: false, entries, firstSeq, lastSeq: expectSeq === undefined ? undefined : expectSeq - 1, firstBroken: { file, line, problem } });

  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      return broken(file, 0, `cannot read file (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
    lastHashes = new Map();
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const lineNo = i + 1;
      const raw = lines[i]!;
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(raw) as Record<string, unknown>;
        if (!obj || typeof obj !== "object" || Array.isArray(obj)) throw new Error("not an object");
      } catch {
        const last = i === lines.length - 1 && !text.endsWith("\n");
        return broken(file, lineNo, last ? "truncated entry (file ends mid-line)" : "unparsable entry (edited or corrupted)");
      }
      const { hash, ...body } = obj;
      if (typeof hash !== "string" || !HEX64.test(hash) || !Number.isSafeInteger(body.seq) || typeof body.prev !== "string") {
        return broken(file, lineNo, "malformed entry (missing seq, prev or hash)");
      }
      if (hashBody(JSON.stringify(body)) !== hash) return broken(file, lineNo, `entry seq ${String(body.seq)} was edited (hash mismatch)`);
      const seq = body.seq as number;
      if (expectSeq === undefined) {
        // Truncation at the start: the chain must begin at genesis or continue a trusted head.
        if (opts.from) {
          if (seq !== opts.from.seq + 1 || body.prev !== opts.from.hash) {
            return broken(file, lineNo, `first entry (seq ${seq}) does not continue the given head (seq ${opts.from.seq}): entries before it were deleted or the head is from another chain`);
          }
          startAnchor = "from-head";
        } else if (seq === 1) {
          if (body.prev !== GENESIS) return broken(file, lineNo, "first entry does not start from the genesis hash");
          startAnchor = "genesis";
        } else {
          const p = previousFileHead(file);
          if (!p) return broken(file, lineNo, `chain starts at seq ${seq}, not at genesis, and no earlier ledger file or --from head anchors it: the first entries were deleted`);
          if ("error" in p) return broken(file, lineNo, `chain starts at seq ${seq} and the previous day's file cannot anchor it: ${p.error}`);
          if (p.seq + 1 !== seq || p.hash !== body.prev) {
            return broken(file, lineNo, `first entry (seq ${seq}) does not continue ${p.file} (ends at seq ${p.seq}): entries were deleted at the start of this file`);
          }
          startAnchor = "previous-file";
        }
        firstSeq = seq;
      } else {
        if (seq > expectSeq) return broken(file, lineNo, `entries missing before seq ${seq} (expected seq ${expectSeq}): deleted or reordered`);
        if (seq < expectSeq) return broken(file, lineNo, `seq ${seq} out of order (expected seq ${expectSeq}): reordered or duplicated`);
        if (body.prev !== expectPrev) return broken(file, lineNo, `prev hash does not match entry seq ${expectSeq - 1}: entries were replaced or reordered`);
      }
      if (opts.head && seq === opts.head.seq) {
        if (hash !== opts.head.hash) return broken(file, lineNo, `entry seq ${seq} differs from the anchored head: the ledger was rewritten`);
        headSeen = true;
      } else if (opts.head && seq > opts.head.seq) {
        afterHead++;
        const t = typeof body.time === "string" ? Date.parse(body.time) : NaN;
        if (!uncovered && Number.isFinite(headAt) && Number.isFinite(t) && t > headAt + HEAD_COVER_SLACK_MS) uncovered = { seq, time: body.time as string };
      }
      expectSeq = seq + 1;
      expectPrev = hash;
      lastHashes.set(seq, hash);
      entries++;
    }
  }

  const last = files[files.length - 1];
  let dirHead: LedgerVerifyResult["dirHead"];
  const endSeq = expectSeq === undefined ? 0 : expectSeq - 1;
  if (opts.head && !headSeen) {
    if (opts.head.seq > endSeq) return broken(last ?? "", 0, `ledger ends at seq ${endSeq} but the anchored head records seq ${opts.head.seq} (${opts.head.file}): entries were cut from the end`);
    return broken(last ?? "", 0, `the anchored head (seq ${opts.head.seq}) lies before the files given (first seq ${firstSeq ?? "?"}); give the files that contain it`);
  }
  if (last && expectSeq !== undefined) {
    // A range that ends before the newest day is anchored at its end by the next day's first entry.
    const next = nextFileStart(last);
    if (next && (next.seq !== expectSeq || next.prev !== expectPrev)) {
      return broken(last, lastHashes.size, `the next day's file ${next.file} does not continue this one (${next.seq !== expectSeq ? `its first entry is seq ${String(next.seq)}, expected seq ${expectSeq}` : `its first entry, seq ${expectSeq}, links to another hash than the last entry here`}): the end of this file was rewritten or cut`);
    }
  }
  if (last) {
    const headPath = join(dirname(last), HEAD_FILE);
    // The writer keeps the head next to the newest file: the newest file without it was tampered with.
    const newest = LEDGER_NAME.test(basename(last)) && readdirSync(dirname(last)).filter((f) => LEDGER_NAME.test(f)).sort().pop() === basename(last);
    if (newest && !existsSync(headPath) && !opts.head) return broken(last, 0, `${HEAD_FILE} is missing next to the newest ledger file: the tail may have been cut together with it, or the gateway could never write it (a full disk: its log says GW_LEDGER_FSYNC); check against the anchored head (--head or --redis)`);
    if (LEDGER_NAME.test(basename(last)) && existsSync(headPath)) {
      const head = readHeadFile(headPath);
      if ("error" in head) return broken(headPath, 0, head.error);
      const present = readdirSync(dirname(last)).filter((f) => LEDGER_NAME.test(f));
      // The writer names the file it appends to: a missing one was deleted with its entries.
      if (!present.includes(head.file)) return broken(headPath, 0, `${HEAD_FILE} names ${head.file}, which is not in the directory: a ledger file was deleted`);
      if (head.file === basename(last)) {
        const lineCount = lastHashes.size;
        if (head.seq > endSeq) return broken(last, lineCount + 1, `ledger ends at seq ${endSeq} but its head records seq ${head.seq}: entries were cut from the end`);
        const h = lastHashes.get(head.seq);
        if (h !== undefined && h !== head.hash) return broken(last, lineCount, `entry seq ${head.seq} differs from the recorded head hash: the end of the ledger was rewritten`);
        dirHead = { file: head.file, checked: true };
      } else {
        // Verifying older days alone is fine, but the output says the head was not compared.
        dirHead = { file: head.file, checked: false };
      }
    }
  }
  if (entries === 0) return { ok: false, entries, firstBroken: { file: files[0] ?? "", line: 0, problem: "no ledger entries" } };
  if (uncovered && !opts.allowUncovered) {
    return broken(last ?? "", 0, `the anchored head (seq ${opts.head!.seq}, published ${opts.head!.at}) is older than the ${afterHead} entries after it (seq ${uncovered.seq} written ${uncovered.time}): an old head cannot vouch for them, so a rewrite of those entries would go unseen; check against a newer head (--head from MQTT), or pass --allow-uncovered to accept them unverified`);
  }
  return {
    ok: true,
    entries,
    firstSeq,
    lastSeq: expectSeq === undefined ? undefined : expectSeq - 1,
    ...(startAnchor ? { startAnchor } : {}),
    headChecked: opts.head !== undefined,
    ...(opts.head ? { headSeq: opts.head.seq, entriesAfterHead: afterHead } : {}),
    ...(dirHead ? { dirHead } : {}),
  };
}
