/**
 * Audit 2 findings 2 and 4: `ledger verify` trusted the directory's head file only when it named
 * the last file given, and nothing anchored the end of a range that was not the newest day.
 */
import { afterEach, describe, expect, it } from "vitest";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeClock } from "../../src/core/clock.js";
import { createLedger } from "../../src/output/ledger/ledger.js";
import { hashBody } from "../../src/output/ledger/chain.js";
import ledgerCommand from "../../src/cli/commands/ledger.js";
import { makeEvent, rmDir, tmpDir } from "./helpers.js";
import { inProcess } from "../support/cli.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmDir(d);
});

/** Two days of three entries each, written by the real writer. */
function writeLedger(): { dir: string; files: string[] } {
  const dir = tmpDir("ledger-head");
  dirs.push(dir);
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 23, 0));
  let seq = 0;
  for (let d = 0; d < 2; d++) {
    const ledger = createLedger({ dir, gatewayId: "gw-h", clock, fsync: "never" });
    for (let i = 0; i < 3; i++) ledger.append(makeEvent("gw-h", "L1", ++seq, { at: clock.now() }));
    void ledger.close();
    clock.advance(24 * 3600_000);
  }
  return { dir, files: readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort().map((f) => join(dir, f)) };
}

const linesOf = (f: string) => readFileSync(f, "utf8").split("\n").filter(Boolean);
const writeLines = (f: string, lines: string[]) => writeFileSync(f, lines.map((l) => l + "\n").join(""));

/** Runs the real CLI on `files`; returns the exit code and everything it printed. */
const verify = (files: string[]) => inProcess(() => ledgerCommand(["verify", ...files]));

describe("ledger verify: the directory's ledger.head.json", () => {
  it("intact: exit 0; a subset of older days says the head was not checked", async () => {
    const { files } = writeLedger();
    expect(await verify(files)).toMatchObject({ code: 0, out: expect.not.stringContaining("not checked") });
    expect(await verify(files.slice(0, 1))).toMatchObject({ code: 0, out: expect.stringContaining("ledger.head.json not checked (it names ledger-2026-01-02.jsonl, not given)") });
  });

  it("the newest day file deleted, its head left: exit 1", async () => {
    const { files } = writeLedger();
    rmDir(files[1]!);
    expect(await verify(files.slice(0, 1))).toMatchObject({ code: 1, out: expect.stringContaining("names ledger-2026-01-02.jsonl, which is not in the directory") });
  });

  it.each([
    ["garbled", "x\n", "unparsable"],
    ["an empty object", "{}\n", "is not a ledger head"],
    // A head cut to 0 bytes by a power loss is still no head to trust, but named as such.
    ["empty (0 bytes)", "", "is empty (0 bytes): a head write cut by a power loss"],
  ])("tail cut and the head %s: exit 1", async (_what, body, problem) => {
    const { dir, files } = writeLedger();
    writeLines(files[1]!, linesOf(files[1]!).slice(0, 1));
    writeFileSync(join(dir, "ledger.head.json"), body);
    expect(await verify(files)).toMatchObject({ code: 1, out: expect.stringContaining(problem) });
  });

  it("tail cut and the head renamed to a later day's file: exit 1", async () => {
    const { dir, files } = writeLedger();
    writeLines(files[1]!, linesOf(files[1]!).slice(0, 1));
    const head = JSON.parse(readFileSync(join(dir, "ledger.head.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(dir, "ledger.head.json"), JSON.stringify({ ...head, file: "ledger-2026-01-03.jsonl" }));
    expect(await verify(files)).toMatchObject({ code: 1, out: expect.stringContaining("names ledger-2026-01-03.jsonl, which is not in the directory") });
  });
});

describe("ledger verify: a day verified alone is anchored at its end by the next day's file", () => {
  /** Re-hashes an entry after `edit`, as someone with write access could. */
  const rehash = (line: string, edit: (b: Record<string, unknown>) => void) => {
    const { hash: _hash, ...body } = JSON.parse(line) as Record<string, unknown>;
    edit(body);
    const json = JSON.stringify(body);
    return `${json.slice(0, -1)},"hash":"${hashBody(json)}"}`;
  };

  it("the last entry of an older day rewritten and re-hashed: exit 1 alone, as with every day", async () => {
    const { files } = writeLedger();
    expect(await verify(files.slice(0, 1))).toMatchObject({ code: 0 });
    const day1 = linesOf(files[0]!);
    day1[day1.length - 1] = rehash(day1.at(-1)!, (b) => {
      b.verdict = "FLAG";
      b.reason = "REVOKED";
    });
    writeLines(files[0]!, day1);
    expect(await verify(files)).toMatchObject({ code: 1 });
    expect(await verify(files.slice(0, 1))).toMatchObject({ code: 1, out: expect.stringContaining("ledger-2026-01-02.jsonl does not continue this one") });
  });

  it("the last entry of an older day cut: exit 1 alone", async () => {
    const { files } = writeLedger();
    writeLines(files[0]!, linesOf(files[0]!).slice(0, -1));
    expect(await verify(files.slice(0, 1))).toMatchObject({ code: 1, out: expect.stringContaining("expected seq 3") });
  });
});
