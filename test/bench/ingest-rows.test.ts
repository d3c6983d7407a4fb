import { describe, expect, it } from "vitest";
import { combineRounds, lessHarness, ratioMisses, type IngestRow } from "../../bench/lib/ingest-rows.js";
import { summarize } from "../../bench/lib/stats.js";

const row = (transport: "socket" | "pipe", ffmpegCpu: number, readerCpu: number, extra: Partial<IngestRow> = {}): IngestRow => ({
  config: "720p 10fps", pixelFormat: "yplane", transport, ffmpegCpu, readerCpu, cameraCpu: ffmpegCpu + readerCpu, refCpu: NaN,
  fps: 10, fpsRead: 10, delay: summarize([]), delaySamples: [], startupMs: 100, recoveryMs: undefined, burstDropped: 0, ...extra,
});

describe("bench:ingest rows", () => {
  it("takes the harness baseline off the reader, keeps the raw figure, never goes below 0", () => {
    expect(lessHarness(row("socket", 7, 3), 1)).toMatchObject({ readerCpu: 2, readerCpuRaw: 3, ffmpegCpu: 7 });
    expect(lessHarness(row("socket", 7, 0.5), 1)).toMatchObject({ readerCpu: 0, readerCpuRaw: 0.5 });
  });

  it("folds rounds into medians, camera CPU as the median of per-round sums, delay over all samples", () => {
    const socket = [row("socket", 10, 1, { delaySamples: [5, 6] }), row("socket", 2, 9, { delaySamples: [7] }), row("socket", 6, 3, { delaySamples: [8], recoveryMs: 400, burstDropped: 3 })];
    const [r] = combineRounds(["socket"], new Map([["socket", socket]]), [4, 8, 6], [1, 3, 2], "yplane");
    expect(r!.ffmpegCpu).toBe(6);
    expect(r!.readerCpu).toBe(3);
    // Per-round sums 11, 11, 9: median 11, not 6 + 3.
    expect(r!.cameraCpu).toBe(11);
    expect(r!.delay.n).toBe(4);
    expect(r!.refCpu).toBe(6);
    expect(r!.harnessCpu).toBe(2);
    expect(r!.harnessRounds).toEqual([1, 3, 2]);
    // The last round's restart figures are kept.
    expect(r!.recoveryMs).toBe(400);
    expect(r!.burstDropped).toBe(3);
    expect(r!.rounds).toHaveLength(3);
  });

  it("gives no reference to a row that is not the Y plane", () => {
    const [r] = combineRounds(["pipe"], new Map([["pipe", [row("pipe", 5, 5)]]]), [4], [0], "gray");
    expect(r!.refCpu).toBeNaN();
  });

  it("misses the target only on the shipped transport above the ratio", () => {
    const rows = [row("socket", 11, 1, { refCpu: 10 }), row("pipe", 20, 0, { refCpu: 10 }), { ...row("socket", 10, 1, { refCpu: 10 }), config: "1080p 15fps" }];
    // 12/10 = 1.2 > 1.15 misses; 11/10 = 1.1 passes; the pipe row is not checked.
    expect(ratioMisses(rows, "socket", 1.15)).toEqual(["720p 10fps (socket): 1.20x bare decode > 1.15x"]);
    expect(ratioMisses(rows, "socket", 1.25)).toEqual([]);
  });
});
