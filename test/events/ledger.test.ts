import { afterEach, describe, expect, it } from "vitest";
import { appendFileSync, readdirSync, readFileSync, writeFileSync, truncateSync, statSync } from "node:fs";
import { join } from "node:path";
import { FakeClock } from "../../src/core/clock.js";
import * as realFs from "node:fs";
import { createLedger, LedgerDamagedError, type LedgerFs } from "../../src/output/ledger/ledger.js";
import { verifyLedgerFiles } from "../../src/output/ledger/verify.js";
import { GENESIS } from "../../src/output/ledger/chain.js";
import ledgerCommand from "../../src/cli/commands/ledger.js";
import { captureLogger, makeEvent, rmDir, shortWritingFs, tmpDir } from "./helpers.js";
import { inProcess } from "../support/cli.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmDir(d);
});

/** Writes `perDay` entries on each of `days` UTC days and returns the files in date order. */
function writeLedger(days = 2, perDay = 5): { dir: string; files: string[] } {
  const dir = tmpDir("ledger");
  dirs.push(dir);
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 23, 0));
  let seq = 0;
  for (let d = 0; d < days; d++) {
    // Each day is a fresh process: the chain must resume from the previous file.
    const ledger = createLedger({ dir, gatewayId: "gw-l", clock, fsync: "never" });
    for (let i = 0; i < perDay; i++) ledger.append(makeEvent("gw-l", "L1", ++seq, { at: clock.now() }));
    void ledger.close();
    clock.advance(24 * 3600_000);
  }
  return { dir, files: readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort().map((f) => join(dir, f)) };
}

const linesOf = (f: string) => readFileSync(f, "utf8").split("\n").filter(Boolean);
const writeLines = (f: string, lines: string[]) => writeFileSync(f, lines.map((l) => l + "\n").join(""));

