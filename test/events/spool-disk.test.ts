import { afterEach, describe, expect, it } from "vitest";
import { appendFileSync, lstatSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeClock } from "../../src/core/clock.js";
import { loadSpool, readHeldRecords, recordLine, type SpoolAppendFs } from "../../src/output/events/spool-file.js";
import { COMPACT_RETRY_MS, shouldCompact, SpoolDisk, type FsyncPolicy } from "../../src/output/events/spool-disk.js";
import { canRefuseFileWrites, captureLogger, makeReadOnly, refuseFileWrites, rmDir, shortWritingFs, tmpDir } from "./helpers.js";

const dirs: string[] = [];
const undo: Array<() => void> = [];
afterEach(() => {
  undo.splice(0).forEach((u) => u());
  dirs.splice(0).forEach(rmDir);
});

function setup(fsync: FsyncPolicy = "interval", compactBytes = 1 << 20) {
  const dir = tmpDir("spool-disk");
  dirs.push(dir);
  const clock = new FakeClock();
  const { logger, lines } = captureLogger();
  const disk = new SpoolDisk({ dir, fsync, fsyncIntervalMs: 1000, compactBytes, clock, log: logger });
  const readState = () => JSON.parse(readFileSync(join(dir, "spool.state.json"), "utf8")) as { epoch: string; doneN: number };
  const readSpool = () => readFileSync(join(dir, "spool.jsonl"), "utf8");
  return { dir, clock, disk, lines, readState, readSpool };
}

const line = (n: number) => recordLine(n, `{"id":"gw:L1:${n}"}`);

describe("shouldCompact", () => {
  it.each([
    // fileSize, compactBytes, pendingCount, pendingBytes, expected
    [999, 1000, 0, 0, false], // not big enough yet
    [1000, 1000, 0, 0, true], // big enough, nothing pending
    [1000, 1000, 3, 400, true], // pending is well under half the file
    [1000, 1000, 3, 600, false], // pending is most of the file: a rewrite would barely shrink it
    [1000, 1000, 3, 500, true], // exactly half: worth it
  ])("file %i B, threshold %i B, %i pending (%i B) -> %s", (size, at, n, bytes, want) => {
    expect(shouldCompact(size, at, n, bytes)).toBe(want);
  });
});

