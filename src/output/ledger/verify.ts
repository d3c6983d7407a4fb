import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { GENESIS, HEAD_FILE, hashBody, type LedgerHead } from "./chain.js";

export interface LedgerVerifyResult {
  ok: boolean;
  entries: number;
  /** First seq checked; > 1 when the files start mid-chain (older files not given). */
  firstSeq?: number;
  lastSeq?: number;
  firstBroken?: { file: string; line: number; problem: string };
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Checks files in the order given (callers sort by name: ledger-YYYY-MM-DD sorts by date).
 * Reports the first entry that breaks the chain: an edit breaks its own hash, a deletion,
 * insertion or reordering breaks `seq`/`prev`, a cut tail is caught by the head file.
 */
export function verifyLedgerFiles(files: string[]): LedgerVerifyResult {
  let entries = 0;
  let expectSeq: number | undefined;
  let expectPrev: string | undefined;
  let firstSeq: number | undefined;
  let lastHashes = new Map<number, string>();
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
        if (seq === 1 && body.prev !== GENESIS) return broken(file, lineNo, "first entry does not start from the genesis hash");
        firstSeq = seq;
      } else {
        if (seq > expectSeq) return broken(file, lineNo, `entries missing before seq ${seq} (expected seq ${expectSeq}): deleted or reordered`);
        if (seq < expectSeq) return broken(file, lineNo, `seq ${seq} out of order (expected seq ${expectSeq}): reordered or duplicated`);
        if (body.prev !== expectPrev) return broken(file, lineNo, `prev hash does not match entry seq ${expectSeq - 1}: entries were replaced or reordered`);
      }
      expectSeq = seq + 1;
      expectPrev = hash;
      lastHashes.set(seq, hash);
      entries++;
    }
  }

  const last = files[files.length - 1];
  if (last) {
    const headPath = join(dirname(last), HEAD_FILE);
    if (existsSync(headPath)) {
      let head: LedgerHead | undefined;
      try {
        head = JSON.parse(readFileSync(headPath, "utf8")) as LedgerHead;
      } catch {
        head = undefined;
      }
      // The head only speaks for the file it names; verifying older days alone is fine.
      if (head && head.file === basename(last)) {
        const lineCount = lastHashes.size;
        const endSeq = expectSeq === undefined ? 0 : expectSeq - 1;
        if (head.seq > endSeq) return broken(last, lineCount + 1, `ledger ends at seq ${endSeq} but its head records seq ${head.seq}: entries were cut from the end`);
        const h = lastHashes.get(head.seq);
        if (h !== undefined && h !== head.hash) return broken(last, lineCount, `entry seq ${head.seq} differs from the recorded head hash: the end of the ledger was rewritten`);
      }
    }
  }
  if (entries === 0) return { ok: false, entries, firstBroken: { file: files[0] ?? "", line: 0, problem: "no ledger entries" } };
  return { ok: true, entries, firstSeq, lastSeq: expectSeq === undefined ? undefined : expectSeq - 1 };
}