describe("verdict ledger", () => {
  it("a previous day's file that cannot be read is named as the break, not thrown", () => {
    const { files } = writeLedger(2, 3);
    // The first day's file replaced by a directory (EISDIR; EACCES for another user behaves alike).
    realFs.rmSync(files[0]!);
    realFs.mkdirSync(files[0]!);
    const r = verifyLedgerFiles(files.slice(1));
    expect(r.ok).toBe(false);
    expect(r.firstBroken?.problem).toContain("ledger-2026-01-01.jsonl cannot be read (EISDIR)");
  });

  it("rotates daily by UTC date, continues the chain across files, and verifies", () => {
    const { files } = writeLedger(3, 4);
    expect(files.map((f) => f.split("/").pop())).toEqual(["ledger-2026-01-01.jsonl", "ledger-2026-01-02.jsonl", "ledger-2026-01-03.jsonl"]);
    const first = JSON.parse(linesOf(files[0]!)[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ seq: 1, gw: "gw-l", lane: "L1", id: "gw-l:L1:1", verdict: "PASS", reason: "OK", format: "dcc", kid: "a1b2c3d4e5f6a7b8", trust: "2026-01-01T00:00:00Z#12", prev: GENESIS });
    expect(Object.keys(first)).toEqual(["seq", "time", "gw", "lane", "id", "verdict", "reason", "format", "kid", "issuer", "trust", "cred", "prev", "hash"]);
    const day2 = JSON.parse(linesOf(files[1]!)[0]!) as { prev: string; seq: number };
    expect(day2.prev).toBe((JSON.parse(linesOf(files[0]!).at(-1)!) as { hash: string }).hash);
    expect(verifyLedgerFiles(files)).toMatchObject({ ok: true, entries: 12, firstSeq: 1, lastSeq: 12 });
    // Older days alone still verify (the head file speaks only for the newest file).
    expect(verifyLedgerFiles(files.slice(0, 2))).toMatchObject({ ok: true, entries: 8 });
    expect(verifyLedgerFiles(files.slice(1))).toMatchObject({ ok: true, firstSeq: 5 });
  });

  it("detects an edited entry", () => {
    const { files } = writeLedger();
    const lines = linesOf(files[0]!);
    lines[2] = lines[2]!.replace('"verdict":"FLAG"', '"verdict":"PASS"');
    writeLines(files[0]!, lines);
    expect(verifyLedgerFiles(files)).toMatchObject({ ok: false, entries: 2, firstBroken: { file: files[0], line: 3, problem: expect.stringContaining("edited") } });
  });

  it("detects a deleted entry", () => {
    const { files } = writeLedger();
    const lines = linesOf(files[0]!);
    lines.splice(1, 1);
    writeLines(files[0]!, lines);
    expect(verifyLedgerFiles(files).firstBroken).toMatchObject({ file: files[0], line: 2, problem: expect.stringContaining("deleted") });
  });

  it("detects a deleted entry even when later seq numbers were renumbered", () => {
    const { files } = writeLedger();
    const lines = linesOf(files[0]!).map((l) => JSON.parse(l) as Record<string, unknown>);
    lines.splice(1, 1);
    // The attacker renumbers but cannot recompute hashes without breaking them: the edit shows.
    const out = lines.map((e, i) => JSON.stringify({ ...e, seq: i + 1 }));
    writeLines(files[0]!, out);
    expect(verifyLedgerFiles(files).firstBroken).toMatchObject({ line: 2 });
  });

  it("detects reordered entries", () => {
    const { files } = writeLedger();
    const lines = linesOf(files[1]!);
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    writeLines(files[1]!, lines);
    expect(verifyLedgerFiles(files).firstBroken).toMatchObject({ file: files[1], line: 2, problem: expect.stringContaining("deleted") });
  });

  it("detects a truncated last line, a cut tail, and a missing middle file", () => {
    const { files } = writeLedger(3, 4);
    const last = files[2]!;
    const original = readFileSync(last, "utf8");
    truncateSync(last, statSync(last).size - 20);
    expect(verifyLedgerFiles(files).firstBroken).toMatchObject({ file: last, line: 4, problem: expect.stringContaining("truncated") });
    // Whole lines cut from the end: only the head file can tell.
    writeLines(last, linesOf(last).slice(0, 2));
    expect(verifyLedgerFiles(files).firstBroken).toMatchObject({ file: last, line: 3, problem: expect.stringContaining("cut from the end") });
    writeFileSync(last, original);
    expect(verifyLedgerFiles(files).ok).toBe(true);
    expect(verifyLedgerFiles([files[0]!, files[2]!]).firstBroken).toMatchObject({ file: files[2], line: 1, problem: expect.stringContaining("deleted") });
  });

  it("resumes after a crash that left a partial line, and counts the cut for /metrics", () => {
    const { dir, files } = writeLedger(1, 3);
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 23, 30));
    // A clean start cuts nothing.
    const clean = createLedger({ dir, gatewayId: "gw-l", clock });
    expect(clean.stats().tornEntriesCut).toBe(0);
    void clean.close();
    appendFileSync(files[0]!, '{"seq":4,"time":"2026-01-0');
    const ledger = createLedger({ dir, gatewayId: "gw-l", clock });
    expect(ledger.stats().tornEntriesCut).toBe(1);
    ledger.append(makeEvent("gw-l", "L1", 4));
    void ledger.close();
    expect(verifyLedgerFiles(files)).toMatchObject({ ok: true, entries: 4 });
    // A newest file that holds only a torn line is cut to empty and the chain resumes from the day before.
    const next = join(dir, "ledger-2026-01-02.jsonl");
    writeFileSync(next, '{"seq":5,"ti');
    const after = createLedger({ dir, gatewayId: "gw-l", clock });
    expect(after.stats().tornEntriesCut).toBe(1);
    expect(after.head()).toMatchObject({ file: "ledger-2026-01-01.jsonl", seq: 4 });
    expect(readFileSync(next, "utf8")).toBe("");
    void after.close();
  });

  it("refuses to go on from a damaged last complete line, naming the file and line, and leaves the file as it is", () => {
    for (const damage of ["not json at all", '{"seq":"4","hash":"ab"}', JSON.stringify({ seq: 4, time: "2026-01-01T23:00:00.000Z" })]) {
      const { dir, files } = writeLedger(1, 3);
      appendFileSync(files[0]!, damage + "\n");
      const before = readFileSync(files[0]!, "utf8");
      let err: unknown;
      try {
        createLedger({ dir, gatewayId: "gw-l" });
      } catch (e) {
        err = e;
      }
      expect(err, damage).toBeInstanceOf(LedgerDamagedError);
      expect(err).toMatchObject({ code: "GW_LEDGER_DAMAGED", file: "ledger-2026-01-01.jsonl", line: 4 });
      expect(readFileSync(files[0]!, "utf8")).toBe(before);
      // The error names the place, never the line's content.
      expect((err as Error).message).not.toContain(damage);
    }
  });

  it("a clock stepped back keeps appending to the newest file (file order stays chain order)", () => {
    const dir = tmpDir("ledger-clock");
    dirs.push(dir);
    const clock = new FakeClock(Date.UTC(2026, 0, 2, 0, 10));
    const ledger = createLedger({ dir, gatewayId: "gw-l", clock, fsync: "always" });
    ledger.append(makeEvent("gw-l", "L1", 1));
    clock.setWall(Date.UTC(2026, 0, 1, 23, 59));
    ledger.append(makeEvent("gw-l", "L1", 2));
    void ledger.close();
    expect(readdirSync(dir).filter((f) => f.endsWith(".jsonl"))).toEqual(["ledger-2026-01-02.jsonl"]);
    expect(verifyLedgerFiles([join(dir, "ledger-2026-01-02.jsonl")])).toMatchObject({ ok: true, entries: 2 });
    expect(ledger.head()).toMatchObject({ file: "ledger-2026-01-02.jsonl", seq: 2 });
  });

  it("keeps only allowlisted, PII-free fields", () => {
    const dir = tmpDir("ledger-pii");
    dirs.push(dir);
    const ledger = createLedger({ dir, gatewayId: "gw-l", clock: new FakeClock() });
    ledger.append({ ...makeEvent("gw-l", "L1", 1), holderName: "Nguyen Van Secret", payload: "HC1:SECRET" } as never);
    void ledger.close();
    const text = readdirSync(dir).map((f) => readFileSync(join(dir, f), "utf8")).join("");
    expect(text).not.toMatch(/Secret|SECRET|holderName|payload"/);
  });

  it("CLI: exit 0 when intact, 1 naming the first broken entry, 64 on usage", async () => {
    const { files } = writeLedger();
    const verify = (...args: string[]) => inProcess(() => ledgerCommand(["verify", ...args]));
    expect(await verify(files[1]!, files[0]!)).toMatchObject({ code: 0, out: expect.stringContaining("ok: 10 entries") });
    const lines = linesOf(files[0]!);
    lines[0] = lines[0]!.replace('"lane":"L1"', '"lane":"L9"');
    writeLines(files[0]!, lines);
    expect(await verify(...files)).toMatchObject({ code: 1, out: expect.stringMatching(/GW_LEDGER_BROKEN .*ledger-2026-01-01\.jsonl:1: entry seq 1 was edited/) });
    expect((await verify()).code).toBe(64);
    expect((await verify("--bogus", files[0]!)).code).toBe(64);
    expect(await verify(join(tmpdirOf(files[0]!), "missing.jsonl"))).toMatchObject({ code: 1, out: expect.stringContaining("cannot read file (ENOENT)") });
  });
});