describe("SpoolDisk", () => {
  it("after a Redis rollback the records put back are not done any more, durably: the next load queues them again", () => {
    const { dir, disk, readState } = setup("interval");
    disk.load(0);
    disk.open([]);
    for (let n = 1; n <= 6; n++) disk.append(line(n), 0, n);
    disk.markAcked(6, 5000, "m");
    // A line that is no record, between the forwarded ones: left out.
    appendFileSync(join(dir, "spool.jsonl"), "garbage\n");
    expect(readHeldRecords(dir, 2, 5, 0).map((r) => [r.n, r.id])).toEqual([
      [3, "gw:L1:3"],
      [4, "gw:L1:4"],
      [5, "gw:L1:5"],
    ]);
    disk.rollBack(2, 3);
    // Saved at once, not at the next sync.
    expect(readState()).toEqual({ epoch: disk.state.epoch, doneN: 2, acked: { n: 2, at: 5000, marker: "m" } });
    disk.close();
    const again = loadSpool(dir, 0);
    expect(again.pending.map((r) => r.n)).toEqual([3, 4, 5, 6]);
    expect(again.state.acked).toEqual({ n: 2, at: 5000, marker: "m" });
    expect(again.nextN).toBe(7);
  });

  it("a fresh directory gets a new epoch, a durable state file and a header-only spool file", () => {
    const { disk, readState, readSpool } = setup();
    const loaded = disk.load(0);
    expect(loaded).toMatchObject({ pending: [], nextN: 1, badLines: 0, stateLost: false });
    expect(disk.isOpen).toBe(false);
    disk.open([]);
    expect(disk.isOpen).toBe(true);
    expect(readState()).toEqual({ epoch: disk.state.epoch, doneN: 0 });
    expect(readSpool()).toBe(`{"epoch":"${disk.state.epoch}","base":0}\n`);
  });

  it.each([
    ["interval", 1],
    ["always", 0],
    ["never", 0],
  ] as const)("append with fsync %s writes the line and leaves %i sync timer", (policy, timers) => {
    const { clock, disk, readSpool } = setup(policy);
    disk.load(0);
    disk.open([]);
    disk.append(line(1), 0, 1);
    expect(readSpool().endsWith(line(1))).toBe(true);
    expect(clock.pendingCount).toBe(timers);
  });

  it("markDone saves the state with the next sync, not at once", () => {
    const { clock, disk, readState } = setup("never");
    disk.load(0);
    disk.open([]);
    disk.markDone(5);
    disk.markDone(3); // positions only grow
    expect(readState().doneN).toBe(0);
    clock.advance(1000);
    expect(readState().doneN).toBe(5);
  });

  it("compaction saves the state first and keeps only the pending lines after the header", () => {
    const { disk, readState, readSpool } = setup("interval", 1);
    disk.load(0);
    disk.open([]);
    for (let n = 1; n <= 3; n++) disk.append(line(n), n - 1, n);
    disk.markDone(2);
    disk.compact(1, Buffer.byteLength(line(3)), () => [line(3)]);
    expect(readState().doneN).toBe(2);
    expect(readSpool()).toBe(`{"epoch":"${disk.state.epoch}","base":2}\n${line(3)}`);
  });

  it("no compaction below the threshold", () => {
    const { disk, readSpool } = setup("interval", 1 << 20);
    disk.load(0);
    disk.open([]);
    disk.append(line(1), 0, 1);
    disk.markDone(1);
    let asked = false;
    disk.compact(0, 0, () => ((asked = true), []));
    expect(asked).toBe(false);
    expect(readSpool().endsWith(line(1))).toBe(true);
  });

  it("a compaction that cannot write is logged, not thrown, and the file keeps its records", () => {
    const { dir, disk, lines, readSpool } = setup("interval", 1);
    disk.load(0);
    disk.open([]);
    disk.append(line(1), 0, 1);
    disk.markDone(1);
    undo.push(makeReadOnly(dir));
    expect(() => disk.compact(0, 0, () => [])).not.toThrow();
    undo.pop()!();
    expect(lines.some((l) => l.includes("spool compaction failed") && l.includes('"level":"error"'))).toBe(true);
    expect(readSpool().endsWith(line(1))).toBe(true);
  });

  it("load reports a torn last line and keeps the records before it", () => {
    const { dir, clock, disk } = setup();
    disk.load(0);
    disk.open([line(1), line(2)]);
    disk.close();
    appendFileSync(join(dir, "spool.jsonl"), '{"n":3,"e":{"id":"gw:L1:');
    const { logger, lines } = captureLogger();
    const next = new SpoolDisk({ dir, fsync: "interval", fsyncIntervalMs: 1000, compactBytes: 1 << 20, clock, log: logger });
    const loaded = next.load(0);
    expect(loaded.pending.map((r) => r.n)).toEqual([1, 2]);
    expect(loaded.nextN).toBe(3);
    expect(next.state.epoch).toBe(disk.state.epoch);
    expect(lines.some((l) => l.includes('"badLines":1') && l.includes('"level":"warn"'))).toBe(true);
  });

  it("a damaged line that is still valid JSON but no record (null, a number, a string, a list) is a bad line; the records around it load", () => {
    const { dir, clock, disk } = setup();
    disk.load(0);
    disk.open([line(1)]);
    disk.close();
    appendFileSync(join(dir, "spool.jsonl"), `null\n42\n"text"\n[1,2]\n{"n":2,"e":null}\n${line(2)}`);
    const next = new SpoolDisk({ dir, fsync: "interval", fsyncIntervalMs: 1000, compactBytes: 1 << 20, clock, log: captureLogger().logger });
    const loaded = next.load(0);
    expect(loaded.pending.map((r) => r.n)).toEqual([1, 2]);
    expect(loaded.badLines).toBe(5);
    expect(next.recovery).toMatchObject({ recoveredAtStart: 2, recordsDamaged: 5 });
  });

  it("keeps what load found for /metrics: the backlog queued again, damaged lines, a state file recovered from the header or lost", () => {
    const { dir, clock, disk } = setup();
    expect(disk.load(0).badLines).toBe(0);
    // A fresh directory: nothing recovered.
    expect(disk.recovery).toEqual({ recoveredAtStart: 0, recordsDamaged: 0, stateRecovered: false, stateLost: false });
    disk.open([line(1), line(2), line(3)]);
    disk.close();
    // A power cut: the state file is gone, one record torn mid-line, one garbled into valid JSON without an id.
    rmSync(join(dir, "spool.state.json"));
    appendFileSync(join(dir, "spool.jsonl"), '{"n":4,"e":{"x":1}}\n{"n":5,"e":{"id":"gw:L1:');
    const reopen = () => new SpoolDisk({ dir, fsync: "interval", fsyncIntervalMs: 1000, compactBytes: 1 << 20, clock, log: captureLogger().logger });
    const next = reopen();
    next.load(0);
    expect(next.recovery).toEqual({ recoveredAtStart: 3, recordsDamaged: 2, stateRecovered: true, stateLost: false });
    // The rewrite at open drops the damaged lines: the next start finds the backlog only.
    next.open([line(1), line(2), line(3)]);
    next.close();
    const again = reopen();
    again.load(0);
    expect(again.recovery).toEqual({ recoveredAtStart: 3, recordsDamaged: 0, stateRecovered: false, stateLost: false });
    // No state file and no header (an old or damaged spool file): a new epoch.
    rmSync(join(dir, "spool.state.json"));
    writeFileSync(join(dir, "spool.jsonl"), line(7));
    const lost = reopen();
    lost.load(0);
    expect(lost.recovery).toEqual({ recoveredAtStart: 1, recordsDamaged: 0, stateRecovered: false, stateLost: true });
  });

  it("load keeps only the newest records within the bound, counts the others and covers them with doneN", () => {
    const { dir, disk } = setup();
    disk.load(0);
    disk.open(Array.from({ length: 10 }, (_, k) => line(k + 1)));
    disk.markDone(2);
    disk.close();
    // Records 3..10 are pending; a bound of three records keeps 8..10.
    const loaded = loadSpool(dir, 0, [8, 9, 10].reduce((a, n) => a + Buffer.byteLength(line(n)), 0));
    expect(loaded.pending.map((r) => r.n)).toEqual([8, 9, 10]);
    expect(loaded).toMatchObject({ droppedOverBound: 5, badLines: 0, nextN: 11 });
    // The drop is final like a run-time one: the next start does not bring 3..7 back.
    expect(loaded.state.doneN).toBe(7);
    // Without a bound (or within it) nothing is dropped and doneN stays.
    expect(loadSpool(dir, 0)).toMatchObject({ droppedOverBound: 0, state: { doneN: 2 } });
  });

  it("after a failed compaction the next try waits (a full spool asks on every verdict, each try writes the whole bound)", () => {
    const { dir, clock, disk, readSpool } = setup("never", 1);
    disk.load(0);
    disk.open([]);
    disk.append(line(1), 0, 1);
    disk.markDone(1);
    const tmp = join(dir, "spool.jsonl.tmp");
    symlinkSync("/dev/null", tmp);
    disk.compact(0, 0, () => []);
    expect(disk.errors.compactionErrors).toBe(1);
    // The failed rewrite removed its temp file (here the link to /dev/null): a full disk leaves no stray file.
    expect(() => lstatSync(tmp)).toThrow();
    let asked = 0;
    disk.compact(0, 0, () => (asked++, []));
    clock.advance(COMPACT_RETRY_MS - 1);
    disk.compact(0, 0, () => (asked++, []));
    expect(asked).toBe(0);
    clock.advance(1);
    disk.compact(0, 0, () => (asked++, []));
    expect(asked).toBe(1);
    expect(disk.errors.compactionErrors).toBe(1);
    expect(readSpool()).toBe(`{"epoch":"${disk.state.epoch}","base":1}\n`);
  });

  it("close saves the newest state durably and leaves no timer", () => {
    const { clock, disk, readState } = setup("interval");
    disk.load(0);
    disk.open([]);
    disk.append(line(1), 0, 1);
    disk.markDone(1);
    disk.close();
    expect(readState().doneN).toBe(1);
    expect(clock.pendingCount).toBe(0);
  });
});

