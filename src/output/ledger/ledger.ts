import * as nodeFs from "node:fs";
import { mkdirSync, readFileSync, readdirSync, ftruncateSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { systemClock, type Clock, type TimerHandle } from "../../core/clock.js";
import { silentLogger, type Logger } from "../../core/logger.js";
import type { VerdictEvent } from "../../core/types.js";
import { RecentIds } from "../events/recent-ids.js";
import { toWireEvent } from "../events/wire.js";
import { QUICK_LEDGER_FILES } from "../events/recorded-ids.js";
import { loadLaneMarks, noteId, writeLaneMarks } from "./lane-marks.js";
import { lockLedgerDir } from "./lock.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { entryLine, GENESIS, HEAD_FILE, LEDGER_NAME, ledgerBody, ledgerFileName, type LedgerHead } from "./chain.js";

export interface LedgerOptions {
  dir: string;
  gatewayId: string;
  clock?: Clock;
  logger?: Logger;
  /** Same policy as the spool; "interval" fsyncs once a second and at close. */
  fsync?: "always" | "interval" | "never";
  /** Called with the new head after each entry (to anchor it outside the file: Redis, MQTT). */
  onHead?: (head: LedgerHead) => void;
  /** File calls of the write path (a seam: a test injects EIO; production uses node:fs). */
  fs?: LedgerFs;
}

export type LedgerFs = Pick<typeof nodeFs, "openSync" | "writeSync" | "fsyncSync" | "closeSync" | "renameSync" | "unlinkSync" | "fstatSync" | "ftruncateSync">;

/** Node's fs errors name the failing call; fsync and close failures lose durability, not the write. */
const isSyncError = (e: unknown): boolean => {
  const call = (e as { syscall?: unknown } | null)?.syscall;
  return call === "fsync" || call === "fdatasync" || call === "close";
};

export interface LedgerStats {
  entries: number;
  writeErrors: number;
  fsyncErrors: number;
  /** Verdicts handed over again (same event id as a recent entry) and not written a second time. */
  duplicates: number;
  /** True once a write or fsync failed: entries since then may not be on disk. */
  degraded: boolean;
  /** Partial last lines (an entry torn by a crash or power cut) cut from the files at start. */
  tornEntriesCut: number;
}

export interface Ledger {
  append(ev: VerdictEvent): void;
  /** The chain head (last seq and hash), e.g. to anchor it elsewhere. */
  head(): LedgerHead | undefined;
  stats(): LedgerStats;
  close(): Promise<void>;
}

/**
 * The newest ledger file ends in a complete line that is not a ledger entry (a disk that returned
 * garbage, a hand edit): the chain cannot go on from it. Continuing from an earlier entry would
 * fork the chain around the damage and starting a new one would hide it, so the ledger does not
 * start; the file is left as it is for `ledger verify` and a person (docs/events.md).
 */
export class LedgerDamagedError extends Error {
  readonly code = "GW_LEDGER_DAMAGED";
  constructor(
    readonly file: string,
    readonly line: number,
  ) {
    super(`ledger ${file}: line ${line}, the last entry, is not a ledger entry; the ledger cannot continue its chain`);
    this.name = "LedgerDamagedError";
  }
}

/** The seq and hash of a ledger line, or undefined when the line is not an entry. */
function chainLink(line: string): { seq: number; hash: string } | undefined {
  let e: unknown;
  try {
    e = JSON.parse(line);
  } catch {
    return undefined;
  }
  const { seq, hash } = (e ?? {}) as { seq?: unknown; hash?: unknown };
  return typeof seq === "number" && Number.isSafeInteger(seq) && seq > 0 && typeof hash === "string" && /^[0-9a-f]{64}$/.test(hash) ? { seq, hash } : undefined;
}

/**
 * Finds where the chain stands: the last complete entry of the newest ledger file. It checks no
 * hashes (that is `ledger verify`); `cut` counts the torn last lines it removed.
 */
function resume(dir: string, log: Logger): { file?: string; seq: number; prev: string; cut: number } {
  let cut = 0;
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
      cut++;
    }
    const lines = text.slice(0, end + 1).split("\n").filter(Boolean);
    const last = lines[lines.length - 1];
    if (!last) continue;
    const e = chainLink(last);
    if (!e) throw new LedgerDamagedError(files[i]!, lines.length);
    return { file: files[i], seq: e.seq, prev: e.hash, cut };
  }
  return { seq: 0, prev: GENESIS, cut };
}

