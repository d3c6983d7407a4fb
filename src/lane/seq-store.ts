import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger, type Logger } from "../core/logger.js";
import { writeFileAtomic } from "../core/atomic-file.js";

/**
 * Per-lane verdict sequence numbers. Event ids are `gateway:lane:seq` and must stay unique
 * across restarts (the ledger, the stream and its consumers de-duplicate by id), so the counter
 * is kept on disk and an id is handed out only after it is durably recorded. Ids are reserved in
 * blocks (`block`, default 64): the file records the highest id this run may hand out, so one fsynced
 * write (about 7 ms here, 40 ms under load, on the main thread) is paid once per block instead of
 * on every verdict's path. A restart resumes after the reserved block: the unused rest of it is a
 * gap in the ids, never a reuse.
 */
export interface SeqStore {
  /** The next id for the lane, already persisted. Throws `SeqStoreError` when it cannot be persisted. */
  next(lane: string): number;
  current(lane: string): number;
  /** Why the lane's ids cannot be trusted right now (the lane must go out of service), or undefined. */
  failure(lane: string): string | undefined;
}

export class SeqStoreError extends Error {
  readonly code = "GW_EVENTS_SEQ_FAILED";
}

export class MemorySeqStore implements SeqStore {
  private readonly seqs = new Map<string, number>();
  next(lane: string): number {
    const n = (this.seqs.get(lane) ?? 0) + 1;
    this.seqs.set(lane, n);
    return n;
  }
  current(lane: string): number {
    return this.seqs.get(lane) ?? 0;
  }
  failure(): string | undefined {
    return undefined;
  }
}

/**
 * Ids skipped after a recovery: the seq file is written before an id is used, so it is only behind
 * the ids in use when the file itself was damaged; the evidence (ledger, spool) may miss the last
 * second of events (interval fsync). A thousand unused ids cost nothing; a reused id loses an event.
 */
export const RECOVERY_GAP = 1000;

export interface FileSeqStoreOptions {
  logger?: Logger;
  /**
   * The highest seq of this lane found in other durable records (ledger, spool), 0 if none.
   * Consulted once per lane: `thorough` false (the spool's tail and the newest ledger file naming the
   * lane, among the last month's) when the seq file reads fine, to catch a file restored from an old
   * backup; true when it is missing or damaged.
   */
  floor?: (lane: string, thorough: boolean) => number;
  gap?: number;
  /** Ids reserved per durable write (1 = a write per id). */
  block?: number;
}

/**
 * A lane whose sequence this process recovered at start (`GW_EVENTS_SEQ_RECOVERED`): the seq file was
 * missing, damaged (not a plain number) or behind the ids recorded in the ledger/spool.
 */
export interface SeqRecovery {
  found: "missing" | "damaged" | "behind";
  /** The lane's highest id in the ledger/spool. */
  highestRecorded: number;
  /** Ids resume after this one (persisted before use). */
  resumeAfter: number;
  /** Ids left unused between the highest recorded one and `resumeAfter`: the recovery gap. */
  idsSkipped: number;
}

/** `n`: the last id handed out; `reserved`: the highest id recorded on disk (n <= reserved). */
type Slot = { n: number; reserved: number } | { error: string };

export const DEFAULT_SEQ_BLOCK = 64;

const SEQ_TEXT = /^(0|[1-9][0-9]{0,15})\n?$/;

/**
 * `stateDir/lanes/<lane>.seq`, replaced atomically (tmp + fsync + rename + directory fsync), so a
 * crash leaves the old or the new number, never a torn one. Every failure is loud: the lane gets a
 * failure reason and `next()` throws, because an id that is not on disk may be handed out again
 * after a restart, and the forward guard would then drop the new event as a duplicate.
 */
export class FileSeqStore implements SeqStore {
  private readonly slots = new Map<string, Slot>();
  private readonly recovered = new Map<string, SeqRecovery>();
  private readonly dir: string;
  private readonly log: Logger;
  private readonly gap: number;
  private readonly block: number;
  private dirError: string | undefined;

