import { appendFileSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { FileSeqStore, RECOVERY_GAP, SeqStoreError } from "../../src/lane/seq-store.js";
import { buildVerdictEvent } from "../../src/lane/event.js";
import { createLedger } from "../../src/output/ledger/ledger.js";
import { LANES_FILE } from "../../src/output/ledger/lane-marks.js";
import { highestRecordedSeq, QUICK_LEDGER_FILES } from "../../src/output/events/recorded-ids.js";
import { captureLogger, makeEvent, makeReadOnly } from "../events/helpers.js";
import { result, rig } from "./helpers.js";

const dirs: string[] = [];
const undo: Array<() => void> = [];
afterEach(() => {
  undo.splice(0).forEach((u) => u());
  dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
});
function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "seq-"));
  dirs.push(dir);
  return dir;
}

/** L2's seq file restored from a backup ("5") while the ledger recorded ids up to 50: recovered past them. */
function expectRestoredL2Caught(dir: string): void {
  mkdirSync(join(dir, "lanes"), { recursive: true });
  writeFileSync(join(dir, "lanes", "L2.seq"), "5\n");
  const { logger, lines } = captureLogger();
  const s = new FileSeqStore(dir, { logger, block: 1, floor: (lane, thorough) => highestRecordedSeq(dir, "gw-s", lane, thorough) });
  expect(s.next("L2")).toBe(50 + RECOVERY_GAP + 1);
  expect(s.recovery("L2")).toEqual({ found: "behind", highestRecorded: 50, resumeAfter: 50 + RECOVERY_GAP, idsSkipped: RECOVERY_GAP });
  expect(lines.some((l) => l.includes('"code":"GW_EVENTS_SEQ_RECOVERED"') && l.includes('"highestRecorded":50'))).toBe(true);
}

