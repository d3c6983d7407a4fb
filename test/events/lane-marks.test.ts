/**
 * The ledger's lane marks at start (src/output/ledger/lane-marks.ts). Reading the day files back took
 * every `"id":"..."` match through JSON.parse unguarded: one damaged id (bit rot: `\q`) threw
 * "Bad escaped character in JSON" without a file name, and createLedger with it, at every start.
 * Now a bad id is skipped (one warning per file, naming it), a file that cannot be read costs only
 * its marks, and the files are read in chunks (bounded memory).
 */
import { afterEach, describe, expect, it } from "vitest";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeClock } from "../../src/core/clock.js";
import { createLedger } from "../../src/output/ledger/ledger.js";
import { LANES_FILE, loadLaneMarks, MAX_ID_BYTES, noteFileIds, readLaneMarks } from "../../src/output/ledger/lane-marks.js";
import { captureLogger, makeEvent, rmDir, tmpDir } from "./helpers.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmDir(d);
});
function dir(): string {
  const d = tmpDir("lane-marks");
  dirs.push(d);
  return d;
}

/** A real two-day ledger: L1 on day 1 (ids 7, 8, 9), L2 on day 2 (id 3); no marks file. */
async function twoDays(): Promise<string> {
  const d = join(dir(), "ledger");
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12));
  const l = createLedger({ dir: d, gatewayId: "gw-1", clock });
  for (const s of [7, 8, 9]) l.append(makeEvent("gw-1", "L1", s));
  clock.advance(86_400_000);
  l.append(makeEvent("gw-1", "L2", 3));
  await l.close();
  writeFileSync(join(d, LANES_FILE), "not json");
  return d;
}

const damage = (file: string, from: string, to: string) => {
  const text = readFileSync(file, "utf8");
  expect(text).toContain(from);
  writeFileSync(file, text.replace(from, to));
};

describe("lane marks: damaged ledger files", () => {
  it("a bad escape in an older day file's id no longer stops the ledger: the start skips it, the other ids still count", async () => {
    const d = await twoDays();
    damage(join(d, "ledger-2026-01-01.jsonl"), '"id":"gw-1:L1:8"', '"id":"gw-1:L1:\\q"');
    const { logger, lines } = captureLogger();
    const l = createLedger({ dir: d, gatewayId: "gw-1", logger });
    await l.close();
    // Saved at start from what the files hold: 9 from the same file as the damaged id.
    expect(readLaneMarks(d)?.lanes).toEqual({ "gw-1:L1": 9, "gw-1:L2": 3 });
    // The ledger passes its logger on: the damage is said once, naming the file.
    const warned = lines.map((x) => JSON.parse(x) as { code?: string; file?: string }).filter((x) => x.code === "GW_LEDGER_BROKEN" && String(x.file).includes("ledger-2026-01-01.jsonl"));
    expect(warned).toHaveLength(1);
  });

  it("bad ids are warned once per file, naming the file", async () => {
    const d = await twoDays();
    const day1 = join(d, "ledger-2026-01-01.jsonl");
    damage(day1, '"id":"gw-1:L1:8"', '"id":"gw-1:L1:\\q"');
    damage(day1, '"id":"gw-1:L1:7"', '"id":"gw-1:L1:\\u00"');
    const { logger, lines } = captureLogger();
    const lanes = loadLaneMarks(d, ["ledger-2026-01-01.jsonl", "ledger-2026-01-02.jsonl"], 31, logger);
    expect(lanes).toEqual({ "gw-1:L1": 9, "gw-1:L2": 3 });
    const warned = lines.map((l) => JSON.parse(l) as { level: string; file?: string; badIds?: number });
    expect(warned).toEqual([expect.objectContaining({ level: "warn", file: "ledger-2026-01-01.jsonl", badIds: 2 })]);
  });

  it("a day file that cannot be read costs only its marks, with a warning naming it", async () => {
    const d = await twoDays();
    mkdirSync(join(d, "ledger-2026-01-03.jsonl"));
    const { logger, lines } = captureLogger();
    const lanes = loadLaneMarks(d, ["ledger-2026-01-01.jsonl", "ledger-2026-01-02.jsonl", "ledger-2026-01-03.jsonl"], 31, logger);
    expect(lanes).toEqual({ "gw-1:L1": 9, "gw-1:L2": 3 });
    expect(lines.map((l) => JSON.parse(l) as { file?: string })).toEqual([expect.objectContaining({ level: "warn", file: "ledger-2026-01-03.jsonl" })]);
  });
});

describe("lane marks: chunked read", () => {
  const CHUNK = 1 << 20;

  it("an id across a 1 MiB read boundary is read whole, at every cut, also with multi-byte characters", () => {
    const d = dir();
    const id = `gw-1:Lä€𝄞:42`;
    const line = (s: string) => `{"seq":1,"event":${JSON.stringify({ id: s })}}\n`;
    const entry = line(id);
    for (let cut = 0; cut <= Buffer.byteLength(entry); cut++) {
      // The entry starts `cut` bytes before the first read's end.
      const head = `{"pad":"${"x".repeat(CHUNK - cut - 11)}"}\n`;
      expect(Buffer.byteLength(head)).toBe(CHUNK - cut);
      const f = join(d, `f${cut}.jsonl`);
      writeFileSync(f, head + entry + line("gw-1:L2:5"));
      const lanes: Record<string, number> = {};
      expect(noteFileIds(f, lanes), `cut ${cut}`).toBe(0);
      expect(lanes, `cut ${cut}`).toEqual({ "gw-1:Lä€𝄞": 42, "gw-1:L2": 5 });
    }
  });

  it("an id longer than any event id is skipped as damage (bounded carry-over), the next one still counts", () => {
    const d = dir();
    const f = join(d, "long.jsonl");
    // Unended for over MAX_ID_BYTES right at a read boundary: neither carried without bound nor read as an id.
    const head = `{"pad":"${"x".repeat(CHUNK - 100 - 11)}"}\n`;
    writeFileSync(f, `${head}{"event":{"id":"gw-1:L9:${"9".repeat(MAX_ID_BYTES + 10)}"}}\n{"event":{"id":"gw-1:L1:3"}}\n`);
    const lanes: Record<string, number> = {};
    expect(noteFileIds(f, lanes)).toBe(1);
    expect(lanes).toEqual({ "gw-1:L1": 3 });
  });
});