  constructor(stateDir: string, private readonly opts: FileSeqStoreOptions = {}) {
    this.dir = join(stateDir, "lanes");
    this.log = (opts.logger ?? silentLogger).child({ module: "lane.seq" });
    this.gap = opts.gap ?? RECOVERY_GAP;
    this.block = Math.max(1, Math.floor(opts.block ?? DEFAULT_SEQ_BLOCK));
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      this.dirError = `cannot create ${this.dir}: ${errText(e)}`;
      this.log.error({ code: "GW_EVENTS_SEQ_FAILED", err: this.dirError }, "event sequence directory unusable: lanes go out of service");
    }
  }

  current(lane: string): number {
    const s = this.load(lane);
    if ("error" in s) throw new SeqStoreError(s.error);
    return s.n;
  }

  failure(lane: string): string | undefined {
    const s = this.load(lane);
    return "error" in s ? s.error : undefined;
  }

  /**
   * How the lane's sequence was recovered at start, or undefined (the file was fine, the lane is new,
   * or it could not be recovered: then `failure()` says why). Never reads the disk: /metrics asks.
   */
  recovery(lane: string): SeqRecovery | undefined {
    return this.recovered.get(lane);
  }

  next(lane: string): number {
    const s = this.load(lane);
    if ("error" in s) throw new SeqStoreError(s.error);
    const n = s.n + 1;
    if (n <= s.reserved) {
      this.slots.set(lane, { n, reserved: s.reserved });
      return n;
    }
    const reserved = n + this.block - 1;
    try {
      if (!Number.isSafeInteger(reserved)) throw new Error(`ids exhausted: ${reserved} is past 2^53`);
      this.persist(lane, reserved);
    } catch (e) {
      const error = `cannot persist ${lane} seq ${n}: ${errText(e)}`;
      // Sticky: once an id could not be recorded, this run cannot prove the next one is unique.
      this.slots.set(lane, { error });
      this.log.error({ code: "GW_EVENTS_SEQ_FAILED", lane, err: error }, "event id cannot be persisted: the lane goes out of service");
      throw new SeqStoreError(error);
    }
    this.slots.set(lane, { n, reserved });
    return n;
  }

  private load(lane: string): Slot {
    const known = this.slots.get(lane);
    if (known) return known;
    const slot = this.read(lane);
    this.slots.set(lane, slot);
    return slot;
  }

  private read(lane: string): Slot {
    if (this.dirError) return { error: this.dirError };
    let text: string | undefined;
    try {
      text = readFileSync(this.file(lane), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        const error = `cannot read ${this.file(lane)}: ${errText(e)}`;
        this.log.error({ code: "GW_EVENTS_SEQ_FAILED", lane, err: error }, "event sequence file unreadable: the lane goes out of service");
        return { error };
      }
    }
    const parsed = text !== undefined && SEQ_TEXT.test(text) ? Number.parseInt(text, 10) : undefined;
    // Past 2^53 a number and the next one are the same double (n + 1 === n): every id would repeat
    // and the ledger and spool would drop each verdict after the first as a duplicate. Such a value
    // (or one too close to it for the next block) is damage, whatever its digits say.
    const fileN = parsed !== undefined && this.usable(parsed) ? parsed : undefined;
    const valid = fileN !== undefined;
    // Missing (first run, a wiped lanes dir) or damaged: never trust 0, look at what was recorded.
    // Valid: still check the newest records, in case the file came back from an old backup.
    let floor: number;
    try {
      floor = this.opts.floor?.(lane, !valid) ?? 0;
    } catch (e) {
      if (valid) {
        this.log.warn({ lane, err: errText(e) }, "could not cross-check the sequence file with the ledger/spool; trusting the file");
        return { n: fileN, reserved: fileN };
      }
      const error = `seq file ${text === undefined ? "missing" : "damaged"} and the ledger/spool could not be read: ${errText(e)}`;
      this.log.error({ code: "GW_EVENTS_SEQ_FAILED", lane, err: error }, "event sequence cannot be recovered: the lane goes out of service");
      return { error };
    }
    if (fileN !== undefined && fileN >= floor) return { n: fileN, reserved: fileN };
    if (text === undefined && floor === 0) return { n: 0, reserved: 0 };
    const n = floor + this.gap;
    if (!this.usable(n)) {
      const error = `cannot recover ${lane} seq: the highest recorded id ${floor} leaves no ids below 2^53`;
      this.log.error({ code: "GW_EVENTS_SEQ_FAILED", lane, err: error }, "event sequence cannot be recovered: the lane goes out of service");
      return { error };
    }
    const found =
      text === undefined
        ? "missing"
        : valid
          ? `${fileN} (behind the recorded ids)`
          : parsed !== undefined
            ? `${text.trim()} (past the largest usable id)`
            : `${Buffer.byteLength(text)} unparsable bytes`;
    this.log.error(
      { code: "GW_EVENTS_SEQ_RECOVERED", lane, file: this.file(lane), found, highestRecorded: floor, resumeAfter: n },
      "event sequence file missing, damaged or behind the recorded events: ids resume after the highest recorded id plus a gap",
    );
    try {
      this.persist(lane, n);
    } catch (e) {
      const error = `cannot persist recovered ${lane} seq ${n}: ${errText(e)}`;
      this.log.error({ code: "GW_EVENTS_SEQ_FAILED", lane, err: error }, "event id cannot be persisted: the lane goes out of service");
      return { error };
    }
    this.recovered.set(lane, { found: text === undefined ? "missing" : valid ? "behind" : "damaged", highestRecorded: floor, resumeAfter: n, idsSkipped: n - floor });
    return { n, reserved: n };
  }

  /** A seq that the next block can follow without leaving the safe integers. */
  private usable(n: number): boolean {
    return Number.isSafeInteger(n) && n <= Number.MAX_SAFE_INTEGER - this.block;
  }

  private persist(lane: string, n: number): void {
    // The directory is fsynced too: the rename itself must survive a power cut, or the old number comes back.
    writeFileAtomic(this.file(lane), `${n}\n`);
  }

  private file(lane: string): string {
    return join(this.dir, `${lane}.seq`);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