describe("FileSeqStore", () => {
  it("continues after a restart so event ids stay unique", () => {
    const dir = stateDir();
    const a = new FileSeqStore(dir, { block: 1 });
    expect([a.next("L1"), a.next("L1"), a.next("L2")]).toEqual([1, 2, 1]);
    expect(readFileSync(join(dir, "lanes", "L1.seq"), "utf8")).toBe("2\n");
    const b = new FileSeqStore(dir, { block: 1 });
    expect(b.next("L1")).toBe(3);
    expect(b.current("L2")).toBe(1);
    expect(b.failure("L1")).toBeUndefined();
  });

  it("a state dir that turns read-only: next() throws and the lane's failure is reported, never a silent id", () => {
    const dir = stateDir();
    const { logger, lines } = captureLogger();
    const s = new FileSeqStore(dir, { logger, block: 1 });
    expect(s.next("L1")).toBe(1);
    undo.push(makeReadOnly(join(dir, "lanes")));
    expect(() => s.next("L1")).toThrow(SeqStoreError);
    expect(s.failure("L1")).toMatch(/cannot persist L1 seq 2/);
    // Sticky: a later call does not hand out the unpersisted id either.
    expect(() => s.next("L1")).toThrow(SeqStoreError);
    expect(lines.some((l) => l.includes('"code":"GW_EVENTS_SEQ_FAILED"') && l.includes('"level":"error"'))).toBe(true);
    undo.pop()!();
    // After a restart the persisted number is still 1: the next id is 2, and 2 was never used.
    expect(new FileSeqStore(dir).next("L1")).toBe(2);
  });

  it("a seq write that fails (the tmp file is a device: fsync EINVAL) leaves the old file and no temp file (shared atomic-file helper)", () => {
    const dir = stateDir();
    const s = new FileSeqStore(dir, { block: 1 });
    expect(s.next("L1")).toBe(1);
    const tmp = join(dir, "lanes", "L1.seq.tmp");
    symlinkSync("/dev/null", tmp);
    expect(() => s.next("L1")).toThrow(SeqStoreError);
    // Before: the temp file stayed (a 0-byte L1.seq.tmp per failed start on a full disk).
    expect(() => lstatSync(tmp)).toThrow();
    expect(readdirSync(join(dir, "lanes"))).toEqual(["L1.seq"]);
    expect(readFileSync(join(dir, "lanes", "L1.seq"), "utf8")).toBe("1\n");
  });

  it("reserves ids in blocks: one durable write per block, a restart resumes after the block, a read-only disk stops the lane at the block's end", () => {
    const dir = stateDir();
    const file = join(dir, "lanes", "L1.seq");
    const a = new FileSeqStore(dir, { block: 4 });
    expect(a.next("L1")).toBe(1);
    expect(readFileSync(file, "utf8")).toBe("4\n");
    expect([a.next("L1"), a.next("L1"), a.next("L1")]).toEqual([2, 3, 4]);
    expect(readFileSync(file, "utf8")).toBe("4\n");
    expect(a.next("L1")).toBe(5);
    expect(readFileSync(file, "utf8")).toBe("8\n");
    // A restart (or a crash) after 5: 6..8 may never be used, but nothing at or below 8 is reused.
    const b = new FileSeqStore(dir, { block: 4 });
    expect(b.current("L1")).toBe(8);
    expect(b.next("L1")).toBe(9);
    // Ids already on disk are still handed out when the disk turns read-only; the next block is not.
    undo.push(makeReadOnly(join(dir, "lanes")));
    expect([b.next("L1"), b.next("L1"), b.next("L1")]).toEqual([10, 11, 12]);
    expect(() => b.next("L1")).toThrow(SeqStoreError);
    expect(b.failure("L1")).toMatch(/cannot persist L1 seq 13/);
  });

  it("an unreadable seq file (not missing) is a failure at start, not a silent 0", () => {
    const dir = stateDir();
    mkdirSync(join(dir, "lanes", "L1.seq"), { recursive: true });
    const s = new FileSeqStore(dir);
    expect(s.failure("L1")).toMatch(/cannot read/);
    expect(() => s.next("L1")).toThrow(SeqStoreError);
  });

  it("a state dir that cannot be created reports a failure for every lane", () => {
    const dir = stateDir();
    writeFileSync(join(dir, "lanes"), "not a directory");
    const s = new FileSeqStore(dir);
    expect(s.failure("L1")).toMatch(/cannot create/);
  });

  it("a torn seq file resumes after the highest id in the ledger plus a gap, with a clear error", async () => {
    const dir = stateDir();
    const ledger = createLedger({ dir: join(dir, "ledger"), gatewayId: "gw-s" });
    for (let i = 1; i <= 57; i++) ledger.append(makeEvent("gw-s", "L1", i));
    ledger.append(makeEvent("gw-s", "L2", 9));
    await ledger.close();
    mkdirSync(join(dir, "lanes"), { recursive: true });
    for (const torn of ["", "99", "5", "57\u0000\u0000", "garbage\n"]) {
      writeFileSync(join(dir, "lanes", "L1.seq"), torn);
      const { logger, lines } = captureLogger();
      const s = new FileSeqStore(dir, { logger, block: 1, floor: (lane, thorough) => highestRecordedSeq(dir, "gw-s", lane, thorough) });
      const next = s.next("L1");
      if (torn === "99") {
        // A readable number at or above the recorded ids is trusted (it is written before an id is used).
        expect(next).toBe(100);
        continue;
      }
      // "5" reads fine but is behind the ledger (a file restored from an old backup): recovered too.
      expect(next).toBe(57 + RECOVERY_GAP + 1);
      expect(lines.some((l) => l.includes('"code":"GW_EVENTS_SEQ_RECOVERED"') && l.includes('"highestRecorded":57'))).toBe(true);
      expect(readFileSync(join(dir, "lanes", "L1.seq"), "utf8")).toBe(`${57 + RECOVERY_GAP + 1}\n`);
    }
  });

  it("records each lane's start-up recovery (what was found, the highest recorded id, the ids skipped) for /metrics; a sound file or a new lane has none", async () => {
    const dir = stateDir();
    const ledger = createLedger({ dir: join(dir, "ledger"), gatewayId: "gw-s" });
    for (const lane of ["M", "D", "B", "OK"]) for (let i = 1; i <= 20; i++) ledger.append(makeEvent("gw-s", lane, i));
    await ledger.close();
    mkdirSync(join(dir, "lanes"), { recursive: true });
    writeFileSync(join(dir, "lanes", "D.seq"), "2\u0000\u0000");
    writeFileSync(join(dir, "lanes", "B.seq"), "7\n");
    writeFileSync(join(dir, "lanes", "OK.seq"), "64\n");
    const s = new FileSeqStore(dir, { gap: 500, floor: (lane, thorough) => highestRecordedSeq(dir, "gw-s", lane, thorough) });
    for (const lane of ["M", "D", "B", "OK", "NEW"]) expect(s.failure(lane)).toBeUndefined();
    expect(s.recovery("M")).toEqual({ found: "missing", highestRecorded: 20, resumeAfter: 520, idsSkipped: 500 });
    expect(s.recovery("D")).toEqual({ found: "damaged", highestRecorded: 20, resumeAfter: 520, idsSkipped: 500 });
    expect(s.recovery("B")).toEqual({ found: "behind", highestRecorded: 20, resumeAfter: 520, idsSkipped: 500 });
    expect(s.recovery("OK")).toBeUndefined();
    expect(s.recovery("NEW")).toBeUndefined();
    // Ids handed out later do not change what the start found.
    expect(s.next("M")).toBe(521);
    expect(s.recovery("M")).toMatchObject({ resumeAfter: 520, idsSkipped: 500 });
    // A recovery that cannot be persisted is a failure, not a recovery.
    const ro = stateDir();
    mkdirSync(join(ro, "lanes"), { recursive: true });
    undo.push(makeReadOnly(join(ro, "lanes")));
    const f = new FileSeqStore(ro, { floor: () => 9 });
    expect(f.failure("L1")).toMatch(/cannot persist recovered L1 seq/);
    expect(f.recovery("L1")).toBeUndefined();
  });

  it("a seq file restored from an old backup is caught when the newest ledger files do not name the lane (idle since)", async () => {
    const dir = stateDir();
    const clock = new FakeClock(Date.UTC(2026, 4, 1, 22, 0));
    const ledger = createLedger({ dir: join(dir, "ledger"), gatewayId: "gw-s", clock, fsync: "never" });
    for (let i = 1; i <= 50; i++) ledger.append(makeEvent("gw-s", "L2", i));
    // The next two days only L1 decides: the two newest files do not mention L2.
    for (const day of [2, 3]) {
      clock.setWall(Date.UTC(2026, 4, day, 0, 5));
      for (let i = 1; i <= 3; i++) ledger.append(makeEvent("gw-s", "L1", (day - 2) * 3 + i));
    }
    await ledger.close();
    expectRestoredL2Caught(dir);
    // The walk back is bounded: without the ledger's lane marks (a ledger written before them), a lane
    // silent for longer than QUICK_LEDGER_FILES files is not looked for.
    rmSync(join(dir, "ledger", LANES_FILE));
    for (let day = 0; day < QUICK_LEDGER_FILES - 1; day++) writeFileSync(join(dir, "ledger", `ledger-2026-06-${String(day + 1).padStart(2, "0")}.jsonl`), "");
    expect(highestRecordedSeq(dir, "gw-s", "L2", false)).toBe(0);
    expect(highestRecordedSeq(dir, "gw-s", "L2", true)).toBe(50);
  });

  it("a seq file restored from an old backup is caught for a lane idle for longer than QUICK_LEDGER_FILES ledger days (the ledger's lane marks), across ledger restarts", async () => {
    const dir = stateDir();
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0));
    let ledger = createLedger({ dir: join(dir, "ledger"), gatewayId: "gw-s", clock, fsync: "never" });
    for (let i = 1; i <= 50; i++) ledger.append(makeEvent("gw-s", "L2", i));
    // Then only L1 decides, one entry a day, with a gateway restart every ten days.
    const days = QUICK_LEDGER_FILES + 9;
    for (let day = 1; day <= days; day++) {
      clock.setWall(Date.UTC(2026, 0, 1 + day, 12, 0));
      if (day % 10 === 0) {
        await ledger.close();
        ledger = createLedger({ dir: join(dir, "ledger"), gatewayId: "gw-s", clock, fsync: "never" });
      }
      ledger.append(makeEvent("gw-s", "L1", day));
    }
    await ledger.close();
    expect(highestRecordedSeq(dir, "gw-s", "L2", false)).toBe(50);
    expect(highestRecordedSeq(dir, "gw-s", "L1", false)).toBe(days);
    expectRestoredL2Caught(dir);
    // A sound seq file is not moved by the marks: they hold ids the lane handed out, never more.
    writeFileSync(join(dir, "lanes", "L1.seq"), `${days}\n`);
    expect(new FileSeqStore(dir, { block: 1, floor: (lane, thorough) => highestRecordedSeq(dir, "gw-s", lane, thorough) }).next("L1")).toBe(days + 1);
  });

  it("a seq value at or past 2^53 is damage, not a number: ids resume after the recorded ones and never repeat", async () => {
    const dir = stateDir();
    const ledger = createLedger({ dir: join(dir, "ledger"), gatewayId: "gw-s" });
    for (let i = 1; i <= 7; i++) ledger.append(makeEvent("gw-s", "L1", i));
    await ledger.close();
    mkdirSync(join(dir, "lanes"), { recursive: true });
    // 2^53 (n + 1 === n), the largest safe integer (its next id is not), and one the next block would pass.
    for (const bad of ["9007199254740992", "9999999999999999\n", String(Number.MAX_SAFE_INTEGER), String(Number.MAX_SAFE_INTEGER - 3)]) {
      writeFileSync(join(dir, "lanes", "L1.seq"), bad);
      const { logger, lines } = captureLogger();
      const s = new FileSeqStore(dir, { logger, block: 4, floor: (lane, thorough) => highestRecordedSeq(dir, "gw-s", lane, thorough) });
      const ids = [s.next("L1"), s.next("L1"), s.next("L1")];
      expect(ids).toEqual([7 + RECOVERY_GAP + 1, 7 + RECOVERY_GAP + 2, 7 + RECOVERY_GAP + 3]);
      expect(s.recovery("L1")).toMatchObject({ found: "damaged", highestRecorded: 7 });
      expect(lines.some((l) => l.includes('"code":"GW_EVENTS_SEQ_RECOVERED"') && l.includes(`${bad.trim()} (past the largest usable id)`))).toBe(true);
    }
    // Recorded evidence that leaves no room below 2^53 puts the lane out of service instead.
    writeFileSync(join(dir, "lanes", "L9.seq"), "9007199254740993");
    const s = new FileSeqStore(dir, { floor: () => Number.MAX_SAFE_INTEGER - 10 });
    expect(s.failure("L9")).toMatch(/no ids below 2\^53/);
    expect(() => s.next("L9")).toThrow(SeqStoreError);
  });

  it("a missing seq file next to a ledger with entries is recovered the same way (wiped lanes dir)", async () => {
    const dir = stateDir();
    const ledger = createLedger({ dir: join(dir, "ledger"), gatewayId: "gw-s" });
    for (let i = 1; i <= 3; i++) ledger.append(makeEvent("gw-s", "L2", i));
    await ledger.close();
    const s = new FileSeqStore(dir, { floor: (lane, thorough) => highestRecordedSeq(dir, "gw-s", lane, thorough) });
    expect(s.next("L2")).toBe(3 + RECOVERY_GAP + 1);
    expect(s.next("L9")).toBe(1);
  });
});

