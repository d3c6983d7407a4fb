import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { shutdown, type ShutdownParts } from "../../src/app/shutdown.js";

/** Every part records its step; a reload in flight can be finished by the test. */
const parts = () => {
  const steps: string[] = [];
  const lane = (id: string) => ({
    setProblem: (p: string, on: boolean) => void steps.push(`${id}.${p}=${on}`),
    settle: async () => void steps.push(`${id}.settle`),
    close: () => void steps.push(`${id}.close`),
  });
  const pool = (name: string) => ({ close: async () => void steps.push(`${name}.close`) });
  let currentPool = pool("pool0");
  let finishReload!: () => void;
  const reloading = new Promise<void>((_, reject) => (finishReload = () => reject(new Error("reload failed"))));
  const p: ShutdownParts = {
    lanes: new Map([
      ["A", lane("A")],
      ["B", lane("B")],
    ]),
    health: { stop: () => void steps.push("health.stop") },
    reloading: () => reloading,
    cameras: { stop: async () => void steps.push("cameras.stop") },
    pool: () => currentPool,
    outputs: () => ({ close: async () => void steps.push("outputs.close") }),
    replay: { close: async () => void steps.push("replay.close") },
    http: { close: async () => void steps.push("http.close") },
    trust: { stop: async () => void steps.push("trust.stop") },
    redis: { disconnect: () => void steps.push("redis.disconnect") },
    offFaultLog: () => void steps.push("faults.off"),
    log: silentLogger,
  };
  return { p, steps, finishReload, replacePool: () => (currentPool = pool("pool1")) };
};

describe("shutdown", () => {
  it("takes every lane out of service before anything stops, waits for a reload, then stops in dependency order", async () => {
    const { p, steps, finishReload, replacePool } = parts();
    const done = shutdown(p);
    // Synchronously: screens first, then no more health checks; the rest waits for the reload.
    expect(steps).toEqual(["A.SHUTTING_DOWN=true", "B.SHUTTING_DOWN=true", "health.stop"]);
    await new Promise((r) => setImmediate(r));
    expect(steps).toHaveLength(3);
    // The reload replaced the pool before it failed: the stop closes the pool that runs now.
    replacePool();
    finishReload();
    await done;
    expect(steps.slice(3)).toEqual([
      "cameras.stop",
      "pool1.close",
      "A.settle",
      "B.settle",
      "outputs.close",
      "replay.close",
      "http.close",
      "A.close",
      "B.close",
      "trust.stop",
      "redis.disconnect",
      "faults.off",
    ]);
  });

  it("runs without Redis, outputs or a reload", async () => {
    const { p, steps } = parts();
    const { redis: _r, ...noRedis } = p;
    await shutdown({ ...noRedis, reloading: () => undefined, outputs: () => undefined });
    expect(steps).not.toContain("redis.disconnect");
    expect(steps).not.toContain("outputs.close");
    expect(steps.at(-1)).toBe("faults.off");
  });

  it("waits for a reload that never ends only a while, then stops in full (systemd's stop timeout is 20 s)", async () => {
    const { p, steps } = parts();
    const warned: string[] = [];
    const log = { ...silentLogger, warn: (_o: unknown, msg: string) => void warned.push(msg) } as unknown as typeof silentLogger;
    const started = performance.now();
    await shutdown({ ...p, log, reloading: () => new Promise<never>(() => {}), reloadWaitMs: 200 });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(steps.at(-1)).toBe("faults.off");
    expect(steps).toContain("outputs.close");
    expect(warned).toEqual(["a reload is still running: stopping without waiting for it"]);
  });
});