describe("SpoolDisk failures are counted (events_spool_* on /metrics)", () => {
  it.runIf(canRefuseFileWrites)("an append the disk refuses is a write error; degraded until that record is forwarded", () => {
    const { dir, disk, readSpool } = setup("never");
    disk.load(0);
    disk.open([]);
    disk.append(line(1), 0, 1);
    undo.push(refuseFileWrites(join(dir, "spool.jsonl")));
    disk.append(line(2), 1, 2);
    undo.pop()!();
    expect(disk.errors).toEqual({ writeErrors: 1, fsyncErrors: 0, compactionErrors: 0 });
    expect(disk.degraded).toBe(true);
    expect(readSpool()).not.toContain(line(2));
    // A later append that works does not put record 2 on disk: still degraded.
    disk.append(line(3), 2, 3);
    expect(disk.degraded).toBe(true);
    disk.markDone(1);
    expect(disk.degraded).toBe(true);
    disk.markDone(2);
    expect(disk.degraded).toBe(false);
    expect(disk.errors.writeErrors).toBe(1);
  });

  it("a short write (a full disk takes part of a line) is cut again, counted, and the next record is not glued to it", () => {
    const dir = tmpDir("spool-disk-short");
    dirs.push(dir);
    const o = { shortWrites: 0, failCuts: 0 };
    const fs: SpoolAppendFs = shortWritingFs(o);
    const disk = new SpoolDisk({ dir, fsync: "never", fsyncIntervalMs: 1000, compactBytes: 1 << 20, clock: new FakeClock(), log: captureLogger().logger, fs });
    disk.load(0);
    disk.open([]);
    disk.append(line(1), 0, 1);
    o.shortWrites = 1;
    disk.append(line(2), 1, 2);
    o.shortWrites = 1;
    o.failCuts = 2; // right after the short write, and again before the next append
    disk.append(line(3), 2, 3);
    disk.append(line(4), 3, 4);
    disk.append(line(5), 4, 5);
    expect(disk.errors.writeErrors).toBe(3);
    expect(disk.degraded).toBe(true);
    const body = readFileSync(join(dir, "spool.jsonl"), "utf8");
    expect(body).toBe(`{"epoch":"${disk.state.epoch}","base":0}\n${line(1)}${line(5)}`);
    // What a restart reads back: whole records only, none damaged.
    const again = new SpoolDisk({ dir, fsync: "never", fsyncIntervalMs: 1000, compactBytes: 1 << 20, clock: new FakeClock(), log: captureLogger().logger });
    expect(again.load(0)).toMatchObject({ badLines: 0 });
  });

  it.runIf(canRefuseFileWrites)("a compaction puts the memory-only records back on disk and clears degraded", () => {
    const { dir, disk, readSpool } = setup("interval", 1);
    disk.load(0);
    disk.open([]);
    for (let n = 1; n <= 3; n++) disk.append(line(n), n - 1, n);
    disk.markDone(3);
    undo.push(refuseFileWrites(join(dir, "spool.jsonl")));
    disk.append(line(4), 0, 4);
    undo.pop()!();
    expect(disk.degraded).toBe(true);
    disk.compact(1, Buffer.byteLength(line(4)), () => [line(4)]);
    expect(readSpool()).toBe(`{"epoch":"${disk.state.epoch}","base":3}\n${line(4)}`);
    expect(disk.degraded).toBe(false);
    expect(disk.errors).toEqual({ writeErrors: 1, fsyncErrors: 0, compactionErrors: 0 });
  });

  it("a compaction whose fsync fails (the tmp file is a device: EINVAL) is an fsync and a compaction error", () => {
    const { dir, disk, lines, readSpool } = setup("interval", 1);
    disk.load(0);
    disk.open([]);
    disk.append(line(1), 0, 1);
    disk.markDone(1);
    const tmp = join(dir, "spool.jsonl.tmp");
    symlinkSync("/dev/null", tmp);
    disk.compact(0, 0, () => []);
    expect(() => lstatSync(tmp)).toThrow();
    expect(disk.errors).toEqual({ writeErrors: 0, fsyncErrors: 1, compactionErrors: 1 });
    expect(disk.degraded).toBe(false);
    expect(readSpool().endsWith(line(1))).toBe(true);
    expect(lines.some((l) => l.includes("spool compaction failed"))).toBe(true);
  });

  it("a state save that fails in the sync timer (directory read-only for real) is a write error, not degraded", () => {
    const { dir, clock, disk, lines } = setup("interval");
    disk.load(0);
    disk.open([]);
    disk.append(line(1), 0, 1);
    disk.markDone(1);
    undo.push(makeReadOnly(dir));
    clock.advance(1000);
    undo.pop()!();
    expect(disk.errors).toEqual({ writeErrors: 1, fsyncErrors: 0, compactionErrors: 0 });
    expect(disk.degraded).toBe(false);
    expect(lines.some((l) => l.includes('"code":"GW_SPOOL_STATE_WRITE"'))).toBe(true);
    // The flag stays set: the next sync saves it.
    disk.markDone(1);
    clock.advance(1000);
    expect(disk.errors.writeErrors).toBe(1);
  });

  it("a state save failing at every sync (a full disk) is logged once, named as such with its code, and its end is logged", () => {
    const { dir, clock, disk, lines, readState } = setup("interval");
    disk.load(0);
    disk.open([]);
    undo.push(makeReadOnly(dir));
    for (let n = 1; n <= 5; n++) {
      disk.markDone(n);
      clock.advance(1000);
    }
    expect(disk.errors).toEqual({ writeErrors: 5, fsyncErrors: 0, compactionErrors: 0 });
    const failures = lines.filter((l) => l.includes('"level":"error"'));
    // Before: "spool fsync failed" with the whole stack, at every sync (10 lines in 40 s on a full disk).
    expect(failures).toHaveLength(1);
    const f = JSON.parse(failures[0]!) as Record<string, unknown>;
    expect(f).toMatchObject({ code: "GW_SPOOL_STATE_WRITE", file: "spool.state.json", op: expect.any(String), msg: expect.stringContaining("spool state file not saved") });
    expect(typeof f.err).toBe("string");
    expect(failures[0]).not.toContain("fsync failed");
    expect(failures[0]).not.toContain("stack");
    undo.pop()!();
    disk.markDone(6);
    clock.advance(1000);
    expect(readState().doneN).toBe(6);
    expect(lines.filter((l) => l.includes("spool state file saved again") && l.includes('"level":"info"'))).toHaveLength(1);
    // A new episode is logged again.
    undo.push(makeReadOnly(dir));
    disk.markDone(7);
    clock.advance(1000);
    undo.pop()!();
    expect(lines.filter((l) => l.includes('"code":"GW_SPOOL_STATE_WRITE"') && l.includes('"level":"error"'))).toHaveLength(2);
  });

  it("a state save whose fsync fails (the tmp file is a device: EINVAL) is an fsync error; the old state stays, no temp file is left", () => {
    const { dir, clock, disk, lines, readState } = setup("interval");
    disk.load(0);
    disk.open([]);
    const tmp = join(dir, "spool.state.json.tmp");
    symlinkSync("/dev/null", tmp);
    disk.markDone(3);
    clock.advance(1000);
    expect(disk.errors).toEqual({ writeErrors: 0, fsyncErrors: 1, compactionErrors: 0 });
    expect(() => lstatSync(tmp)).toThrow();
    expect(readState().doneN).toBe(0);
    expect(lines.some((l) => l.includes('"code":"GW_SPOOL_STATE_WRITE"') && l.includes('"op":"fsync"'))).toBe(true);
    disk.markDone(3); // the next forwarded batch starts the next sync
    clock.advance(1000);
    expect(readState().doneN).toBe(3);
  });
});
