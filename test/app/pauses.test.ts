import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, silentLogger } from "../../src/core/logger.js";
import { parseConfig } from "../../src/config/load.js";
import { FilePauseStore, type PauseStore } from "../../src/lane/index.js";
import { LanePauses } from "../../src/app/pauses.js";
import { SYNTHETIC, startGateway } from "../support/gateway.js";
import { waitFor } from "../support/wait.js";

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

describe("lanes closed by an unreadable state file are not an officer's pause", () => {
  const torn = (name: string) => {
    const stateDir = join(dir, name);
    mkdirSync(join(stateDir, "lanes"), { recursive: true });
    writeFileSync(join(stateDir, "lanes", "paused.json"), "{torn");
    return stateDir;
  };
  const status = (lane: string) => ({ lane, state: "paused" as const, problems: [] as string[] });

  it("each such lane carries PAUSE_STATE_UNREADABLE and counts as unknown until an officer pauses or resumes that lane", () => {
    const p = new LanePauses(new FilePauseStore(torn("held")), collecting().logger);
    expect([p.has("L1"), p.has("L2"), p.has("L3")]).toEqual([true, true, true]);
    expect(p.unknownLanes()).toEqual(["L1", "L2", "L3"]);
    expect(p.annotate(status("L1")).problems).toEqual(["PAUSE_STATE_UNREADABLE"]);
    p.set("L1", false);
    p.set("L2", true);
    // L3 is still closed only because of the file, though it is now on record as paused.
    expect(p.unknownLanes()).toEqual(["L3"]);
    expect([p.annotate(status("L2")).problems, p.annotate(status("L3")).problems]).toEqual([[], ["PAUSE_STATE_UNREADABLE"]]);
    // Only a paused lane can say so; a removed lane is no longer held.
    expect(p.annotate({ lane: "L3", state: "out-of-service", problems: ["CAMERAS_DOWN"] }).problems).toEqual(["CAMERAS_DOWN"]);
    p.forget(["L3"]);
    expect(p.unknownLanes()).toEqual([]);
  });

  it("an officer's pause after a readable file is not annotated", () => {
    const p = new LanePauses({ load: () => ({ paused: ["L1"] }), save: () => undefined }, collecting().logger);
    expect(p.has("L1")).toBe(true);
    expect(p.unknownLanes()).toEqual([]);
    expect(p.annotate(status("L1")).problems).toEqual([]);
  });

  it("the running gateway: /readyz is 503 PAUSE_STATE_UNREADABLE and lane_pause_state_unknown 1 until an officer resumes the lane", async () => {
    const token = "admin-token-admin-token-admin";
    const cfg = parseConfig({
      gateway: { id: "gw-torn", stateDir: torn("gateway") },
      server: { listen: { host: "127.0.0.1", port: 0 }, admin: { listen: { host: "127.0.0.1", port: 0 }, token } },
      decode: { workers: 1 },
      cameras: [{ id: "c1", lane: "L1", ...SYNTHETIC, width: 320, height: 240, fps: 5 }],
      lanes: [{ id: "L1" }],
    });
    const gw = await startGateway(cfg, { logger: silentLogger });
    try {
      const readyz = async () => {
        const r = await fetch(`${gw.urls.public}/readyz`);
        return { status: r.status, body: (await r.json()) as { problems: Array<{ code: string; lane?: string }> } };
      };
      const gauge = async () => (await (await fetch(`${gw.urls.public}/metrics`)).text()).match(/^checkpoint_gateway_lane_pause_state_unknown\{lane="L1"\} (\d+)$/m)?.[1];
      const lane = gw.lanes.get("L1")!;
      expect(lane.status().state).toBe("paused");
      // The camera delivers (the lane's start-up is over): the closed lane is all that is wrong.
      await waitFor(() => lane.status().problems.length === 0, "camera up");
      const held = await readyz();
      expect(held.status).toBe(503);
      expect(held.body.problems).toEqual([expect.objectContaining({ code: "PAUSE_STATE_UNREADABLE", lane: "L1" })]);
      expect(await gauge()).toBe("1");

      const resumed = await fetch(`${gw.urls.admin!}/admin/lanes/L1/resume`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
      expect(resumed.status).toBe(200);
      expect(await gauge()).toBe("0");
      expect(await readyz()).toEqual({ status: 200, body: { ready: true, problems: [] } });
      expect(lane.status().state).toBe("idle");
    } finally {
      await gw.close();
    }
  }, 60_000);
});
