import * as nodeFs from "node:fs";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { replacedDespite, writeFileAtomic } from "../../core/atomic-file.js";

/** One spooled event: `n` is the spool position, increasing by one per append, never reused. */
export interface SpoolRecord {
  n: number;
  id: string;
  lane: string;
  verdict: string;
  reason: string;
  /** The wire event as JSON (what goes into the stream's `event` field). */
  json: string;
  bytes: number;
  /** Monotonic ms of the append, for latency measurements. */
  appendedAt: number;
}

/**
 * On-disk state next to the spool. `doneN`: every position <= doneN was forwarded or dropped.
 * `epoch` names this spool's life: the Redis dedupe marker is per epoch, so a wiped state dir
 * (positions restart at 1) can never be mistaken for already-forwarded events.
 */
export interface SpoolState {
  epoch: string;
  doneN: number;
  /** What Redis last acknowledged (see AckedPosition); absent until the first forward. */
  acked?: AckedPosition;
}

/**
 * The highest position Redis acknowledged, the wall-clock ms it did, and under which marker key:
 * the forward script checks that Redis still reaches it, so data lost in Redis is reported, not
 * silent. Another key (a new gateway id or stream name) has no such history.
 */
export interface AckedPosition {
  n: number;
  at: number;
  marker: string;
}

export const SPOOL_FILE = "spool.jsonl";
export const STATE_FILE = "spool.state.json";

export interface LoadedSpool {
  state: SpoolState;
  pending: SpoolRecord[];
  nextN: number;
  /** Lines that did not parse (a torn write at a crash); they are dropped by the rewrite. */
  badLines: number;
  /** True when the spool file had records but no state file and no header (a new epoch was started). */
  stateLost: boolean;
  /** True when the state file was missing but the spool file's header named the epoch. */
  stateRecovered: boolean;
  /** Records beyond the spool bound, oldest first, left out of `pending` (state.doneN covers them). */
  droppedOverBound: number;
}

export function recordLine(n: number, json: string): string {
  // `e` is embedded raw so the forwarder sends exactly the bytes that were fsynced.
  return `{"n":${n},"e":${json}}\n`;
}

/**
 * First line of every rewrite: the epoch and the position floor (every record after it has a higher
 * position). It lets a spool whose state file was lost keep its epoch, so the Redis marker still
 * skips what was forwarded, and never reuse a position.
 */
export function headerLine(state: SpoolState): string {
  return `{"epoch":"${state.epoch}","base":${state.doneN}}\n`;
}

const EPOCH = /^[0-9a-f]{16,64}$/;

/** Read size for the spool file; also the longest line taken for a record (a wire event is a few KiB). */
const CHUNK = 1 << 20;

/**
 * Calls `onLine` for each line of the file, read in chunks: a spool file left by a long outage (or
 * a region of zeros after a power cut) can be larger than the biggest string V8 can hold, and reading
 * it whole kept the spool from ever starting. A line longer than CHUNK bytes is passed as undefined
 * (damage; no record is that long) without being held in memory.
 */
function forEachLine(path: string, onLine: (line: string | undefined) => void): void {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    // The current line's bytes from earlier chunks (copied: the buffer is reused), decoded only once
    // the line is whole, since a multi-byte character may straddle two chunks.
    let parts: Buffer[] = [];
    let partLen = 0;
    let tooLong = false;
    for (let got = readSync(fd, buf, 0, CHUNK, null); got > 0; got = readSync(fd, buf, 0, CHUNK, null)) {
      const chunk = buf.subarray(0, got);
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
        if (tooLong || partLen + nl - start > CHUNK) onLine(undefined);
        else if (partLen > 0) onLine(Buffer.concat([...parts, chunk.subarray(start, nl)]).toString("utf8"));
        else if (nl > start) onLine(chunk.toString("utf8", start, nl));
        parts = [];
        partLen = 0;
        tooLong = false;
        start = nl + 1;
      }
      if (start < got && !tooLong) {
        if (partLen + got - start > CHUNK) {
          tooLong = true;
          parts = [];
          partLen = 0;
        } else {
          parts.push(Buffer.from(chunk.subarray(start)));
          partLen += got - start;
        }
      }
    }
    if (tooLong) onLine(undefined);
    else if (partLen > 0) onLine(Buffer.concat(parts).toString("utf8"));
  } finally {
    closeSync(fd);
  }
}

/**
 * What the last run left: the state, and the pending records in position order. At most `maxBytes`
 * of them are kept, the newest (the spool bound, as at run time): a file far above the bound (a long
 * outage before compaction existed, a bound lowered since) is read through without being held in
 * memory, and the older records are counted in `droppedOverBound` and covered by `state.doneN`.
 */
