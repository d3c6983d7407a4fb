/**
 * Audit (disk) finding 1: ledger.head.json was replaced with open, write, close, rename and no
 * fsync: after a power cut on a file system without ext4's rename heuristic the head could be
 * empty and `ledger verify` reported tampering. The head is now replaced through atomic-file.ts
 * (tmp fsynced, rename, directory fsynced), only after the entries it names are fsynced, and under
 * the interval policy once per sync rather than per entry. The call order is read from a
 * recording fs passed through the ledger's fs seam.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createLedger } from "../../src/output/ledger/ledger.js";
import { verifyLedgerFiles } from "../../src/output/ledger/verify.js";
import { captureLogger, makeEvent, rmDir, tmpDir } from "./helpers.js";
import { recordingFs } from "./ledger-fs.js";

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(rmDir));

const DAY = "ledger-2026-01-01.jsonl";
const HEAD = "ledger.head.json";

function setup(policy: "always" | "interval" | "never", fail?: (call: string, name: string) => Error | undefined) {
  const dir = tmpDir("ledger-head-durable");
  dirs.push(dir);
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 10, 0));
  const { logger, lines } = captureLogger();
  const { fs, calls } = recordingFs(fail);
  const ledger = createLedger({ dir, gatewayId: "gw-h", clock, logger, fsync: policy, fs });
  const readHead = () => JSON.parse(readFileSync(join(dir, HEAD), "utf8")) as { seq: number };
  return { dir, clock, ledger, calls, lines, readHead, dirName: basename(dir) };
}

describe("ledger head file: durable, never ahead of the entries", () => {
  it("fsync always: entry fsynced, then head tmp written and fsynced, renamed, directory fsynced", () => {
    const { ledger, calls, dirName, readHead } = setup("always");
    // The first entry opens the day file (and saves the lane marks): the second shows an entry alone.
    ledger.append(makeEvent("gw-h", "L1", 1));
    calls.length = 0;
    ledger.append(makeEvent("gw-h", "L1", 2));
    expect(calls).toEqual([
      `write ${DAY}`,
      `fsync ${DAY}`,
      `open ${HEAD}.tmp`,
      `write ${HEAD}.tmp`,
      `fsync ${HEAD}.tmp`,
      `close ${HEAD}.tmp`,
      `rename ${HEAD}.tmp>${HEAD}`,
      `open ${dirName}`,
      `fsync ${dirName}`,
      `close ${dirName}`,
    ]);
    expect(readHead().seq).toBe(2);
    void ledger.close();
  });

  it("fsync interval: the head follows with the once-a-second fsync, not per entry, and after the entries' fsync", () => {
    const { dir, clock, ledger, calls, dirName, readHead } = setup("interval");
    ledger.append(makeEvent("gw-h", "L1", 1));
    calls.length = 0;
    for (let i = 2; i <= 5; i++) ledger.append(makeEvent("gw-h", "L1", i));
    // Before: a head rename (without fsync) per entry.
    expect(existsSync(join(dir, HEAD))).toBe(false);
    expect(calls.filter((c) => c.startsWith("fsync"))).toEqual([]);
    clock.advance(1000);
    expect(readHead().seq).toBe(5);
    const syncs = calls.filter((c) => c.startsWith("fsync") || c.startsWith("rename"));
    expect(syncs).toEqual([`fsync ${DAY}`, `fsync ${HEAD}.tmp`, `rename ${HEAD}.tmp>${HEAD}`, `fsync ${dirName}`]);
    ledger.append(makeEvent("gw-h", "L1", 6));
    void ledger.close();
    // close fsyncs the entries, then writes the head.
    expect(readHead().seq).toBe(6);
    expect(verifyLedgerFiles([join(dir, DAY)])).toMatchObject({ ok: true, entries: 6 });
  });

  it("fsync interval: when the entries' fsync fails the head is not moved past them", () => {
    let eio = false;
    const { ledger, clock, readHead, dir } = setup("interval", (call, name) => (eio && call === "fsync" && name === DAY ? Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO", syscall: "fsync" }) : undefined));
    ledger.append(makeEvent("gw-h", "L1", 1));
    clock.advance(1000);
    expect(readHead().seq).toBe(1);
    eio = true;
    ledger.append(makeEvent("gw-h", "L1", 2));
    clock.advance(1000);
    expect(readHead().seq).toBe(1);
    expect(ledger.stats()).toMatchObject({ fsyncErrors: 1, writeErrors: 0, degraded: true });
    eio = false;
    void ledger.close();
    expect(readHead().seq).toBe(2);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("a head write refused by a full disk (ENOSPC) leaves the old head and no temp file; counted; the next one goes through", () => {
    let full = false;
    const { dir, ledger, readHead, lines } = setup("always", (call, name) => (full && call === "write" && name === `${HEAD}.tmp` ? Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write" }) : undefined));
    ledger.append(makeEvent("gw-h", "L1", 1));
    full = true;
    ledger.append(makeEvent("gw-h", "L1", 2));
    // Before: a 0-byte ledger.head.json.tmp stayed behind.
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(readHead().seq).toBe(1);
    expect(ledger.stats()).toMatchObject({ entries: 2, writeErrors: 1, fsyncErrors: 0 });
    expect(lines.some((l) => l.includes('"code":"GW_LEDGER_FSYNC"') && l.includes("ENOSPC"))).toBe(true);
    full = false;
    ledger.append(makeEvent("gw-h", "L1", 3));
    expect(readHead().seq).toBe(3);
    void ledger.close();
    expect(verifyLedgerFiles([join(dir, DAY)])).toMatchObject({ ok: true, entries: 3 });
  });

  it("a head whose fsync fails is an fsync error, not a write error", () => {
    let eio = false;
    const { ledger } = setup("always", (call, name) => (eio && call === "fsync" && name === `${HEAD}.tmp` ? Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO", syscall: "fsync" }) : undefined));
    eio = true;
    ledger.append(makeEvent("gw-h", "L1", 1));
    expect(ledger.stats()).toMatchObject({ writeErrors: 0, fsyncErrors: 1 });
    eio = false;
    void ledger.close();
  });

  it("fsync never: the head is replaced per entry (atomically) without any fsync", () => {
    const { ledger, calls, readHead } = setup("never");
    ledger.append(makeEvent("gw-h", "L1", 1));
    ledger.append(makeEvent("gw-h", "L1", 2));
    expect(readHead().seq).toBe(2);
    expect(calls.filter((c) => c.startsWith("fsync"))).toEqual([]);
    void ledger.close();
  });
});