describe("highestRecordedSeq", () => {
  it("finds the highest id of a lane in the spool (quick: its tail) and the newest ledger file naming the lane", async () => {
    const dir = stateDir();
    mkdirSync(join(dir, "spool"), { recursive: true });
    const rec = (n: number, seq: number) => `{"n":${n},"e":${JSON.stringify(makeEvent("gw-s", "L3", seq))}}\n`;
    writeFileSync(join(dir, "spool", "spool.jsonl"), `{"epoch":"00112233aabbccdd","base":0}\n` + rec(1, 69) + rec(2, 70) + `{"n":3,"e":${JSON.stringify(makeEvent("gw-s", "L30", 900))}}\n`);
    expect(highestRecordedSeq(dir, "gw-s", "L3", false)).toBe(70);
    expect(highestRecordedSeq(dir, "gw-s", "L3", true)).toBe(70);
    expect(highestRecordedSeq(dir, "gw-other", "L3", true)).toBe(0);
    const ledger = createLedger({ dir: join(dir, "ledger"), gatewayId: "gw-s" });
    ledger.append(makeEvent("gw-s", "L3", 75));
    await ledger.close();
    expect(highestRecordedSeq(dir, "gw-s", "L3", false)).toBe(75);
    // An "id" past 2^53 is no id a sound store handed out: ignored, never a floor to resume after.
    appendFileSync(join(dir, "spool", "spool.jsonl"), `{"n":4,"e":${JSON.stringify(makeEvent("gw-s", "L3", 0, { id: "gw-s:L3:9007199254740993" }))}}\n`);
    expect(highestRecordedSeq(dir, "gw-s", "L3", true)).toBe(75);
    mkdirSync(join(dir, "lanes"), { recursive: true });
    writeFileSync(join(dir, "lanes", "L3.seq"), "2\n");
    expect(new FileSeqStore(dir, { floor: (lane, thorough) => highestRecordedSeq(dir, "gw-s", lane, thorough) }).next("L3")).toBe(75 + RECOVERY_GAP + 1);
  });
});

