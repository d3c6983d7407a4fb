import { afterAll, afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DecodePool, type DecodePoolOptions } from "../../src/decode/index.js";
import { faultyWorker } from "../../src/decode/testing/faulty-worker.js";
import type { LumaFrame } from "../../src/core/types.js";
import { blankFrame, qrFrame } from "./helpers.js";
import { compiledSibling } from "../../src/core/worker-url.js";

const base: DecodePoolOptions = { workers: 1, deadlineMs: 20_000, budgetMs: 100, passes: ["fast", "crop", "harder"] };
/**
 * For the scheduling tests: the pool's clock and the frames' receive times stand still, so the
 * windows (slow schedule, rationing) are decided by the rules, not by how long a loaded machine
 * took to decode; the budget is wide, so a cascade that is granted is never cut by wall time.
 */
const stillClock: Partial<DecodePoolOptions> = { clock: () => 1_000, budgetMs: 60_000 };
const still = <F extends { receivedAt: number }>(f: F): F => ({ ...f, receivedAt: 1_000 });
let pool: DecodePool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe("DecodePool", () => {
  it("decodes a transferred strided frame and reports timings", async () => {
    pool = await DecodePool.create(base);
    const frame = qrFrame("POOL-1", { width: 640, height: 480, stride: 704 });
    const r = await pool.submit(frame);
    expect(frame.data.byteLength).toBe(0); // transferred, not copied
    expect(r?.error).toBeUndefined();
    expect(r?.codes.map((c) => c.text)).toEqual(["POOL-1"]);
    expect(r?.timings.foundBy).toBe("fast");
    expect(r?.timings.passes).toEqual(["fast"]);
    expect(r?.timings.decodeMs).toBeGreaterThan(0);
    expect(pool.stats().cameras.cam1).toMatchObject({ submitted: 1, decoded: 1, dropped: 0, failed: 0 });
  });

  it("a worker whose warm-up throws still starts, on a fresh instance, and reads", async () => {
    // The real worker, handed a warm-up it cannot run (a pass that does not exist throws in the
    // cascade): it must report ready and decode as a cold worker would.
    const url = compiledSibling(new URL("../../src/decode/pool.ts", import.meta.url).href, "./worker.js");
    pool = await DecodePool.create({ ...base, warmUpRounds: 0, worker: { url, data: { warmUp: { passes: ["no-such-pass"], rounds: 1 } } } });
    const r = await pool.submit(qrFrame("AFTER-A-FAILED-WARM-UP"));
    expect(r?.error).toBeUndefined();
    expect(r?.codes.map((c) => c.text)).toEqual(["AFTER-A-FAILED-WARM-UP"]);
  });

  it("copies a frame whose view does not own its buffer instead of detaching it", async () => {
    pool = await DecodePool.create(base);
    const f = qrFrame("VIEW-2");
    const big = new Uint8Array(f.data.byteLength + 64);
    big.set(f.data, 64);
    const r = await pool.submit({ ...f, data: big.subarray(64) });
    expect(big.byteLength).toBe(f.data.byteLength + 64);
    expect(r?.codes[0]?.text).toBe("VIEW-2");
  });

  it("keeps the latest frame per camera and counts the replaced one as dropped", async () => {
    pool = await DecodePool.create(base);
    // The first frame occupies the only worker; 2 waits in the slot and is replaced by 3.
    const p1 = pool.submit(qrFrame("A", { seq: 1 }));
    const p2 = pool.submit(qrFrame("B", { seq: 2 }));
    const p3 = pool.submit(qrFrame("C", { seq: 3 }));
    const other = pool.submit(qrFrame("D", { seq: 1, cameraId: "cam2" }));
    const [r1, r2, r3, r4] = await Promise.all([p1, p2, p3, other]);
    expect(r1?.codes[0]?.text).toBe("A");
    expect(r2).toBeNull();
    expect(r3?.codes[0]?.text).toBe("C");
    expect(r4?.codes[0]?.text).toBe("D");
    expect(pool.stats().cameras.cam1).toMatchObject({ submitted: 3, decoded: 2, dropped: 1, droppedInView: 1 });
  });

  it("with nothing in view, skips frames without a finder pattern except on the slow schedule", async () => {
    pool = await DecodePool.create({ ...base, ...stillClock, idleFullEveryMs: 60_000 });
    // First idle frame: the slow schedule is due, so it is decoded in full.
    const first = await pool.submit(still(blankFrame("cam1", 1, 640, 480)), { view: "none" });
    expect(first?.codes).toEqual([]);
    expect(first?.timings.passes).toContain("harder");
    // Then not again within the interval: resolved null without a worker, counted.
    expect(await pool.submit(still(blankFrame("cam1", 2, 640, 480)), { view: "none" })).toBeNull();
    expect(await pool.submit(still(blankFrame("cam1", 3, 640, 480)), { view: "none" })).toBeNull();
    // A frame with a code passes the prefilter and is read.
    const read = await pool.submit(still(qrFrame("IDLE-THEN-CODE", { seq: 4 })), { view: "none" });
    expect(read?.codes.map((c) => c.text)).toEqual(["IDLE-THEN-CODE"]);
    // While a code is in view nothing is prefiltered.
    const pending = await pool.submit(still(blankFrame("cam1", 5, 640, 480)), { view: "pending" });
    expect(pending?.codes).toEqual([]);
    expect(pool.stats().cameras.cam1).toMatchObject({ submitted: 5, prefiltered: 2, slowScheduled: 1, prefilterHits: 1, decoded: 1 });
    expect(pool.stats().cameras.cam1!.prefilterMs).toBeGreaterThan(0);
  });

  it("rations the full cascade for lanes with only decided codes in view, not for a pending presentation", async () => {
    pool = await DecodePool.create({ ...base, ...stillClock });
    // Frames with finder patterns but no readable code (the code's centre blanked out).
    const unreadable = (seq: number) => {
      const f = still(qrFrame("RATIONED-ESCALATION", { seq, module: 6, x0: 100, y0: 60 }));
      for (let y = 60 + 8 * 6; y < 60 + 21 * 6; y++) f.data.fill(230, y * f.stride + 100 + 8 * 6, y * f.stride + 100 + 21 * 6);
      return f;
    };
    const passes = async (seq: number, view: "decided" | "pending") => (await pool!.submit(unreadable(seq), { view }))?.timings.passes;
    expect(await passes(1, "decided")).toContain("harder");
    // Within 333 ms: no escalation pass (the first pass, and crops only).
    expect(await passes(2, "decided")).not.toContain("harder");
    expect(await passes(3, "pending")).toContain("harder");
  });

  it("an idle camera buys the first pass for a new lone finder-like shape, once; the cascade for a symbol's paired finder patterns", async () => {
    // A budget no loaded machine can exhaust: what the frame buys must not depend on timing.
    pool = await DecodePool.create({ ...base, deadlineMs: 120_000, budgetMs: 60_000, idleFullEveryMs: 60_000 });
    const unreadable = (seq: number) => {
      const f = qrFrame("IDLE-ESCALATION", { seq, module: 6, x0: 100, y0: 60 });
      for (let y = 60 + 8 * 6; y < 60 + 21 * 6; y++) f.data.fill(230, y * f.stride + 100 + 8 * 6, y * f.stride + 100 + 21 * 6);
      return f;
    };
    expect(await pool.submit(blankFrame("cam1", 1, 640, 480), { view: "none" })).not.toBeNull(); // the slow schedule
    // One finder pattern alone (the rest of the symbol hidden): the first pass only, and once.
    const lone = (seq: number) => {
      const f = unreadable(seq);
      for (let y = 0; y < f.height; y++) f.data.fill(230, y * f.stride + 100 + 9 * 6, (y + 1) * f.stride);
      for (let y = 60 + 9 * 6; y < f.height; y++) f.data.fill(230, y * f.stride, (y + 1) * f.stride);
      return f;
    };
    expect((await pool.submit(lone(2), { view: "none" }))?.timings.passes).toEqual(["fast"]);
    expect(await pool.submit(lone(3), { view: "none" })).toBeNull();
    // A symbol's paired finder patterns, new here: the cascade goes after it.
    const code = await pool.submit(unreadable(4), { view: "none" });
    expect(code?.timings.passes).toContain("harder");
    expect(pool.stats().cameras.cam1).toMatchObject({ slowScheduled: 1, prefilterHits: 3, prefiltered: 1 });
  });

  it("a code that left while decided and comes back at the same place buys the cascade, not the slow schedule", async () => {
    pool = await DecodePool.create({ ...base, ...stillClock });
    const at = <F extends { receivedAt: number }>(f: F, t: number): F => ({ ...f, receivedAt: t });
    // Shown to an idle camera: its finder patterns are tried, and it is read.
    expect((await pool.submit(at(qrFrame("CARD", { seq: 1 }), 1_000), { view: "none" }))?.codes.map((c) => c.text)).toEqual(["CARD"]);
    // Decided: the lane's presence check sees it held, then sees a frame with no finder pattern at all.
    expect(await pool.submit(at(qrFrame("CARD", { seq: 2 }), 1_100), { view: "decided" })).not.toBeNull();
    expect(await pool.submit(at(blankFrame("cam1", 3, 640, 480), 1_200), { view: "decided" })).toBeNull();
    // The same card at the same place 5 s later (nothing in view any more): a new presentation.
    const back = await pool.submit(at(qrFrame("CARD", { seq: 4 }), 6_000), { view: "none" });
    expect(back?.codes.map((c) => c.text)).toEqual(["CARD"]);
    expect(pool.stats().cameras.cam1).toMatchObject({ slowScheduled: 0 });
  });

  it("with only decided codes in view, decodes frames without a finder pattern at most every 500 ms, frames with one always", async () => {
    pool = await DecodePool.create({ ...base, ...stillClock });
    expect(await pool.submit(still(blankFrame("cam1", 1, 640, 480)), { view: "decided" })).not.toBeNull();
    // Within 500 ms: an empty frame is skipped, a frame with a code is decoded and read.
    expect(await pool.submit(still(blankFrame("cam1", 2, 640, 480)), { view: "decided" })).toBeNull();
    const held = await pool.submit(still(qrFrame("HELD", { seq: 3 })), { view: "decided" });
    expect(held?.codes.map((c) => c.text)).toEqual(["HELD"]);
    expect(pool.stats().cameras.cam1).toMatchObject({ prefiltered: 1, prefilterHits: 1, decoded: 1 });
  });

  it("with a decided code held, still reads a second code shown beside it (no crop-only shortcut then)", async () => {
    pool = await DecodePool.create(base);
    const held = (seq: number) => qrFrame("HELD-1", { seq, x0: 40, y0: 40 });
    expect((await pool.submit(held(1), { view: "pending" }))?.codes.map((c) => c.text)).toEqual(["HELD-1"]);
    expect((await pool.submit(held(2), { view: "decided" }))?.codes.map((c) => c.text)).toEqual(["HELD-1"]);
    // Frames of a held code may read the last code's crop only; a finder pattern elsewhere rules that out.
    const both = held(3);
    const other = qrFrame("SECOND-2", { x0: 420, y0: 300 });
    for (let i = 0; i < both.data.length; i++) both.data[i] = Math.min(both.data[i]!, other.data[i]!);
    const r = await pool.submit(both, { view: "decided" });
    expect(r?.codes.map((c) => c.text).sort()).toEqual(["HELD-1", "SECOND-2"]);
    const alone = await pool.submit(held(4), { view: "decided" });
    expect(alone?.codes.map((c) => c.text)).toEqual(["HELD-1"]);
  });

  it("gives a waiting active frame the worker before an idle camera's frame, and keeps a worker from idle frames", async () => {
    pool = await DecodePool.create({ ...base, workers: 2, idleFullEveryMs: 0 });
    // Both workers busy with active frames; then an idle frame and an active frame wait.
    const busy = [pool.submit(qrFrame("B1", { cameraId: "a" }), { view: "pending" }), pool.submit(qrFrame("B2", { cameraId: "b" }), { view: "pending" })];
    const order: string[] = [];
    const idle = pool.submit(blankFrame("idle", 1, 640, 480), { view: "none" }).then((r) => (order.push("idle"), r));
    const active = pool.submit(qrFrame("ACTIVE", { cameraId: "c" }), { view: "pending" }).then((r) => (order.push("active"), r));
    const [, , ri, ra] = await Promise.all([...busy, idle, active]);
    expect(ra?.codes[0]?.text).toBe("ACTIVE");
    expect(ri?.codes).toEqual([]);
    expect(order).toEqual(["active", "idle"]);
    expect(pool.stats().cameras.idle).toMatchObject({ slowScheduled: 1, prefiltered: 0 });
  });


  describe("cooperative early stop", () => {
    // One worker, a cascade of several passes and a budget that never cuts it: whatever stops a
    // cascade here is the early-stop rule. Its first pass (equalize: a JS contrast stretch of a
    // 1080p frame, then a read) takes milliseconds, while the frame submitted right after the
    // dispatch is published at once; so that frame waits at every pass boundary of the cascade.
    const all = ["equalize", "fast", "harder", "downscale"] as const;
    const cascade: DecodePoolOptions = { ...base, workers: 1, budgetMs: 60_000, passes: all, idleFullEveryMs: 0, escalateIntervalMs: 60_000 };
    const big = (cameraId: string, seq = 1) => blankFrame(cameraId, seq, 1920, 1080);

    it("stops an idle frame's cascade at a pass boundary when an active frame is submitted while it runs", async () => {
      pool = await DecodePool.create(cascade);
      const idle = pool.submit(big("idle"), { view: "none" });
      const active = pool.submit(qrFrame("ARRIVED", { cameraId: "act" }), { view: "pending" });
      const [ri, ra] = await Promise.all([idle, active]);
      expect(ri?.timings.stoppedEarly).toBe(true);
      expect(ri?.timings.passes.length).toBeLessThan(all.length);
      expect(ra?.codes.map((c) => c.text)).toEqual(["ARRIVED"]);
      expect(pool.stats().cameras.idle).toMatchObject({ slowScheduled: 1, stoppedEarly: 1 });
      expect(pool.stats().cameras.act).toMatchObject({ stoppedEarly: 0, decoded: 1 });
    });

    it("stops a watch frame's cascade for an active frame, not for another watch frame", async () => {
      pool = await DecodePool.create(cascade);
      // A protected active frame holds the worker while two watch frames queue; the older one
      // then runs with the other waiting, and does not give way to it.
      const blocker = pool.submit(big("blocker"), { view: "pending" });
      const w1 = pool.submit(big("w1"), { view: "decided" });
      const w2 = pool.submit(big("w2"), { view: "decided" });
      const [, r1, r2] = await Promise.all([blocker, w1, w2]);
      expect(r1?.timings.passes).toEqual(all);
      expect(r1?.timings.stoppedEarly).toBeUndefined();
      expect(r2?.timings.passes).toEqual(all);
      const w3 = pool.submit(big("w3"), { view: "decided" });
      const active = pool.submit(blankFrame("act", 1, 640, 480), { view: "pending" });
      const [r3] = await Promise.all([w3, active]);
      expect(r3?.timings.stoppedEarly).toBe(true);
      expect(r3?.timings.passes.length).toBeLessThan(all.length);
      expect(pool.stats().cameras).toMatchObject({ w1: { stoppedEarly: 0 }, w3: { stoppedEarly: 1 } });
    });

    it("a first look gives way to another camera's first look, not to a repeat; a stopped look is a first look again", async () => {
      pool = await DecodePool.create(cascade);
      // Two cameras' first looks at once: a's stops after its first pass, b's runs to the end.
      const a1 = pool.submit(big("a", 1), { view: "pending" });
      const b1 = pool.submit(blankFrame("b", 1, 640, 480), { view: "pending" });
      const [ra1, rb1] = await Promise.all([a1, b1]);
      expect(ra1?.timings.stoppedEarly).toBe(true);
      expect(ra1?.timings.passes.length).toBeLessThan(all.length);
      expect(rb1?.timings.passes).toEqual(all);
      expect(rb1?.timings.stoppedEarly).toBeUndefined();
      // The stopped cascade does not count as done: a's next frame is a first look, and it does
      // not give way to b's next frame, a repeat (b's full cascade just ran).
      const a2 = pool.submit(big("a", 2), { view: "pending" });
      const b2 = pool.submit(blankFrame("b", 2, 640, 480), { view: "pending" });
      const [ra2, rb2] = await Promise.all([a2, b2]);
      expect(ra2?.timings.passes).toEqual(all);
      expect(ra2?.timings.stoppedEarly).toBeUndefined();
      // a's next frame, right after its complete full cascade (escalateIntervalMs), is a repeat: it
      // gives way to c's first look.
      const a3 = pool.submit(big("a", 3), { view: "pending" });
      const c1 = pool.submit(blankFrame("c", 1, 640, 480), { view: "pending" });
      const [ra3, rc1] = await Promise.all([a3, c1]);
      expect(ra3?.timings.stoppedEarly).toBe(true);
      expect(ra3?.timings.passes.length).toBeLessThan(all.length);
      expect(rc1?.timings.passes).toEqual(all);
      expect(rb2?.timings.passes.length).toBeGreaterThan(0);
      expect(pool.stats().cameras.a).toMatchObject({ stoppedEarly: 2 });
    });

    it("a free worker takes a camera not yet served before the next frame of a camera whose look just ran", async () => {
      pool = await DecodePool.create(cascade);
      const order: string[] = [];
      const done = (name: string) => <T,>(r: T): T => (order.push(name), r);
      // a's first look holds the worker; meanwhile a's next frame and then b's first frame wait.
      // a1 gives way to b's first look after its first pass; then b goes before a's older frame.
      const a1 = pool.submit(big("a", 1), { view: "pending" }).then(done("a1"));
      const a2 = pool.submit(big("a", 2), { view: "pending" }).then(done("a2"));
      const b1 = pool.submit(qrFrame("FIRST-LOOK", { cameraId: "b" }), { view: "pending" }).then(done("b1"));
      const [, , rb1] = await Promise.all([a1, a2, b1]);
      expect(order).toEqual(["a1", "b1", "a2"]);
      expect(rb1?.codes.map((c) => c.text)).toEqual(["FIRST-LOOK"]);
    });

    it("reads a code with the full cascade when it is the only frame (accuracy unchanged)", async () => {
      pool = await DecodePool.create({ ...cascade, passes: ["fast", "harder", "crop"] });
      const r = await pool.submit(qrFrame("ALONE", { seq: 1 }), { view: "pending" });
      expect(r?.codes.map((c) => c.text)).toEqual(["ALONE"]);
      expect(r?.timings.stoppedEarly).toBeUndefined();
    });
  });

  it("reports a malformed frame as GW_DECODE_BAD_FRAME without touching a worker", async () => {
    pool = await DecodePool.create(base);
    const f: LumaFrame = { ...blankFrame(), stride: 100, width: 320 };
    const r = await pool.submit(f);
    expect(r?.error?.code).toBe("GW_DECODE_BAD_FRAME");
    const short = await pool.submit({ ...blankFrame(), data: new Uint8Array(10) });
    expect(short?.error?.code).toBe("GW_DECODE_BAD_FRAME");
    expect(pool.stats()).toMatchObject({ restarts: 0, cameras: { cam1: { failed: 2 } } });
  });

  it("replaces a worker that hangs past the deadline and keeps decoding", async () => {
    // Generous: the deadline must not catch a slow first decode on a loaded CI machine, only the hang.
    const opts: DecodePoolOptions = { ...base, deadlineMs: 2500, worker: faultyWorker({ 1: "hang" }) };
    pool = await DecodePool.create(opts);
    const r1 = await pool.submit(qrFrame("HANG", { seq: 1 }));
    expect(r1?.error?.code).toBe("GW_DECODE_TIMEOUT");
    expect(r1?.codes).toEqual([]);
    const r2 = await pool.submit(qrFrame("AFTER-HANG", { seq: 2 }));
    expect(r2?.error).toBeUndefined();
    expect(r2?.codes[0]?.text).toBe("AFTER-HANG");
    expect(pool.stats()).toMatchObject({ workers: 1, restarts: 1, cameras: { cam1: { failed: 1, decoded: 1 } } });
  });

  it("replaces a worker that throws and keeps decoding", async () => {
    const opts: DecodePoolOptions = { ...base, worker: faultyWorker({ 1: "throw" }) };
    pool = await DecodePool.create(opts);
    const r1 = await pool.submit(qrFrame("THROW", { seq: 1 }));
    expect(r1?.error?.code).toBe("GW_DECODE_CRASH");
    expect(r1?.error?.message).toContain("injected decode fault");
    const r2 = await pool.submit(qrFrame("AFTER-THROW", { seq: 2 }));
    expect(r2?.codes[0]?.text).toBe("AFTER-THROW");
    expect(pool.stats().restarts).toBe(1);
  });

  it("hands the last code's position to the crop pass on the next frame of the same camera", async () => {
    // crop listed first: skipped without a hint, so frame 1 is read by "fast", frame 2 by "crop".
    pool = await DecodePool.create({ ...base, passes: ["crop", "fast"] });
    const at = { x0: 300, y0: 200, width: 800, height: 600 };
    const r1 = await pool.submit(qrFrame("HINT", { seq: 1, ...at }));
    expect(r1?.timings).toMatchObject({ passes: ["fast"], foundBy: "fast" });
    const r2 = await pool.submit(qrFrame("HINT", { seq: 2, ...at }));
    expect(r2?.timings).toMatchObject({ passes: ["crop"], foundBy: "crop" });
    // Corners come back in frame coordinates, not crop coordinates.
    const [tl] = r2!.codes[0]!.corners;
    expect(Math.abs(tl[0] - 300)).toBeLessThan(4);
    expect(Math.abs(tl[1] - 200)).toBeLessThan(4);
    const other = await pool.submit(qrFrame("HINT", { seq: 1, cameraId: "cam2", ...at }));
    expect(other?.timings.foundBy).toBe("fast");
  });

  it("resolves waiting frames with null on close and refuses new ones", async () => {
    pool = await DecodePool.create(base);
    const p1 = pool.submit(qrFrame("X", { seq: 1 }));
    const p2 = pool.submit(qrFrame("Y", { seq: 2 }));
    await pool.close();
    expect(await p2).toBeNull();
    // The first frame was already with the worker: close reports it as failed, never as a read.
    const r1 = await p1;
    expect(r1?.codes).toEqual([]);
    expect(r1?.error?.code).toBe("GW_DECODE_CRASH");
    await expect(pool.submit(qrFrame("Z"))).rejects.toThrow(/closed/);
    pool = undefined;
  });
});