function tmpdirOf(f: string): string {
  return f.slice(0, f.lastIndexOf("/"));
}

describe("ledger truncation at both ends (#11.7)", () => {
  it("deleted first entries: the chain must start at genesis or continue the previous day's file", () => {
    const { files } = writeLedger(3, 4);
    // Intact: a set that starts mid-chain is anchored by the previous day's file in the same directory.
    expect(verifyLedgerFiles(files.slice(1))).toMatchObject({ ok: true, firstSeq: 5, startAnchor: "previous-file" });
    expect(verifyLedgerFiles(files)).toMatchObject({ ok: true, startAnchor: "genesis" });
    const day2 = linesOf(files[1]!);
    writeLines(files[1]!, day2.slice(2));
    expect(verifyLedgerFiles(files.slice(1)).firstBroken).toMatchObject({ file: files[1], line: 1, problem: expect.stringContaining("deleted at the start") });
    writeLines(files[1]!, day2);
    const day1 = linesOf(files[0]!);
    writeLines(files[0]!, day1.slice(1));
    expect(verifyLedgerFiles(files).firstBroken).toMatchObject({ file: files[0], line: 1, problem: expect.stringContaining("first entries were deleted") });
  });

  it("a deleted first day file is caught; a trusted head (--from) anchors archived days", () => {
    const { files } = writeLedger(2, 4);
    const day1Last = JSON.parse(linesOf(files[0]!).at(-1)!) as { seq: number; hash: string };
    rmDir(files[0]!);
    expect(verifyLedgerFiles(files.slice(1)).firstBroken).toMatchObject({ line: 1, problem: expect.stringContaining("no earlier ledger file or --from head") });
    expect(verifyLedgerFiles(files.slice(1), { from: { file: "ledger-2026-01-01.jsonl", seq: day1Last.seq, hash: day1Last.hash } })).toMatchObject({ ok: true, startAnchor: "from-head" });
    expect(verifyLedgerFiles(files.slice(1), { from: { file: "x", seq: day1Last.seq - 1, hash: day1Last.hash } }).ok).toBe(false);
  });

  it("tail cut together with ledger.head.json: a missing head file is caught, a rewritten one only by the anchored head", () => {
    const { dir, files } = writeLedger(2, 4);
    const last = files[1]!;
    const lines = linesOf(last);
    const anchored = { file: "ledger-2026-01-02.jsonl", seq: 8, hash: (JSON.parse(lines.at(-1)!) as { hash: string }).hash };
    expect(verifyLedgerFiles(files, { head: anchored })).toMatchObject({ ok: true, headChecked: true });
    writeLines(last, lines.slice(0, 2));
    rmDir(join(dir, "ledger.head.json"));
    expect(verifyLedgerFiles(files).firstBroken).toMatchObject({ file: last, problem: expect.stringContaining("ledger.head.json is missing") });
    // The attacker writes a matching head file: the local check passes, the anchored head does not.
    const cut = JSON.parse(lines[1]!) as { seq: number; hash: string };
    writeFileSync(join(dir, "ledger.head.json"), JSON.stringify({ file: "ledger-2026-01-02.jsonl", seq: cut.seq, hash: cut.hash }));
    expect(verifyLedgerFiles(files).ok).toBe(true);
    expect(verifyLedgerFiles(files, { head: anchored }).firstBroken).toMatchObject({ problem: expect.stringContaining("ends at seq 6 but the anchored head records seq 8") });
  });

  it("a chain recomputed after an edit (hashes and head file redone) differs from the anchored head", () => {
    const { dir, files } = writeLedger(1, 4);
    const anchoredLine = JSON.parse(linesOf(files[0]!).at(-1)!) as { seq: number; hash: string };
    // Rebuild the whole chain with one verdict changed, as someone with write access could.
    rmDir(files[0]!);
    rmDir(join(dir, "ledger.head.json"));
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 23, 0));
    const l = createLedger({ dir, gatewayId: "gw-l", clock, fsync: "never" });
    for (let i = 1; i <= 4; i++) l.append(makeEvent("gw-l", "L1", i, { at: clock.now(), ...(i === 3 ? { verdict: "PASS", reason: "OK" } : {}) }));
    void l.close();
    expect(verifyLedgerFiles(files).ok).toBe(true);
    expect(verifyLedgerFiles(files, { head: { file: "ledger-2026-01-01.jsonl", seq: anchoredLine.seq, hash: anchoredLine.hash } }).firstBroken).toMatchObject({ problem: expect.stringContaining("differs from the anchored head") });
  });
});

