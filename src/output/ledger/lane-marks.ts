import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../core/logger.js";
import { writeFileAtomic, type AtomicFs } from "../../core/atomic-file.js";

/**
 * The last event seq of every lane the ledger has written, kept beside the day files. A lane's
 * sequence file restored from an old backup is caught by comparing it with the ids recorded for
 * the lane (recorded-ids.ts); reading day files back stops after 31 of them, so a lane idle for
 * longer was not checked. This file keeps each lane's last seq however long it has been idle.
 * `file`: the day file that was newest when the marks were written; entries in it and later files
 * may be missing from `lanes` (written since), so a reader scans those. Written atomically at start
 * and whenever the writer opens a new day file; losing a write costs only a longer scan.
 */
export const LANES_FILE = "ledger.lanes.json";

export interface LaneMarks {
  file?: string;
  /** Event id prefix (`gatewayId:lane`) -> the highest seq recorded under it. */
  lanes: Record<string, number>;
}

/** The marks in `dir`, or undefined when there are none or they cannot be read (a reader then scans). */
export function readLaneMarks(dir: string): LaneMarks | undefined {
  let o: unknown;
  try {
    o = JSON.parse(readFileSync(join(dir, LANES_FILE), "utf8"));
  } catch {
    return undefined;
  }
  const { file, lanes } = (o ?? {}) as { file?: unknown; lanes?: unknown };
  if (!lanes || typeof lanes !== "object") return undefined;
  const out: Record<string, number> = {};
  // Past 2^53 a number cannot be told from its neighbours: a damaged value, not an id (as in recorded-ids.ts).
  for (const [k, v] of Object.entries(lanes)) if (typeof v === "number" && Number.isSafeInteger(v) && v > 0) out[k] = v;
  return { ...(typeof file === "string" ? { file } : {}), lanes: out };
}

export function writeLaneMarks(fs: AtomicFs, dir: string, marks: LaneMarks, fsync: boolean): void {
  writeFileAtomic(join(dir, LANES_FILE), JSON.stringify(marks) + "\n", { fs, fsync });
}

/** Raises `lanes[gatewayId:lane]` to the seq of event id `gatewayId:lane:seq`. */
export function noteId(id: string, lanes: Record<string, number>): void {
  const at = id.lastIndexOf(":");
  if (at <= 0 || !/^\d{1,16}$/.test(id.slice(at + 1))) return;
  const seq = Number(id.slice(at + 1));
  const key = id.slice(0, at);
  if (Number.isSafeInteger(seq) && seq > (lanes[key] ?? 0)) lanes[key] = seq;
}

const KEY = Buffer.from('"id":"', "latin1");
const CHUNK = 1 << 20;
/** No event id is near this long (gateway id, lane id, seq): a longer one is damage, and it bounds what a chunk carries over. */
export const MAX_ID_BYTES = 4096;

/**
 * Raises `lanes` to every event id's seq in a ledger file (one id per entry line), read in chunks: a
 * day file can be larger than one string may hold, and 31 of them were read whole at every start.
 * Returns how many ids could not be read (bit rot: a bad escape, a control character, an id without
 * its end): skipped, their neighbours still count. Before, one such id threw, and with it the ledger.
 * Throws on fs errors.
 */
export function noteFileIds(path: string, lanes: Record<string, number>): number {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK + MAX_ID_BYTES + KEY.length);
    let kept = 0;
    let pos = 0;
    let bad = 0;
    for (;;) {
      const got = readSync(fd, buf, kept, CHUNK, pos);
      pos += got;
      const end = kept + got;
      const r = scanIds(buf.subarray(0, end), lanes, got === 0);
      bad += r.bad;
      if (got === 0) return bad;
      // An id cut by the chunk's end (or a key cut in two) is read whole with the next chunk.
      kept = end - r.next;
      buf.copy(buf, 0, r.next, end);
    }
  } finally {
    closeSync(fd);
  }
}

/** The ids in `buf`; `next`: where the next chunk's scan must start (an id or key not ended here). */
function scanIds(buf: Buffer, lanes: Record<string, number>, eof: boolean): { next: number; bad: number } {
  let bad = 0;
  let i = buf.indexOf(KEY);
  while (i >= 0) {
    const from = i + KEY.length;
    let j = from;
    // Bytes of a multi-byte UTF-8 character are all >= 0x80: never taken for a quote or a backslash.
    while (j < buf.length && buf[j] !== 0x22) j += buf[j] === 0x5c ? 2 : 1;
    if (j >= buf.length) {
      // The file's torn end is cut at start (resume), before this runs: an unended id there is no id.
      if (eof) break;
      if (buf.length - i <= MAX_ID_BYTES + KEY.length) return { next: i, bad };
      bad++;
      i = buf.indexOf(KEY, from);
      continue;
    }
    if (j - from > MAX_ID_BYTES) bad++;
    else {
      let id: unknown;
      try {
        id = JSON.parse(`"${buf.toString("utf8", from, j)}"`);
      } catch {
        bad++;
      }
      if (typeof id === "string") noteId(id, lanes);
    }
    i = buf.indexOf(KEY, j + 1);
  }
  return { next: Math.max(0, buf.length - (KEY.length - 1)), bad };
}

/**
 * The writer's marks at start: the saved ones, raised by the ids in the day files written since
 * (at most `maxFiles` of the newest; without saved marks, a first start after an upgrade, those
 * are all it knows). `files` sorted oldest first. Never throws: the marks only widen the seq check
 * to lanes idle for over a month, so a file that cannot be read costs the marks of the lanes in it
 * (warned, naming the file), never the ledger.
 */
export function loadLaneMarks(dir: string, files: readonly string[], maxFiles: number, log?: Pick<Logger, "warn">): Record<string, number> {
  let lanes: Record<string, number> = {};
  try {
    const saved = readLaneMarks(dir);
    lanes = { ...saved?.lanes };
    const since = files.filter((f) => saved?.file === undefined || f >= saved.file).slice(-maxFiles);
    for (const f of since) {
      try {
        const bad = noteFileIds(join(dir, f), lanes);
        if (bad > 0) log?.warn({ code: "GW_LEDGER_BROKEN", file: f, badIds: bad }, "ledger lane marks: event ids in this ledger file cannot be read (damaged); skipped");
      } catch (e) {
        log?.warn({ file: f, err: (e as Error).message }, "ledger lane marks: this ledger file cannot be read; its lanes are checked against a restored sequence file only while their ids are in the newest 31 ledger files");
      }
    }
  } catch (e) {
    log?.warn({ err: (e as Error).message }, "ledger lane marks cannot be loaded; a lane idle for over a month is not checked against a restored sequence file until they are");
  }
  return lanes;
}
