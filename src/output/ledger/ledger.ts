import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeFileSync, writeSync, ftruncateSync } from "node:fs";
import { join } from "node:path";
import { systemClock, type Clock, type TimerHandle } from "../../core/clock.js";
import { silentLogger, type Logger } from "../../core/logger.js";
import type { VerdictEvent } from "../../core/types.js";
import { toWireEvent } from "../events/wire.js";
import { entryLine, GENESIS, HEAD_FILE, LEDGER_NAME, ledgerBody, ledgerFileName, type LedgerHead } from "./chain.js";

export interface LedgerOptions {
  dir: string;
  gatewayId: string;
  clock?: Clock;
  logger?: Logger;
  /** Same policy as the spool; "interval" fsyncs once a second and at close. */
  fsync?: "always" | "interval" | "never";
}

export interface Ledger {
  append(ev: VerdictEvent): void;
  /** The chain head (last seq and hash), e.g. to anchor it elsewhere. */
  head(): LedgerHead | undefined;
  close(): Promise<void>;
}

/** Finds where the chain stands: the last complete entry of the newest ledger file. */
function resume(dir: string, log: Logger): { file?: string; seq: number; prev: string } {
  const files = readdirSync(dir).filter((f) => LEDGER_NAME.test(f)).sort();
  for (let i = files.length - 1; i >= 0; i--) {
    const path = join(dir, files[i]!);
    const text = readFileSync(path, "utf8");
    const end = text.lastIndexOf("\n");
    if (end + 1 < text.length) {
      // A torn last line (crash mid-write) is not an entry; cut it so the chain can continue.
      log.warn({ code: "GW_LEDGER_BROKEN", file: files[i], bytes: text.length - end - 1 }, "ledger ended in a partial line; it was truncated");
      const fd = openSync(path, "r+");
      try {
        ftruncateSync(fd, end + 1);
      } finally {
        closeSync(fd);
      }
    }
    const lines = text.slice(0, end + 1).split("\n").filter(Boolean);
    const last = lines[lines.length - 1];
    if (!last) continue;
    const e = JSON.parse(last) as { seq: number; hash: string };
    return { file: files[i], seq: e.seq, prev: e.hash };
  }
  return { seq: 0, prev: GENESIS };
}

/**
 * Append-only, hash-chained JSON lines, one file per UTC day; the chain continues across files.
 * A head file (last seq + hash) lets `ledger verify` notice entries cut from the end.
 */
export function createLedger(opts: LedgerOptions): Ledger {
  const clock = opts.clock ?? systemClock;
  const log = (opts.logger ?? silentLogger).child({ module: "events.ledger" });
  const policy = opts.fsync ?? "interval";
  mkdirSync(opts.dir, { recursive: true });
  const start = resume(opts.dir, log);
  let seq = start.seq;
  let prev = start.prev;
  let fileName = start.file;
  let fd: number | undefined;
  let dirty = false;
  let timer: TimerHandle | undefined;
  let closed = false;
  let head: LedgerHead | undefined = start.file ? { file: start.file, seq, hash: prev } : undefined;

  function open(name: string): void {
    if (fd !== undefined) {
      fsyncSync(fd);
      closeSync(fd);
    }
    fd = openSync(join(opts.dir, name), "a");
    fileName = name;
  }

  function writeHead(): void {
    const tmp = join(opts.dir, HEAD_FILE + ".tmp");
    writeFileSync(tmp, JSON.stringify(head) + "\n");
    renameSync(tmp, join(opts.dir, HEAD_FILE));
  }

  return {
    append(ev) {
      if (closed) return;
      const today = ledgerFileName(clock.now());
      // Never open an earlier-dated file after a clock step back: file order must stay chain order.
      if (fd === undefined || (today !== fileName && (!fileName || today > fileName))) open(fileName && today < fileName ? fileName : today);
      const body = ledgerBody(toWireEvent(ev), seq + 1, prev, opts.gatewayId);
      const { line, hash } = entryLine(body);
      writeSync(fd!, line);
      seq++;
      prev = hash;
      head = { file: fileName!, seq, hash };
      writeHead();
      if (policy === "always") fsyncSync(fd!);
      else if (policy === "interval") {
        dirty = true;
        timer ??= clock.setTimeout(() => {
          timer = undefined;
          if (dirty && fd !== undefined) fsyncSync(fd);
          dirty = false;
        }, 1000, "events.ledger.fsync");
      }
    },
    head: () => head,
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      if (timer) clock.clearTimeout(timer);
      if (fd !== undefined) {
        fsyncSync(fd);
        closeSync(fd);
      }
      return Promise.resolve();
    },
  };
}

