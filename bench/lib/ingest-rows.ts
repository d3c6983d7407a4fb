import type { TransportKind } from "../../src/ingest/index.js";
import { fmt, summarize } from "./stats.js";

/**
 * The rows of `bench:ingest`'s camera table: one camera over one frame transport, its rounds
 * folded into medians, and the target check against a bare decode of the same stream.
 */

export type PixelFormat = "yplane" | "yuv420p" | "gray";

export interface IngestRow {
  config: string;
  pixelFormat: string;
  transport: TransportKind;
  ffmpegCpu: number;
  readerCpu: number;
  refCpu: number;
  fps: number;
  fpsRead: number;
  /** Median over the rounds of ffmpeg + reader (not the sum of the two medians). */
  cameraCpu: number;
  delay: ReturnType<typeof summarize>;
  delaySamples: number[];
  /** This process's CPU in the camera's window, before the harness baseline is taken off. */
  readerCpuRaw?: number;
  rounds?: Array<{ ffmpegCpu: number; readerCpu: number; readerCpuRaw?: number }>;
  refRounds?: number[];
  /** This process's CPU with the server up and no camera (median of the rounds). */
  harnessCpu?: number;
  harnessRounds?: number[];
  startupMs: number;
  recoveryMs: number | undefined;
  burstDropped: number;
}

/** Median of a few numbers (the rounds of one contender). */
export const median = (xs: number[]): number => summarize(xs).median;

/** One round's row with this process's harness baseline of that round taken off the reader (never below 0). */
export function lessHarness(row: IngestRow, harnessCpu: number): IngestRow {
  return { ...row, readerCpuRaw: row.readerCpu, readerCpu: Math.max(0, row.readerCpu - harnessCpu) };
}

/**
 * One row per transport from its rounds: each CPU figure and rate is the median of its rounds, the
 * delay is over every round's samples, the rest comes from the last round (the one that may time
 * the restart). The reference decode is a Y-plane figure, so only a yplane row gets a ratio.
 */
export function combineRounds(transports: TransportKind[], samples: ReadonlyMap<string, IngestRow[]>, refs: number[], harness: number[], pixelFormat: PixelFormat): IngestRow[] {
  const refCpu = pixelFormat === "yplane" ? median(refs) : NaN;
  return transports.map((t) => {
    const rs = samples.get(t)!;
    const last = rs[rs.length - 1]!;
    return {
      ...last,
      ffmpegCpu: median(rs.map((r) => r.ffmpegCpu)),
      readerCpu: median(rs.map((r) => r.readerCpu)),
      cameraCpu: median(rs.map((r) => r.ffmpegCpu + r.readerCpu)),
      fps: median(rs.map((r) => r.fps)),
      fpsRead: median(rs.map((r) => r.fpsRead)),
      delay: summarize(rs.flatMap((r) => r.delaySamples)),
      refCpu,
      rounds: rs.map((r) => ({ ffmpegCpu: r.ffmpegCpu, readerCpu: r.readerCpu, readerCpuRaw: r.readerCpuRaw })),
      refRounds: refs,
      harnessCpu: median(harness),
      harnessRounds: harness,
    };
  });
}

/** The target (issue #10): every row over the shipped transport whose camera CPU is over `ratioTarget` x its bare decode. */
export function ratioMisses(rows: readonly IngestRow[], shipped: TransportKind, ratioTarget: number): string[] {
  return rows.filter((r) => r.transport === shipped && r.cameraCpu / r.refCpu > ratioTarget).map((r) => `${r.config} (${r.transport}): ${fmt(r.cameraCpu / r.refCpu)}x bare decode > ${ratioTarget}x`);
}
