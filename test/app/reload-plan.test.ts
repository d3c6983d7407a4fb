import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import type { GatewayConfig } from "../../src/config/schema.js";
import { createReloader, planReload, unchangedSections, type ReloadResult } from "../../src/app/reload.js";
import { SYNTHETIC } from "../support/gateway.js";

const input = (over: Record<string, unknown> = {}) => ({
  gateway: { id: "gw-plan", stateDir: "/nonexistent/state" },
  lanes: [{ id: "L1" }],
  cameras: [{ id: "c1", lane: "L1", ...SYNTHETIC, width: 320, height: 240, fps: 5 }],
  ...over,
});

const result = (applied: ReloadResult["applied"]): ReloadResult => ({ applied, restartRequired: [], unchanged: [], details: {} });

describe("planReload", () => {
  it("applies the file except the restart sections, which keep their old values and are reported", () => {
    const prev = parseConfig(input());
    const next = parseConfig(input({ gateway: { id: "gw-other", stateDir: "/nonexistent/state" }, display: { heartbeatMs: 3000 }, redis: { url: "redis://127.0.0.1:6379" } }));
    const plan = planReload(prev, next);
    expect(plan.changed).toEqual(["gateway", "display", "redis"]);
    expect(plan.restartRequired).toEqual(["gateway", "redis"]);
    expect(plan.effective.gateway.id).toBe("gw-plan");
    expect(plan.effective.redis).toBeUndefined();
    expect(plan.effective.display.heartbeatMs).toBe(3000);
    expect(unchangedSections(plan.changed)).toEqual(["log", "server", "decode", "cameras", "lanes", "trust", "mqtt", "events"]);
  });
});

describe("the reloader", () => {
  const deferred = <T>() => {
    let resolve!: (v: T) => void;
    const promise = new Promise<T>((r) => (resolve = r));
    return { promise, resolve };
  };

  it("runs one reload at a time: requests during one share one follow-up that reads the file again after it", async () => {
    let reads = 0;
    const gates = [deferred<ReloadResult>(), deferred<ReloadResult>(), deferred<ReloadResult>()];
    const applied: number[] = [];
    const r = createReloader({ read: () => (reads++, parseConfig(input())), stopping: () => false, apply: () => (applied.push(reads), gates[applied.length - 1]!.promise) });
    const first = r.run();
    const second = r.run();
    const third = r.run();
    expect(second).not.toBe(first);
    expect(third).toBe(second);
    expect(r.inFlight()).toBe(first);
    gates[0]!.resolve(result(["display"]));
    expect(await first).toEqual(result(["display"]));
    // The follow-up read the file after the first reload ended (the operator's fix), and applied it alone.
    gates[1]!.resolve(result(["lanes"]));
    expect(await second).toEqual(result(["lanes"]));
    expect([reads, applied]).toEqual([2, [1, 2]]);
    expect(r.inFlight()).toBeUndefined();
    const fourth = r.run();
    gates[2]!.resolve(result([]));
    await fourth;
    expect(reads).toBe(3);
  });

  it("a follow-up still runs after the running reload failed", async () => {
    let reads = 0;
    const r = createReloader({ read: () => (reads++ === 0 ? Promise.reject(new Error("half-written file")) : parseConfig(input())), stopping: () => false, apply: async () => result(["display"]) });
    const first = r.run();
    const second = r.run();
    await expect(first).rejects.toThrow("half-written file");
    expect(await second).toEqual(result(["display"]));
    expect(r.stats()).toMatchObject({ invalid: 1, applied: 1 });
  });

  it("refuses without a config reader, and while the gateway stops", async () => {
    const apply = (_: GatewayConfig) => Promise.resolve(result([]));
    await expect(createReloader({ stopping: () => false, apply }).run()).rejects.toMatchObject({ code: "GW_RELOAD_UNSUPPORTED" });
    await expect(createReloader({ read: () => parseConfig(input()), stopping: () => true, apply }).run()).rejects.toMatchObject({ code: "GW_ADMIN_ACTION_FAILED" });
  });

  it("a file that fails validation rejects that reload only", async () => {
    let bad = true;
    const r = createReloader({
      read: () => {
        if (bad) throw Object.assign(new Error("invalid"), { code: "GW_CONFIG_INVALID" });
        return parseConfig(input());
      },
      stopping: () => false,
      apply: () => Promise.resolve(result(["log"])),
    });
    await expect(r.run()).rejects.toMatchObject({ code: "GW_CONFIG_INVALID" });
    bad = false;
    expect((await r.run()).applied).toEqual(["log"]);
  });

  it("counts reloads by result, keeps the last applied time and whether it left a restart pending", async () => {
    let now = 1_000;
    let step: "invalid" | "fail" | "restart" | "clean" = "invalid";
    const gate = deferred<void>();
    const r = createReloader({
      read: () => {
        if (step === "invalid") throw Object.assign(new Error("invalid"), { code: "GW_CONFIG_INVALID" });
        return parseConfig(input());
      },
      stopping: () => false,
      apply: async () => {
        if (step === "fail") throw new Error("outputs cannot start");
        if (step === "restart") await gate.promise;
        return { ...result(step === "restart" ? [] : ["display"]), restartRequired: step === "restart" ? ["server"] : [] };
      },
      now: () => now,
    });
    expect(r.stats()).toEqual({ applied: 0, failed: 0, invalid: 0, restartRequired: false });
    await expect(r.run()).rejects.toMatchObject({ code: "GW_CONFIG_INVALID" });
    expect(r.stats()).toEqual({ applied: 0, failed: 0, invalid: 1, restartRequired: false });

    step = "restart";
    now = 2_000;
    // A request during a reload is one follow-up reload after it.
    const both = [r.run(), r.run()];
    gate.resolve();
    await Promise.all(both);
    expect(r.stats()).toEqual({ applied: 2, failed: 0, invalid: 1, lastAppliedAt: 2_000, restartRequired: true });

    // A failed reload is counted and changes neither the time nor the pending restart.
    step = "fail";
    now = 3_000;
    await expect(r.run()).rejects.toThrow("outputs cannot start");
    expect(r.stats()).toEqual({ applied: 2, failed: 1, invalid: 1, lastAppliedAt: 2_000, restartRequired: true });

    step = "clean";
    now = 4_000;
    await r.run();
    expect(r.stats()).toEqual({ applied: 3, failed: 1, invalid: 1, lastAppliedAt: 4_000, restartRequired: false });
    // Refused requests (no reader, stopping) are no reload at all.
    const refused = createReloader({ stopping: () => true, apply: () => Promise.resolve(result([])) });
    await expect(refused.run()).rejects.toBeDefined();
    expect(refused.stats()).toEqual({ applied: 0, failed: 0, invalid: 0, restartRequired: false });
  });
});
