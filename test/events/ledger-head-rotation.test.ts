/**
 * Review finding: a cleanly closed ledger failed `ledger verify` ("ledger.head.json is missing")
 * when the next day's file could not be opened (ENOSPC). Rotating fsynced the old file, which
 * cleared `dirty`, so the interval timer skipped the head; close() flushed only with an open file.
 * On an existing ledger the head stayed behind, so a cut of the last entries went unnoticed. Now
 * the head is written right after the old file's fsync, and the timer and close() also write a
 * head that is due without an open file, but never one whose entries' fsync failed.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createLedger } from "../../src/output/ledger/ledger.js";
import { verifyLedgerFiles } from "../../src/output/ledger/verify.js";
import { makeEvent, rmDir, tmpDir } from "./helpers.js";
import { recordingFs } from "./ledger-fs.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(rmDir));

const DAY1 = "ledger-2026-01-01.jsonl";
const DAY2 = "2026-01-02";
const HEAD = "ledger.head.json";
const err = (code: string, syscall: string) => Object.assign(new Error(`${code}: injected, ${syscall}`), { code, syscall });

function setup(fail: (call: string, name: string) => Error | undefined, dir = tmpDir("ledger-head-rotation")) {
  if (!dirs.includes(dir)) dirs.push(dir);
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 23, 59, 59, 500));
  const ledger = createLedger({ dir, gatewayId: "gw-r", clock, fsync: "interval", fs: recordingFs(fail).fs });
  const readHead = () => JSON.parse(readFileSync(join(dir, HEAD), "utf8")) as { file: string; seq: number };
  const verify = () => verifyLedgerFiles(readdirSync(dir).filter((f) => /^ledger-.*\.jsonl$/.test(f)).sort().map((f) => join(dir, f)));
  return { dir, clock, ledger, readHead, verify };
}

/** The next day's file cannot be created (a full disk). */
const day2Full = (call: string, name: string) => (call === "open" && name.includes(DAY2) ? err("ENOSPC", "open") : undefined);

describe("ledger head when the next day's file cannot be opened", () => {
  it("a clean close passes verify: the head names the last fsynced entry (the repro)", async () => {
    const { clock, ledger, readHead, verify } = setup(day2Full);
    ledger.append(makeEvent("gw-r", "L1", 1));
    clock.setWall(Date.UTC(2026, 0, 2, 0, 0, 0, 100));
    ledger.append(makeEvent("gw-r", "L1", 2));
    expect(ledger.stats()).toMatchObject({ entries: 1, writeErrors: 1 });
    clock.advance(5000);
    await ledger.close();
    // Before: no ledger.head.json at all, and verify failed a cleanly closed ledger.
    expect(readHead()).toMatchObject({ file: DAY1, seq: 1 });
    expect(verify()).toMatchObject({ ok: true, entries: 1 });
  });

  it("the head is written at the rotation itself (a crash right after it still leaves a current head)", () => {
    const { clock, ledger, readHead } = setup(day2Full);
    ledger.append(makeEvent("gw-r", "L1", 1));
    ledger.append(makeEvent("gw-r", "L1", 2));
    clock.setWall(Date.UTC(2026, 0, 2, 0, 0, 0, 100));
    ledger.append(makeEvent("gw-r", "L1", 3));
    // No timer, no close: a power cut now. Before: no head file until one of them ran.
    expect(readHead()).toMatchObject({ file: DAY1, seq: 2 });
    void ledger.close();
  });

  it("on an existing ledger the head is not left behind, so a cut of the last entries is noticed", async () => {
    const dir = tmpDir("ledger-head-rotation");
    const first = setup(() => undefined, dir);
    first.ledger.append(makeEvent("gw-r", "L1", 1));
    await first.ledger.close();
    expect(first.readHead().seq).toBe(1);
    const { clock, ledger, readHead, verify } = setup(day2Full, dir);
    ledger.append(makeEvent("gw-r", "L1", 2));
    ledger.append(makeEvent("gw-r", "L1", 3));
    clock.setWall(Date.UTC(2026, 0, 2, 0, 0, 0, 100));
    ledger.append(makeEvent("gw-r", "L1", 4));
    clock.advance(5000);
    await ledger.close();
    // Before: the head stayed at seq 1.
    expect(readHead().seq).toBe(3);
    const file = join(dir, DAY1);
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    writeFileSync(file, lines.slice(0, 2).join("\n") + "\n");
    expect(verify().ok).toBe(false);
  });

  it("a head write that fails at the rotation is retried by the timer and by close, without an open file", async () => {
    let headFull = true;
    const fail = (call: string, name: string) => day2Full(call, name) ?? (headFull && call === "write" && name === `${HEAD}.tmp` ? err("ENOSPC", "write") : undefined);
    for (const via of ["timer", "close"] as const) {
      headFull = true;
      const { clock, ledger, readHead, dir } = setup(fail);
      ledger.append(makeEvent("gw-r", "L1", 1));
      clock.setWall(Date.UTC(2026, 0, 2, 0, 0, 0, 100));
      ledger.append(makeEvent("gw-r", "L1", 2));
      expect(existsSync(join(dir, HEAD))).toBe(false);
      headFull = false;
      if (via === "timer") {
        clock.advance(1000);
        expect(readHead().seq, via).toBe(1);
      }
      await ledger.close();
      // Before: neither wrote it (nothing dirty, no open file).
      expect(readHead().seq, via).toBe(1);
    }
  });

  it("never a head whose entries' fsync failed: the rotation's fsync fails, the next file does not open", async () => {
    const fail = (call: string, name: string) => day2Full(call, name) ?? (call === "fsync" && name === DAY1 ? err("EIO", "fsync") : undefined);
    const { clock, ledger, dir } = setup(fail);
    ledger.append(makeEvent("gw-r", "L1", 1));
    clock.setWall(Date.UTC(2026, 0, 2, 0, 0, 0, 100));
    ledger.append(makeEvent("gw-r", "L1", 2));
    clock.advance(5000);
    await ledger.close();
    expect(existsSync(join(dir, HEAD))).toBe(false);
    expect(ledger.stats()).toMatchObject({ fsyncErrors: 1, writeErrors: 1, degraded: true });
  });
});
