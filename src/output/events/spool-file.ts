import * as nodeFs from "node:fs";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";

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

export function loadSpool(dir: string, appendedAt: number): LoadedSpool {
  mkdirSync(dir, { recursive: true });
  const statePath = join(dir, STATE_FILE);
  let state: SpoolState | undefined;
  if (existsSync(statePath)) {
    try {
      const s = JSON.parse(readFileSync(statePath, "utf8")) as Partial<SpoolState>;
      if (typeof s.epoch === "string" && EPOCH.test(s.epoch) && Number.isSafeInteger(s.doneN)) state = { epoch: s.epoch, doneN: s.doneN! };
    } catch {
      state = undefined;
    }
  }
  const spoolPath = join(dir, SPOOL_FILE);
  const text = existsSync(spoolPath) ? readFileSync(spoolPath, "utf8") : "";
  let stateRecovered = false;
  if (!state) {
    const first = text.slice(0, text.indexOf("\n") + 1 || undefined);
    try {
      const h = JSON.parse(first) as { epoch?: unknown; base?: unknown };
      if (typeof h.epoch === "string" && EPOCH.test(h.epoch) && Number.isSafeInteger(h.base)) {
        state = { epoch: h.epoch, doneN: h.base as number };
        stateRecovered = true;
      }
    } catch {
      // no header: an old spool file, or a damaged one
    }
  }
  const stateLost = !state && text.length > 0;
  state ??= { epoch: randomBytes(8).toString("hex"), doneN: 0 };
  const pending: SpoolRecord[] = [];
  let badLines = 0;
  let maxN = state.doneN;
  for (const line of text.split("\n")) {
    if (!line) continue;
    let rec: { n?: unknown; e?: Record<string, unknown>; epoch?: unknown; base?: unknown } | null;
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      badLines++;
      continue;
    }
    // Valid JSON that is no record (a damaged line that still parses, like `null`) is unreadable
    // like the rest: reading the fields of `null` threw and kept the whole spool from starting.
    if (rec === null || typeof rec !== "object") {
      badLines++;
      continue;
    }
    if (rec.epoch !== undefined && rec.n === undefined) {
      if (Number.isSafeInteger(rec.base)) maxN = Math.max(maxN, rec.base as number);
      continue;
    }
    if (!Number.isSafeInteger(rec.n) || !rec.e || typeof rec.e.id !== "string") {
      badLines++;
      continue;
    }
    const n = rec.n as number;
    maxN = Math.max(maxN, n);
    if (n <= state.doneN) continue;
    // Records are appended in position order; anything else is damage, kept out of the stream order.
    if (pending.length && n <= pending[pending.length - 1]!.n) {
      badLines++;
      continue;
    }
    const json = JSON.stringify(rec.e);
    pending.push({
      n,
      id: rec.e.id,
      lane: String(rec.e.lane ?? ""),
      verdict: String(rec.e.verdict ?? ""),
      reason: String(rec.e.reason ?? ""),
      json,
      bytes: Buffer.byteLength(recordLine(n, json)),
      appendedAt,
    });
  }
  return { state, pending, nextN: maxN + 1, badLines, stateLost, stateRecovered };
}

/** Writes the state atomically (tmp + rename) so a crash leaves the old or the new copy. */
export function writeState(dir: string, state: SpoolState, sync: boolean): void {
  const tmp = join(dir, STATE_FILE + ".tmp");
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, JSON.stringify(state) + "\n");
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, STATE_FILE));
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
  /** Replaces the file with the header and `lines` (tmp + fsync + rename). */
  rewrite(lines: string[]): void {
    const tmp = join(this.dir, SPOOL_FILE + ".tmp");
    const body = this.header() + lines.join("");
    writeFileSync(tmp, body);
    const tfd = openSync(tmp, "r+");
    try {
      fsyncSync(tfd);
    } finally {
      closeSync(tfd);
    }
    closeSync(this.fd);
    renameSync(tmp, join(this.dir, SPOOL_FILE));
    this.fd = openSync(join(this.dir, SPOOL_FILE), "a");
    this.size = Buffer.byteLength(body);
    this.fragment = false;
  }
  close(): void {
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }
}
