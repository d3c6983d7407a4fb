import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { LedgerFs } from "./ledger.js";

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

export function writeLaneMarks(fs: Pick<LedgerFs, "writeFileSync" | "renameSync">, dir: string, marks: LaneMarks): void {
  const tmp = join(dir, LANES_FILE + ".tmp");
  fs.writeFileSync(tmp, JSON.stringify(marks) + "\n");
  fs.renameSync(tmp, join(dir, LANES_FILE));
}

const ID = /"id":"((?:[^"\\]|\\.)*)"/g;

/** Raises `lanes` to every event id's seq found in ledger text (one id per entry line). */
export function noteIds(text: string, lanes: Record<string, number>): void {
  for (const m of text.matchAll(ID)) noteId(JSON.parse(`"${m[1]!}"`) as string, lanes);
}

/** Raises `lanes[gatewayId:lane]` to the seq of event id `gatewayId:lane:seq`. */
export function noteId(id: string, lanes: Record<string, number>): void {
  const at = id.lastIndexOf(":");
  if (at <= 0 || !/^\d{1,16}$/.test(id.slice(at + 1))) return;
  const seq = Number(id.slice(at + 1));
  const key = id.slice(0, at);
  if (Number.isSafeInteger(seq) && seq > (lanes[key] ?? 0)) lanes[key] = seq;
}

/**
 * The writer's marks at start: the saved ones, raised by the ids in the day files written since
 * (at most `maxFiles` of the newest; without saved marks, a first start after an upgrade, those
 * are all it knows). `files` sorted oldest first.
 */
export function loadLaneMarks(dir: string, files: readonly string[], maxFiles: number): Record<string, number> {
  const saved = readLaneMarks(dir);
  const lanes = { ...saved?.lanes };
  const since = files.filter((f) => saved?.file === undefined || f >= saved.file).slice(-maxFiles);
  for (const f of since) noteIds(readFileSync(join(dir, f), "utf8"), lanes);
  return lanes;
}