describe("ledger fsync failure (#11.10: EIO must not kill the gateway)", () => {
  it("an EIO from the interval fsync is logged, counted and marks the ledger degraded; appends go on", () => {
    const dir = tmpDir("ledger-eio");
    dirs.push(dir);
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 10, 0));
    const { logger, lines } = captureLogger();
    let failFsync = false;
    const fs: LedgerFs = {
      ...realFs,
      fsyncSync: (fd: number) => {
        if (failFsync) throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
        realFs.fsyncSync(fd);
      },
    };
    const ledger = createLedger({ dir, gatewayId: "gw-l", clock, logger, fsync: "interval", fs });
    ledger.append(makeEvent("gw-l", "L1", 1));
    failFsync = true;
    // The timer callback runs inside advance(): before the fix the EIO was thrown out of it.
    expect(() => clock.advance(1000)).not.toThrow();
    expect(ledger.stats()).toMatchObject({ entries: 1, fsyncErrors: 1, degraded: true });
    expect(lines.some((l) => l.includes('"code":"GW_LEDGER_FSYNC"') && l.includes('"level":"error"'))).toBe(true);
    ledger.append(makeEvent("gw-l", "L1", 2));
    expect(() => clock.advance(1000)).not.toThrow();
    failFsync = false;
    expect(ledger.stats()).toMatchObject({ entries: 2, fsyncErrors: 2 });
    void ledger.close();
    expect(verifyLedgerFiles([join(dir, "ledger-2026-01-01.jsonl")])).toMatchObject({ ok: true, entries: 2 });
  });

  it("a failing write is counted and the chain does not advance (the next entry still links)", () => {
    const dir = tmpDir("ledger-eio");
    dirs.push(dir);
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 10, 0));
    let failWrite = false;
    const fs: LedgerFs = {
      ...realFs,
      writeSync: ((fd: number, s: string) => {
        if (failWrite) throw Object.assign(new Error("EIO: i/o error, write"), { code: "EIO" });
        return realFs.writeSync(fd, s);
      }) as LedgerFs["writeSync"],
    };
    const ledger = createLedger({ dir, gatewayId: "gw-l", clock, fsync: "always", fs });
    ledger.append(makeEvent("gw-l", "L1", 1));
    failWrite = true;
    expect(() => ledger.append(makeEvent("gw-l", "L1", 2))).not.toThrow();
    failWrite = false;
    ledger.append(makeEvent("gw-l", "L1", 3));
    void ledger.close();
    expect(ledger.stats()).toMatchObject({ entries: 2, writeErrors: 1, degraded: true });
    expect(verifyLedgerFiles([join(dir, "ledger-2026-01-01.jsonl")])).toMatchObject({ ok: true, entries: 2 });
  });
});