/** As many recent ids as the spool remembers: a verdict re-delivered within this window is skipped. */
const RECENT_IDS = 4096;

/**
 * Append-only, hash-chained JSON lines, one file per UTC day; the chain continues across files.
 * A head file (last seq + hash) lets `ledger verify` notice entries cut from the end.
 */
export function createLedger(opts: LedgerOptions): Ledger {
  const clock = opts.clock ?? systemClock;
  const log = (opts.logger ?? silentLogger).child({ module: "events.ledger" });
  const policy = opts.fsync ?? "interval";
  const fs: LedgerFs = opts.fs ?? nodeFs;
  mkdirSync(opts.dir, { recursive: true });
  // Before resume(): it cuts torn lines, which must not happen under another live writer.
  const unlock = lockLedgerDir(opts.dir, (msg, fields) => log.warn(fields, msg));
  let start: ReturnType<typeof resume>;
  let lanes: Record<string, number>;
  try {
    start = resume(opts.dir, log);
    lanes = loadLaneMarks(opts.dir, readdirSync(opts.dir).filter((f) => LEDGER_NAME.test(f)).sort(), QUICK_LEDGER_FILES, log);
  } catch (e) {
    unlock();
    throw e;
  }
  let seq = start.seq;
  let prev = start.prev;
  let fileName = start.file;
  let fd: number | undefined;
  let dirty = false;
  let timer: TimerHandle | undefined;
  let closed = false;
  let head: LedgerHead | undefined = start.file ? { file: start.file, seq, hash: prev } : undefined;
  /** The head moved since the head file was last written (policy interval: written at the next sync). */
  let headDirty = false;
  const counters = { entries: 0, writeErrors: 0, fsyncErrors: 0, duplicates: 0 };
  saveLanes(start.file);
  let lastAlert: number | undefined;
  // The chain is the audit record: a verdict handed over twice (a replay) must not be in it twice.
  const recent = new RecentIds(RECENT_IDS);
  let lastDuplicateAlert: number | undefined;

  /**
   * A worn SD card answers EIO: that must cost the ledger its durability guarantee (degraded,
   * counted, logged), never the gateway its life. Logged at the first failure and at most once a minute.
   */
  function failed(what: "write" | "fsync", e: unknown): void {
    if (what === "write") counters.writeErrors++;
    else counters.fsyncErrors++;
    const now = clock.monotonic();
    if (lastAlert === undefined || now - lastAlert >= 60_000) {
      lastAlert = now;
      log.error({ code: "GW_LEDGER_FSYNC", op: what, err: (e as Error).message, writeErrors: counters.writeErrors, fsyncErrors: counters.fsyncErrors }, "ledger write failed: the ledger is degraded");
    }
  }

  /**
   * fsync the open file; false when that failed (its entries may not be on disk). Without an open
   * file (the next day's could not be opened) the last fsync of the closed one decides: the head
   * must not name entries whose fsync failed.
   */
  function syncNow(): boolean {
    if (fd === undefined) return !dirty;
    try {
      fs.fsyncSync(fd);
      dirty = false;
      return true;
    } catch (e) {
      failed("fsync", e);
      return false;
    }
  }

  /** Each lane's last seq, so a lane idle for longer than the seq check reads back is still checked (lane-marks.ts). */
  function saveLanes(file: string | undefined): void {
    try {
      writeLaneMarks(fs, opts.dir, { ...(file ? { file } : {}), lanes }, policy !== "never");
    } catch (e) {
      log.warn({ err: (e as Error).message }, "ledger lane marks not saved: a lane idle for over a month is not checked against a restored sequence file until they are");
    }
  }

  function open(name: string): void {
    const fresh = name !== fileName;
    if (fd !== undefined) {
      // The old file's entries are durable once this fsync succeeds: write the head that names them
      // now, as the next file may not open (a full disk) and the head would lag them until it does.
      if (syncNow()) writeHead();
      try {
        fs.closeSync(fd);
      } catch (e) {
        failed("fsync", e);
      }
      fd = undefined;
    }
    fd = fs.openSync(join(opts.dir, name), "a");
    fileName = name;
    if (fresh) saveLanes(name);
  }

  /** A fragment a short write left at the end of a file, not cut yet: nothing is appended after it. */
  let fragment: { file: string; at: number } | undefined;

  function cut(f: { file: string; at: number }): void {
    const cfd = fs.openSync(join(opts.dir, f.file), "r+");
    try {
      fs.ftruncateSync(cfd, f.at);
    } finally {
      fs.closeSync(cfd);
    }
  }

  /**
   * Appends one whole line or nothing. A full disk can take part of a write and refuse the rest:
   * the part is cut again, or the next entry would be glued to it, one garbled line in the chain.
   * Until the cut succeeds, every append fails (counted), so nothing lands after the fragment.
   */
  function appendLine(at: number, name: string, line: string): void {
    if (fragment) {
      cut(fragment);
      fragment = undefined;
    }
    const bytes = Buffer.from(line, "utf8");
    const before = fs.fstatSync(at).size;
    const written = fs.writeSync(at, bytes);
    if (written === bytes.length) return;
    fragment = { file: name, at: before };
    try {
      cut(fragment);
      fragment = undefined;
    } catch {
      // Kept: the next append tries again first.
    }
    throw Object.assign(new Error(`short write: ${written} of ${bytes.length} bytes`), { code: "ESHORTWRITE" });
  }

  /**
   * Replaces the head file (atomic-file.ts: fsynced and the directory too, unless the policy is
   * never). Without the fsyncs a power cut could leave it empty, and `ledger verify` then reports
   * tampering. Called only once the entries it names are fsynced (policy always and interval), so a
   * power cut cannot leave a durable head ahead of the entries: that too would read as a cut tail.
   */
  function writeHead(): void {
    if (!headDirty || !head) return;
    try {
      writeFileAtomic(join(opts.dir, HEAD_FILE), JSON.stringify(head) + "\n", { fs, fsync: policy !== "never" });
      headDirty = false;
    } catch (e) {
      failed(isSyncError(e) ? "fsync" : "write", e);
    }
  }

  /** fsync the entries, then the head that names them (the interval timer and close). */
  function flush(): void {
    if (syncNow()) writeHead();
  }

  return {
    append(ev) {
      if (closed) return;
      if (recent.seen(ev.id)) {
        counters.duplicates++;
        const now = clock.monotonic();
        if (lastDuplicateAlert === undefined || now - lastDuplicateAlert >= 60_000) {
          lastDuplicateAlert = now;
          log.warn({ id: ev.id, duplicates: counters.duplicates }, "verdict handed to the ledger twice; the repeat is not written");
        }
        return;
      }
      const today = ledgerFileName(clock.now());
      const body = ledgerBody(toWireEvent(ev), seq + 1, prev, opts.gatewayId);
      const { line, hash } = entryLine(body);
      try {
        // Never open an earlier-dated file after a clock step back: file order must stay chain order.
        if (fd === undefined || (today !== fileName && (!fileName || today > fileName))) open(fileName && today < fileName ? fileName : today);
        appendLine(fd!, fileName!, line);
      } catch (e) {
        // The entry is not in the file: the chain does not advance, so the next entry still links.
        failed("write", e);
        return;
      }
      seq++;
      prev = hash;
      counters.entries++;
      noteId(ev.id, lanes);
      head = { file: fileName!, seq, hash };
      headDirty = true;
      opts.onHead?.(head);
      // interval: the head file follows once a second with the fsync, not per entry (two more
      // fsyncs per verdict on the main thread: docs/events.md).
      if (policy === "always") flush();
      else if (policy === "never") writeHead();
      else {
        dirty = true;
        timer ??= clock.setTimeout(() => {
          timer = undefined;
          // headDirty alone: the entries were fsynced (a day's file closed) but the head not yet written.
          if (dirty || headDirty) flush();
        }, 1000, "events.ledger.fsync");
      }
    },
    head: () => head,
    stats: () => ({ ...counters, degraded: counters.writeErrors + counters.fsyncErrors > 0, tornEntriesCut: start.cut }),
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      if (timer) clock.clearTimeout(timer);
      // Also without an open file (the next day's could not be opened): the head may still be due.
      flush();
      if (fd !== undefined) {
        try {
          fs.closeSync(fd);
        } catch (e) {
          failed("fsync", e);
        }
      }
      try {
        unlock();
      } catch (e) {
        log.warn({ err: (e as Error).message }, "ledger lock could not be removed; the next start takes it over");
      }
      return Promise.resolve();
    },
  };
}