describe("highestRecordedSeq on files larger than a string can hold", () => {
  it("reads a 520 MiB ledger day and spool file in chunks, ids cut by a chunk's end included", () => {
    const dir = stateDir();
    // Sparse zeros, then the lane's entry placed so that its id straddles a 1 MiB boundary.
    const big = (file: string, lane: string, seq: number) => {
      mkdirSync(join(file, ".."), { recursive: true });
      const entry = `{"seq":1,"id":"gw-s:${lane}:${seq}","lane":"${lane}"}\n`;
      writeFileSync(file, "");
      truncateSync(file, 520 * (1 << 20) - entry.indexOf(String(seq)) - 3);
      appendFileSync(file, entry);
    };
    big(join(dir, "spool", "spool.jsonl"), "L2", 654321);
    expect(highestRecordedSeq(dir, "gw-s", "L2", true)).toBe(654321);
    big(join(dir, "ledger", "ledger-2026-01-01.jsonl"), "L1", 123456);
    expect(highestRecordedSeq(dir, "gw-s", "L1", false)).toBe(123456);
  });
});

describe("lane with a failing sequence store", () => {
  function laneOn(dir: string) {
    const { logger, lines } = captureLogger();
    // A block of 1: the very next verdict needs a durable write (blocks are tested above).
    const r = rig(60_000, { seq: new FileSeqStore(dir, { logger, block: 1 }), logger, gatewayId: "gw-s" });
    return { lane: r.lane("L1", ["c1"]), clock: r.clock, verdicts: r.verdicts, statuses: r.statuses, lines };
  }

  it("goes out of service with EVENTS_SEQ_ERROR when an id cannot be persisted, and publishes no event with an unsaved id", async () => {
    const dir = stateDir();
    const r = laneOn(dir);
    await r.lane.onDecode(result("c1", 1, r.clock.monotonic(), ["EXPIRED:a"]));
    expect(r.verdicts.map((v) => v.id)).toEqual(["gw-s:L1:1"]);
    undo.push(makeReadOnly(join(dir, "lanes")));
    r.clock.advance(5000);
    await r.lane.onDecode(result("c1", 2, r.clock.monotonic(), ["EXPIRED:b"]));
    expect(r.verdicts.map((v) => v.id)).toEqual(["gw-s:L1:1"]);
    expect(r.lane.status()).toMatchObject({ state: "out-of-service", problems: ["EVENTS_SEQ_ERROR"] });
    expect(r.lane.stats().verdictsDropped).toBe(1);
    expect(r.lines.some((l) => l.includes('"code":"GW_EVENTS_SEQ_FAILED"') && l.includes("verdict dropped"))).toBe(true);
  });

  it("starts out of service when the seq file cannot be read", () => {
    const dir = stateDir();
    mkdirSync(join(dir, "lanes", "L1.seq"), { recursive: true });
    const r = laneOn(dir);
    expect(r.lane.status().problems).toEqual(["EVENTS_SEQ_ERROR"]);
  });
});

describe("buildVerdictEvent", () => {
  it("shapes id, timings (never negative) and keeps verdict facts", () => {
    const ev = buildVerdictEvent(
      { verdict: "FLAG", reason: "EXPIRED", format: "pass", kid: "k1" },
      { gatewayId: "g", lane: "L", cameraId: "c", seq: 7, at: 5, decidedMono: 100.123, frameReceivedAt: 90, firstSeen: 110, payloadHash: "ab" },
    );
    expect(ev).toMatchObject({ id: "g:L:7", verdict: "FLAG", reason: "EXPIRED", kid: "k1", frameToVerdictMs: 10.12, firstSeenToVerdictMs: 0, payloadHash: "ab" });
  });
});

describe("recentQuantiles", () => {
  it("is undefined without samples and picks nearest-rank quantiles", async () => {
    const { recentQuantiles } = await import("../../src/lane/telemetry.js");
    expect(recentQuantiles({ recentFirstSeenMs: [] })).toBeUndefined();
    expect(recentQuantiles({ recentFirstSeenMs: [5, 1, 3, 2, 4] })).toEqual({ p50: 3, p99: 5 });
  });
});
