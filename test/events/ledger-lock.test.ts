/**
 * Audit 2 finding 3: two gateways sharing a stateDir wrote two chains into one ledger. The ledger
 * directory now has an O_EXCL lock file; a second live writer leaves its ledger off, loudly.
 */
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { configSchema } from "../../src/config/schema.js";
import { GatewayBus } from "../../src/core/bus.js";
import { startOutputs } from "../../src/app/outputs.js";
import { createLedger } from "../../src/output/ledger/ledger.js";
import { LedgerLockedError, LOCK_FILE, lockLedgerDir } from "../../src/output/ledger/lock.js";
import { verifyLedgerFiles } from "../../src/output/ledger/verify.js";
import { captureLogger, makeEvent, rmDir, tmpDir } from "./helpers.js";

const dirs: string[] = [];
let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = once(child, "exit");
    child.kill("SIGKILL");
    await gone;
  }
  child = undefined;
  for (const d of dirs.splice(0)) rmDir(d);
});

function stateDir(): string {
  const d = tmpDir("ledger-lock");
  dirs.push(d);
  return d;
}

/** Another gateway process: opens the ledger under `dir` (the built one), writes one entry, stays up. */
async function otherWriter(dir: string): Promise<ChildProcess> {
  const mod = resolve("dist/src/output/ledger/ledger.js");
  const code = `import { createLedger } from ${JSON.stringify(mod)};
const l = createLedger({ dir: ${JSON.stringify(dir)}, gatewayId: "gw-a", fsync: "never" });
l.append({ id: "gw-a:L1:1", gatewayId: "gw-a", lane: "L1", cameraId: "c", seq: 1, at: Date.now(), verdict: "PASS", reason: "OK", format: "dcc" });
process.stdout.write("ready\\n");
setInterval(() => {}, 1000);`;
  const c = spawn(process.execPath, ["--input-type=module", "-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(c.stdout!, "data")) as [Buffer];
  expect(line.toString()).toContain("ready");
  return c;
}

const ledgerText = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .map((f) => readFileSync(join(dir, f), "utf8"))
    .join("");

describe("one writer per ledger directory", () => {
  it("a second gateway on the same stateDir leaves its ledger off while the first lives, and takes over once it died", async () => {
    const state = stateDir();
    const dir = join(state, "ledger");
    child = await otherWriter(dir);
    const before = ledgerText(dir);
    const cfg = configSchema.parse({ gateway: { id: "gw-b", stateDir: state }, cameras: [], lanes: [{ id: "L1" }] });
    const { logger, lines } = captureLogger();
    const bus = new GatewayBus();
    const out = await startOutputs(cfg, bus, logger, undefined);
    expect(out.off.get("ledger")).toBeInstanceOf(LedgerLockedError);
    expect(lines.map((l) => JSON.parse(l) as { code?: string; level: string }).some((l) => l.code === "GW_LEDGER_LOCKED" && l.level === "error")).toBe(true);
    bus.emit("verdict", makeEvent("gw-b", "L1", 1));
    expect(out.ledgerStats!()).toMatchObject({ degraded: true, writeErrors: 2 });
    await out.close();
    expect(ledgerText(dir)).toBe(before);

    // The first gateway dies without removing its lock: a dead pid's lock is taken over.
    const gone = once(child, "exit");
    child.kill("SIGKILL");
    await gone;
    const again = await startOutputs(cfg, bus, logger, undefined);
    expect(again.off.size).toBe(0);
    bus.emit("verdict", makeEvent("gw-b", "L1", 2));
    await again.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const files = readdirSync(dir).filter((f) => f.endsWith(".jsonl")).map((f) => join(dir, f));
    expect(verifyLedgerFiles(files)).toMatchObject({ ok: true, entries: 2 });
  });

  it("in one process: a second ledger on an open one's directory is refused; once it is closed (a reload), it starts", async () => {
    const dir = stateDir();
    const old = createLedger({ dir, gatewayId: "gw-r", fsync: "never" });
    expect(() => createLedger({ dir, gatewayId: "gw-r", fsync: "never" })).toThrow(LedgerLockedError);
    await old.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const fresh = createLedger({ dir, gatewayId: "gw-r", fsync: "never" });
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    await fresh.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it("a lock left by an earlier process with our pid (a restarted container) is taken over with a warning; a live pid's is not (rules: src/core/dir-lock.test.ts)", async () => {
    const dir = stateDir();
    const lock = join(dir, LOCK_FILE);
    writeFileSync(lock, JSON.stringify({ pid: process.pid, instance: "an-earlier-process", host: hostname(), startedAt: Date.now() }));
    const { logger, lines } = captureLogger();
    await createLedger({ dir, gatewayId: "gw-r", fsync: "never", logger }).close();
    expect(lines.map((l) => JSON.parse(l) as { msg: string; level: string }).some((l) => l.msg === "taking over a stale ledger lock")).toBe(true);
    child = await otherWriter(join(dir, "other"));
    writeFileSync(lock, JSON.stringify({ pid: child.pid, instance: "another-process", host: hostname(), startedAt: Date.now() }));
    expect(() => lockLedgerDir(dir)).toThrow(LedgerLockedError);
    expect(() => lockLedgerDir(dir)).toThrow(`held by pid ${child.pid} on ${hostname()}`);
    expect(JSON.parse(readFileSync(lock, "utf8"))).toMatchObject({ pid: child.pid });
  });
});
