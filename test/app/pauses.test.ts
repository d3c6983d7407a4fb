import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/core/logger.js";
import { FilePauseStore, type PauseStore } from "../../src/lane/index.js";
import { LanePauses } from "../../src/app/pauses.js";

const dir = mkdtempSync(join(tmpdir(), "cpgw-pauses-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const collecting = () => {
  const lines: Array<{ level: string; msg: string }> = [];
  return { lines, logger: createLogger({ level: "debug", destination: { write: (s: string) => void lines.push(JSON.parse(s)) } }) };
};

describe("lane pauses", () => {
  it("a pause survives a restart; a forgotten (removed) lane does not", () => {
    const stateDir = join(dir, "restart");
    const { logger } = collecting();
    const first = new LanePauses(new FilePauseStore(stateDir), logger);
    first.set("L1", true);
    first.set("L2", true);
    first.set("L2", false);
    const second = new LanePauses(new FilePauseStore(stateDir), logger);
    expect([second.has("L1"), second.has("L2")]).toEqual([true, false]);
    second.forget(["L1"]);
    expect(new LanePauses(new FilePauseStore(stateDir), logger).has("L1")).toBe(false);
  });

  it("an unreadable state file fails safe: every lane starts paused until an officer decides, and it says so", () => {
    const stateDir = join(dir, "torn");
    mkdirSync(join(stateDir, "lanes"), { recursive: true });
    writeFileSync(join(stateDir, "lanes", "paused.json"), "{not json");
    const { lines, logger } = collecting();
    const p = new LanePauses(new FilePauseStore(stateDir), logger);
    expect([p.has("L1"), p.has("L2"), p.has("L3")]).toEqual([true, true, true]);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([["error", "paused-lane state unreadable: every lane starts paused until an officer resumes it"]]);
    // Resuming one lane puts the others on record as paused: a restart keeps them paused.
    p.set("L2", false);
    expect([p.has("L1"), p.has("L2"), p.has("L3"), p.has("L4")]).toEqual([true, false, true, false]);
    const after = new LanePauses(new FilePauseStore(stateDir), collecting().logger);
    expect([after.has("L1"), after.has("L2"), after.has("L3")]).toEqual([true, false, true]);
  });

  it("a missing state file means no lane was paused", () => {
    const p = new LanePauses(new FilePauseStore(join(dir, "fresh")), collecting().logger);
    expect(p.has("L1")).toBe(false);
  });

  it("a pause that cannot be written still applies, and the log says a restart would lose it", () => {
    const store: PauseStore = {
      load: () => ({ paused: [] }),
      save: () => {
        throw new Error("EROFS: read-only file system");
      },
    };
    const { lines, logger } = collecting();
    const p = new LanePauses(store, logger);
    p.set("L1", true);
    expect(p.has("L1")).toBe(true);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([["error", "paused-lane state could not be written: a restart would reopen paused lanes"]]);
  });

  it("forgetting no lanes writes nothing", () => {
    let saves = 0;
    const p = new LanePauses({ load: () => ({ paused: ["L1"] }), save: () => void saves++ }, collecting().logger);
    p.forget([]);
    expect(saves).toBe(0);
    p.forget(["L1"]);
    expect(saves).toBe(1);
  });

  it("counts the store's load and save errors for /metrics", () => {
    const healthy = new LanePauses(new FilePauseStore(join(dir, "counted-ok")), collecting().logger);
    healthy.set("L1", true);
    expect(healthy.stats()).toEqual({ loadErrors: 0, saveErrors: 0 });

    const stateDir = join(dir, "counted-torn");
    mkdirSync(join(stateDir, "lanes"), { recursive: true });
    writeFileSync(join(stateDir, "lanes", "paused.json"), "{not json");
    expect(new LanePauses(new FilePauseStore(stateDir), collecting().logger).stats()).toEqual({ loadErrors: 1, saveErrors: 0 });

    let fail = true;
    const store: PauseStore = {
      load: () => ({ paused: [] }),
      save: () => {
        if (fail) throw new Error("ENOSPC: no space left on device");
      },
    };
    const p = new LanePauses(store, collecting().logger);
    p.set("L1", true);
    p.forget(["L1"]);
    fail = false;
    p.set("L2", true);
    expect(p.stats()).toEqual({ loadErrors: 0, saveErrors: 2 });
  });
});
