import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileSeqStore } from "../../src/lane/seq-store.js";
import { buildVerdictEvent } from "../../src/lane/event.js";

describe("FileSeqStore", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("continues after a restart so event ids stay unique", () => {
    const dir = mkdtempSync(join(tmpdir(), "seq-"));
    dirs.push(dir);
    const a = new FileSeqStore(dir);
    expect([a.next("L1"), a.next("L1"), a.next("L2")]).toEqual([1, 2, 1]);
    const b = new FileSeqStore(dir);
    expect(b.next("L1")).toBe(3);
    expect(b.current("L2")).toBe(1);
  });
});

describe("buildVerdictEvent", () => {
  it("shapes id, timings (never negative) and keeps verdict facts", () => {
    const ev = buildVerdictEvent(
      { verdict: "FLAG", reason: "EXPIRED", format: "pass", kid: "k1" },
      { gatewayId: "g", lane: "L", cameraId: "c", seq: 7, at: 5, decidedMono: 100.123, frameReceivedAt: 90, firstSeen: 110, payloadHash: "ab" },
    );
    expect(ev).toMatchObject({ id: "g:L:7", verdict: "FLAG", reason: "EXPIRED", kid: "k1", frameToVerdictMs: 10.12, firstSeenToVerdictMs: 0, payloadHash: "ab" });
  });
});

describe("recentQuantiles", () => {
  it("is undefined without samples and picks nearest-rank quantiles", async () => {
    const { recentQuantiles } = await import("../../src/lane/telemetry.js");
    expect(recentQuantiles({ recentFirstSeenMs: [] })).toBeUndefined();
    expect(recentQuantiles({ recentFirstSeenMs: [5, 1, 3, 2, 4] })).toEqual({ p50: 3, p99: 5 });
  });
});