describe("pool: a worker's last words after it was given up", () => {
  // Decode-protocol workers written for these cases: ready at once, then misbehaving on a job.
  const dir = mkdtempSync(join(tmpdir(), "cpgw-pool-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const workerFile = (name: string, body: string) => {
    const f = join(dir, name);
    writeFileSync(f, `import { parentPort, workerData } from "node:worker_threads";\n${body}\nparentPort.postMessage({ type: "ready" });\n`);
    return pathToFileURL(f);
  };

  it("a worker that throws just as its deadline fires does not take the process down", async () => {
    // Spins past nothing (50 ms < the 100 ms deadline) and throws; the main thread is busy for
    // 300 ms, so the deadline timer runs before the error message is delivered.
    const url = workerFile("late-throw.mjs", `parentPort.on("message", (j) => { if (j.type !== "decode") return; const t = Date.now() + workerData.spinMs; while (Date.now() < t); throw new Error("wasm trap after a long decode"); });`);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on("uncaughtException", onUncaught);
    const pool = await DecodePool.create({ workers: 1, deadlineMs: 100, budgetMs: 60, passes: ["tone"], warmUpRounds: 0, worker: { url, data: { spinMs: 50 } } });
    try {
      const frame: LumaFrame = { cameraId: "cam1", seq: 1, width: 64, height: 64, stride: 64, data: new Uint8Array(64 * 64), receivedAt: Date.now() };
      const r = await new Promise<Awaited<ReturnType<DecodePool["submit"]>>>((resolve) =>
        setImmediate(() => {
          void pool.submit(frame).then(resolve);
          const until = Date.now() + 300;
          while (Date.now() < until);
        }),
      );
      expect(r?.error?.code).toBe("GW_DECODE_TIMEOUT");
      await new Promise((res) => setTimeout(res, 300));
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      await pool.close();
    }
  });

  it("a replacement worker that cannot even be created (no thread: EAGAIN) is tried again, backed off, without taking the process down", async () => {
    const url = workerFile("crash.mjs", `parentPort.on("message", (j) => { if (j.type === "decode") throw new Error("crash"); });`);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on("uncaughtException", onUncaught);
    // Read when each worker is made: the second creation throws as \`new Worker\` does without a thread.
    let made = 0;
    const data = {
      get attempt() {
        if (++made === 2) throw Object.assign(new Error("EAGAIN: no thread"), { code: "ERR_WORKER_INIT_FAILED" });
        return made;
      },
    };
    const pool = await DecodePool.create({ workers: 1, deadlineMs: 2000, budgetMs: 60, passes: ["tone"], warmUpRounds: 0, worker: { url, data } });
    try {
      const frame: LumaFrame = { cameraId: "cam1", seq: 1, width: 64, height: 64, stride: 64, data: new Uint8Array(64 * 64), receivedAt: Date.now() };
      expect((await pool.submit(frame))?.error?.code).toBe("GW_DECODE_CRASH");
      // The replacement that could not be created is retried (after 200 ms): a third worker starts.
      const until = Date.now() + 5000;
      while (made < 3 && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
      expect(made).toBe(3);
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      await pool.close();
    }
  });
});