export function loadSpool(dir: string, appendedAt: number, maxBytes = Infinity): LoadedSpool {
  mkdirSync(dir, { recursive: true });
  const statePath = join(dir, STATE_FILE);
  let state: SpoolState | undefined;
  if (existsSync(statePath)) {
    try {
      const s = JSON.parse(readFileSync(statePath, "utf8")) as Partial<SpoolState>;
      if (typeof s.epoch === "string" && EPOCH.test(s.epoch) && Number.isSafeInteger(s.doneN)) {
        state = { epoch: s.epoch, doneN: s.doneN! };
        const a = s.acked;
        if (a && Number.isSafeInteger(a.n) && Number.isFinite(a.at) && typeof a.marker === "string") state.acked = { n: a.n, at: a.at, marker: a.marker };
      }
    } catch {
      state = undefined;
    }
  }
  const spoolPath = join(dir, SPOOL_FILE);
  const fileSize = existsSync(spoolPath) ? statSync(spoolPath).size : 0;
  let stateRecovered = false;
  let stateLost = false;
  let pending: SpoolRecord[] = [];
  /** pending[0..head) were dropped by the bound: an index instead of shift(), which is O(n) per call. */
  let head = 0;
  let pendingBytes = 0;
  let droppedOverBound = 0;
  let droppedUpTo = 0;
  let badLines = 0;
  let maxN = 0;
  let lastN = 0;
  let first = true;
  /** The state, from the state file or else the header (the file's first line), decided at that line. */
  const settle = (firstLine: string | undefined): SpoolState => {
    if (!state && firstLine !== undefined) {
      try {
        const h = JSON.parse(firstLine) as { epoch?: unknown; base?: unknown };
        if (typeof h.epoch === "string" && EPOCH.test(h.epoch) && Number.isSafeInteger(h.base)) {
          state = { epoch: h.epoch, doneN: h.base as number };
          stateRecovered = true;
        }
      } catch {
        // no header: an old spool file, or a damaged one
      }
    }
    stateLost = !state && fileSize > 0;
    state ??= { epoch: randomBytes(8).toString("hex"), doneN: 0 };
    maxN = state.doneN;
    return state;
  };
  const onLine = (line: string | undefined) => {
    const st = first ? settle(line) : state!;
    first = false;
    if (line === undefined) {
      badLines++;
      return;
    }
    let rec: { n?: unknown; e?: Record<string, unknown>; epoch?: unknown; base?: unknown } | null;
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      badLines++;
      return;
    }
    // Valid JSON that is no record (a damaged line that still parses, like `null`) is unreadable
    // like the rest: reading the fields of `null` threw and kept the whole spool from starting.
    if (rec === null || typeof rec !== "object") {
      badLines++;
      return;
    }
    if (rec.epoch !== undefined && rec.n === undefined) {
      if (Number.isSafeInteger(rec.base)) maxN = Math.max(maxN, rec.base as number);
      return;
    }
    if (!Number.isSafeInteger(rec.n) || !rec.e || typeof rec.e.id !== "string") {
      badLines++;
      return;
    }
    const n = rec.n as number;
    maxN = Math.max(maxN, n);
    if (n <= st.doneN) return;
    // Records are appended in position order; anything else is damage, kept out of the stream order.
    if (n <= lastN) {
      badLines++;
      return;
    }
    lastN = n;
    const r = toRecord(n, rec.e as WireFields, appendedAt);
    pending.push(r);
    pendingBytes += r.bytes;
    while (pendingBytes > maxBytes && head < pending.length) {
      const old = pending[head++]!;
      pendingBytes -= old.bytes;
      droppedOverBound++;
      droppedUpTo = old.n;
    }
    if (head > 4096 && head * 2 > pending.length) {
      pending = pending.slice(head);
      head = 0;
    }
  };
  if (fileSize > 0) forEachLine(spoolPath, onLine);
  const st = first ? settle(undefined) : state!;
  // Dropped like the run-time bound drops: every position up to the last one dropped is done.
  if (droppedOverBound > 0) st.doneN = Math.max(st.doneN, droppedUpTo);
  return { state: st, pending: head > 0 ? pending.slice(head) : pending, nextN: maxN + 1, badLines, stateLost, stateRecovered, droppedOverBound };
}

/**
 * The records the spool file still holds with `after < n <= upTo`, in position order (lines that are
 * no record, or out of order, are left out). Forwarded records stay in the file until a compaction,
 * so after Redis lost what it had acknowledged these are the ones that can be sent again.
 */
