import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DecodePool } from "../../src/decode/index.js";
import type { DecodeResult } from "../../src/core/types.js";

/**
 * A stand-in decode worker on virtual time: each job takes COST_MS of the test's clock (shared
 * memory: [0] = now, [1] = workers started, [2 + i] = when worker i's job ends, 0 = none), and
 * reads nothing. The test advances the clock and waits until every worker and the pool agree on
 * what runs, so the schedule is the same on a loaded machine as on an idle one.
 */
const WORKER = `
import { parentPort, workerData } from "node:worker_threads";
const st = new Int32Array(workerData.shared);
const me = Atomics.add(st, 1, 1);
parentPort.on("message", (job) => {
  if (job.type !== "decode") return;
  const end = Atomics.load(st, 0) + workerData.costMs;
  Atomics.store(st, 2 + me, end);
  for (let now = Atomics.load(st, 0); now < end; now = Atomics.load(st, 0)) Atomics.wait(st, 0, now);
  Atomics.store(st, 2 + me, 0);
  parentPort.postMessage({ type: "result", id: job.id, codes: [], passes: ["fast"], decodeMs: workerData.costMs, data: job.data }, [job.data.buffer]);
});
parentPort.postMessage({ type: "ready" });
`;
const COST_MS = 80;
const WORKERS = 2;
const dir = mkdtempSync(join(tmpdir(), "cpgw-fair-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "virtual-worker.mjs"), WORKER);

/**
 * 10 s of virtual time: camera A's lane has an unreadable code in view (every frame active, 15 fps),
 * the `idle` cameras' lanes have nothing (blank frames, 15 fps each). Returns A's results and the pool's counters.
 */
async function scenario(idle: string[]) {
  const shared = new SharedArrayBuffer(4 * (2 + 2 * WORKERS));
  const st = new Int32Array(shared);
  const pool = await DecodePool.create({ workers: WORKERS, deadlineMs: 600_000, budgetMs: 60, passes: ["fast"], warmUpRounds: 0, clock: () => Atomics.load(st, 0), worker: { url: pathToFileURL(join(dir, "virtual-worker.mjs")), data: { shared, costMs: COST_MS } } });
  /** Until the pool's running jobs are exactly the ones the workers hold, none of them due. */
  const settle = async () => {
    for (;;) {
      const now = Atomics.load(st, 0);
      const ends = Array.from({ length: Atomics.load(st, 1) }, (_, i) => Atomics.load(st, 2 + i)).filter((e) => e > 0);
      if (pool.stats().busy === ends.length && ends.every((e) => e > now)) return;
      await new Promise((r) => setImmediate(r));
    }
  };
  const cams = ["A", ...idle];
  const seq = new Map<string, number>();
  const results: DecodeResult[] = [];
  try {
    for (let now = 0; now <= 10_000; now += 2) {
      Atomics.store(st, 0, now);
      Atomics.notify(st, 0);
      await settle();
      cams.forEach((id, k) => {
        const n = seq.get(id) ?? 0;
        // Frame n of camera k at n / 15 s, the cameras 16 ms apart.
        if (now < Math.round((n * 1000) / 15) + 16 * k) return;
        seq.set(id, n + 1);
        const frame = { cameraId: id, seq: n + 1, width: 320, height: 240, stride: 320, data: new Uint8Array(320 * 240).fill(128), receivedAt: now };
        void pool.submit(frame, { view: id === "A" ? "pending" : "none" }).then((r) => r && id === "A" && results.push(r));
      });
      await settle();
    }
    return { a: results, cameras: pool.stats().cameras };
  } finally {
    await pool.close();
  }
}

describe("decode pool fairness: one busy lane and the idle cameras' slow schedule", () => {
  it("a lane whose frames keep both workers busy leaves each idle camera its slow-schedule decode about once a second", async () => {
    const { a, cameras } = await scenario(["B", "C", "D"]);
    for (const id of ["B", "C", "D"]) expect(cameras[id]!.slowScheduled, id).toBeGreaterThanOrEqual(8);
    // A still has a worker to itself nearly all the time: 10 s / 80 ms.
    expect(a.length).toBeGreaterThanOrEqual(110);
  }, 60_000);

  it("a busy camera alone keeps both workers: every frame decoded, none queued", async () => {
    const { a, cameras } = await scenario([]);
    expect(cameras.A!.dropped).toBe(0);
    expect(a.length).toBe(cameras.A!.submitted);
    expect(a.every((r) => r.timings.queueMs === 0)).toBe(true);
  }, 60_000);
});