describe("ledger: a short write (a full disk takes part of a line)", () => {
  /** A ledger on a disk that writes half a line when `o.shortWrites` > 0 and refuses `o.failCuts` truncates. */
  function onFullDisk(name: string) {
    const dir = tmpDir(name);
    dirs.push(dir);
    const o = { shortWrites: 0, failCuts: 0 };
    const fs: LedgerFs = { ...realFs, ...shortWritingFs(o) };
    const ledger = createLedger({ dir, gatewayId: "gw-l", clock: new FakeClock(Date.UTC(2026, 0, 1, 10, 0)), fsync: "never", fs });
    return { o, ledger, file: join(dir, "ledger-2026-01-01.jsonl") };
  }

  it("cuts the part it wrote, counts the failure, and the chain goes on whole", () => {
    const { o, ledger, file } = onFullDisk("ledger-short");
    ledger.append(makeEvent("gw-l", "L1", 1));
    o.shortWrites = 1;
    expect(() => ledger.append(makeEvent("gw-l", "L1", 2))).not.toThrow();
    ledger.append(makeEvent("gw-l", "L1", 3));
    void ledger.close();
    expect(ledger.stats()).toMatchObject({ entries: 2, writeErrors: 1, degraded: true });
    expect(linesOf(file).map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(["gw-l:L1:1", "gw-l:L1:3"]);
    expect(verifyLedgerFiles([file])).toMatchObject({ ok: true, entries: 2 });
  });

  it("appends nothing after a fragment it could not cut yet, and cuts it at the next append", () => {
    const { o, ledger, file } = onFullDisk("ledger-short-cut");
    ledger.append(makeEvent("gw-l", "L1", 1));
    o.shortWrites = 1;
    o.failCuts = 2; // the cut right after the short write, and the retry at the next append
    ledger.append(makeEvent("gw-l", "L1", 2));
    ledger.append(makeEvent("gw-l", "L1", 3));
    // The fragment is still there, alone at the end: nothing was glued to it.
    expect(readFileSync(file, "utf8").endsWith("\n")).toBe(false);
    ledger.append(makeEvent("gw-l", "L1", 4));
    void ledger.close();
    expect(ledger.stats()).toMatchObject({ entries: 2, writeErrors: 2 });
    expect(linesOf(file).map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(["gw-l:L1:1", "gw-l:L1:4"]);
    expect(verifyLedgerFiles([file])).toMatchObject({ ok: true, entries: 2 });
  });
});

describe("ledger: a verdict handed over twice", () => {
  it("is written once; the repeat is counted and logged, and the chain stays whole", () => {
    const dir = tmpDir("ledger-dup");
    dirs.push(dir);
    const { logger, lines } = captureLogger();
    const ledger = createLedger({ dir, gatewayId: "gw-l", clock: new FakeClock(Date.UTC(2026, 0, 1, 10, 0)), logger, fsync: "never" });
    ledger.append(makeEvent("gw-l", "L1", 1));
    ledger.append(makeEvent("gw-l", "L1", 2));
    // A replay (an outputs swap) hands over the last two again, then the next verdict follows.
    ledger.append(makeEvent("gw-l", "L1", 1));
    ledger.append(makeEvent("gw-l", "L1", 2));
    ledger.append(makeEvent("gw-l", "L1", 3));
    void ledger.close();
    const file = join(dir, "ledger-2026-01-01.jsonl");
    const ids = readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual(["gw-l:L1:1", "gw-l:L1:2", "gw-l:L1:3"]);
    expect(ledger.stats()).toMatchObject({ entries: 3, duplicates: 2 });
    expect(ledger.head()).toMatchObject({ seq: 3 });
    expect(lines.filter((l) => l.includes("handed to the ledger twice"))).toHaveLength(1);
    expect(verifyLedgerFiles([file])).toMatchObject({ ok: true, entries: 3 });
  });
});