export function readHeldRecords(dir: string, after: number, upTo: number, appendedAt: number): SpoolRecord[] {
  const path = join(dir, SPOOL_FILE);
  const out: SpoolRecord[] = [];
  if (!existsSync(path) || upTo <= after) return out;
  let lastN = after;
  forEachLine(path, (line) => {
    const r = line === undefined ? undefined : parseRecord(line, appendedAt);
    if (!r || r.n <= lastN || r.n > upTo) return;
    lastN = r.n;
    out.push(r);
  });
  return out;
}

function parseRecord(line: string, appendedAt: number): SpoolRecord | undefined {
  let rec: { n?: unknown; e?: Record<string, unknown> } | null;
  try {
    rec = JSON.parse(line) as typeof rec;
  } catch {
    return undefined;
  }
  if (rec === null || typeof rec !== "object" || !Number.isSafeInteger(rec.n) || !rec.e || typeof rec.e.id !== "string") return undefined;
  return toRecord(rec.n as number, rec.e as WireFields, appendedAt);
}

type WireFields = Record<string, unknown> & { id: string };

function toRecord(n: number, e: WireFields, appendedAt: number): SpoolRecord {
  const json = JSON.stringify(e);
  return { n, id: e.id, lane: String(e.lane ?? ""), verdict: String(e.verdict ?? ""), reason: String(e.reason ?? ""), json, bytes: Buffer.byteLength(recordLine(n, json)), appendedAt };
}

/**
 * Writes the state atomically (atomic-file.ts: tmp, fsync, rename, fsync of the directory when
 * `sync`) so a crash leaves the old or the new copy, and a failed write no temp file.
 */
export function writeState(dir: string, state: SpoolState, sync: boolean): void {
  writeFileAtomic(join(dir, STATE_FILE), JSON.stringify(state) + "\n", { fsync: sync });
}

/** The append path's file calls (a seam: a test injects a short write; production uses node:fs). */
export type SpoolAppendFs = Pick<typeof nodeFs, "writeSync" | "ftruncateSync">;

/** The append-only spool file; rewritten (compacted) to hold only pending records. */
export class SpoolFile {
  private fd: number;
  size = 0;
  /** A short write left part of a line past `size` that could not be cut yet. */
  private fragment = false;
  /** `header` gives the first line of every rewrite (see headerLine). */
  constructor(
    private readonly dir: string,
    private readonly header: () => string,
    private readonly fs: SpoolAppendFs = nodeFs,
  ) {
    this.fd = openSync(join(dir, SPOOL_FILE), "a");
  }
  /**
   * Appends one whole line or nothing. A full disk can take part of a write and refuse the rest;
   * the part is cut again (the file's size is known), or the next record would be glued to it and
   * both read back as one damaged line after a crash. While the cut fails, appends fail.
   */
  append(line: string): void {
    if (this.fragment) {
      this.fs.ftruncateSync(this.fd, this.size);
      this.fragment = false;
    }
    const bytes = Buffer.from(line, "utf8");
    const written = this.fs.writeSync(this.fd, bytes);
    if (written !== bytes.length) {
      this.fragment = true;
      try {
        this.fs.ftruncateSync(this.fd, this.size);
        this.fragment = false;
      } catch {
        // Kept: the next append tries again first.
      }
      throw Object.assign(new Error(`short write: ${written} of ${bytes.length} bytes`), { code: "ESHORTWRITE" });
    }
    this.size += bytes.length;
  }
  fsync(): void {
    fsyncSync(this.fd);
  }
  /**
   * Replaces the file with the header and `lines` (atomic-file.ts: tmp, fsync, rename, fsync of the
   * directory; a failed rewrite leaves the old file and no temp file).
   */
  rewrite(lines: string[]): void {
    const path = join(this.dir, SPOOL_FILE);
    let size = 0;
    let failure: unknown;
    try {
      writeFileAtomic(path, (write) => {
        // Written in pieces: a large spool bound holds more than one string can (about 512 MiB).
        let piece = this.header();
        const put = () => {
          const b = Buffer.from(piece, "utf8");
          write(b);
          size += b.length;
          piece = "";
        };
        for (const line of lines) {
          piece += line;
          if (piece.length >= CHUNK) put();
        }
        put();
      });
    } catch (e) {
      // Only the directory fsync failed: the new file is in place and the old descriptor is stale.
      if (!replacedDespite(e)) throw e;
      failure = e;
    }
    closeSync(this.fd);
    this.fd = openSync(path, "a");
    this.size = size;
    this.fragment = false;
    if (failure !== undefined) throw failure;
  }
  close(): void {
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }
}
