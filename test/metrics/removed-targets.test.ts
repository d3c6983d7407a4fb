/**
 * Soak audit: a lane or camera removed by a reload kept its series on /metrics (decode histograms,
 * decodes_total, first_seen_to_verdict_seconds_*, verdicts_total and the last-verdict gauge), so
 * dashboards read it as a lane that still exists and every add/remove cycle left more series.
 * Now a removed one's series end with it, a remaining one's are intact, a re-added one starts afresh.
 */
import { describe, expect, it } from "vitest";
import { GatewayMetrics, type MetricsCollectors } from "../../src/output/metrics/index.js";
import type { VerdictEvent } from "../../src/core/types.js";

const p = "checkpoint_gateway_";
const NOW = Date.UTC(2026, 10, 30, 16, 0, 0);

const verdict = (lane: string, seq: number, over: Partial<VerdictEvent> = {}): VerdictEvent =>
  ({ id: `g:${lane}:${seq}`, gatewayId: "g", lane, cameraId: `cam-${lane}`, seq, at: NOW + seq * 1000, verdict: "PASS", reason: "OK", format: "dcc", payloadHash: "ab", frameToVerdictMs: 40, firstSeenToVerdictMs: 120, ...over }) as VerdictEvent;

/** The gateway's running lanes and cameras, as its collectors read them (a reload edits these lists). */
function running() {
  const lanes = ["L1", "L2"];
  const cameras = [
    { id: "cam-1", lane: "L1" },
    { id: "cam-2", lane: "L2" },
  ];
  const pool: Record<string, { submitted: number; decoded: number; dropped: number; failed: number; stoppedEarly: number }> = {
    "cam-1": { submitted: 10, decoded: 9, dropped: 0, failed: 1, stoppedEarly: 2 },
    "cam-2": { submitted: 20, decoded: 18, dropped: 0, failed: 2, stoppedEarly: 3 },
  };
  const collectors: MetricsCollectors = {
    lanes: () => lanes.map((lane) => ({ lane, state: "idle" as const, problems: [] })),
    cameras: () => cameras.map((c) => ({ ...c, state: "online" as const, fpsIn: 5, framesDropped: 0, reconnectsLastHour: 0, stallsLastHour: 0 })),
    // The pool counts per camera since start and never forgets one; so does the server's refusal tally.
    decodePool: () => ({ workers: 1, live: 1, busy: 0, restarts: 0, cameras: pool }),
    displayRefusals: () => [
      { lane: "L1", reason: "SLOW_CLIENT", count: 1 },
      { lane: "L2", reason: "SLOW_CLIENT", count: 4 },
    ],
  };
  return { lanes, cameras, collectors };
}

/** Every sample line of the gateway's own series that names `label` = `id`. */
const linesOf = (text: string, label: string, id: string) => text.split("\n").filter((l) => l.startsWith(p) && l.includes(`${label}="${id}"`));

describe("series of lanes and cameras a reload removed", () => {
  it("are gone from /metrics after the reload (gauges, histograms and counters); the remaining lane's are intact", async () => {
    const m = new GatewayMetrics({ processMetrics: false, now: () => NOW });
    const r = running();
    m.setCollectors(r.collectors);
    for (const lane of ["L1", "L2"]) {
      m.observeVerdict(verdict(lane, 1));
      m.observeVerdict(verdict(lane, 2, { verdict: "FLAG", reason: "EXPIRED" }));
    }
    m.observeDecode(5, "cam-1");
    m.observeDecode(7, "cam-2");
    const before = await m.render();
    expect(before).toContain(`${p}lane_last_verdict_timestamp_seconds{lane="L2"} ${(NOW + 2000) / 1000}\n`);
    expect(before).toContain(`${p}first_seen_to_verdict_seconds_count{lane="L2"} 2\n`);
    expect(before).toContain(`${p}verdicts_total{lane="L2",verdict="FLAG",reason="EXPIRED"} 1\n`);
    expect(before).toContain(`${p}decode_seconds_count{camera="cam-2"} 1\n`);
    expect(before).toContain(`${p}decodes_total{camera="cam-2",result="ok"} 18\n`);
    const l1Before = linesOf(before, "lane", "L1");
    const cam1Before = linesOf(before, "camera", "cam-1");

    // The reload removes L2 and its camera: the running stages no longer list them.
    r.lanes.splice(r.lanes.indexOf("L2"), 1);
    r.cameras.splice(1, 1);
    m.targetsChanged({ lanes: { added: [], removed: ["L2"] }, cameras: { added: [], removed: ["cam-2"] } });
    // A decode of cam-2 and a verdict of L2 still under way when the reload ended bring nothing back.
    m.observeDecode(9, "cam-2");
    m.observeVerdict(verdict("L2", 3));
    const after = await m.render();
    expect(linesOf(after, "lane", "L2"), "series of the removed lane").toEqual([]);
    expect(linesOf(after, "camera", "cam-2"), "series of the removed camera").toEqual([]);
    expect(linesOf(after, "lane", "L1")).toEqual(l1Before);
    expect(linesOf(after, "camera", "cam-1")).toEqual(cam1Before);

    // Added again: fresh series, not the old values.
    r.lanes.push("L2");
    r.cameras.push({ id: "cam-2", lane: "L2" });
    m.targetsChanged({ lanes: { added: ["L2"], removed: [] }, cameras: { added: ["cam-2"], removed: [] } });
    const readded = await m.render();
    expect(readded).toContain(`${p}verdicts_total{lane="L2",verdict="ERROR",reason="INTERNAL_ERROR"} 0\n`);
    expect(readded).not.toContain(`${p}verdicts_total{lane="L2",verdict="FLAG"`);
    expect(readded).not.toContain(`${p}lane_last_verdict_timestamp_seconds{lane="L2"}`);
    expect(readded).not.toContain(`${p}decode_seconds_count{camera="cam-2"}`);
    m.observeVerdict(verdict("L2", 4));
    m.observeDecode(3, "cam-2");
    const fresh = await m.render();
    expect(fresh).toContain(`${p}verdicts_total{lane="L2",verdict="PASS",reason="OK"} 1\n`);
    expect(fresh).toContain(`${p}lane_last_verdict_timestamp_seconds{lane="L2"} ${(NOW + 4000) / 1000}\n`);
    expect(fresh).toContain(`${p}first_seen_to_verdict_seconds_count{lane="L2"} 1\n`);
    expect(fresh).toContain(`${p}decode_seconds_count{camera="cam-2"} 1\n`);
  });

  it("three add/remove cycles leave the series count where it started", async () => {
    const m = new GatewayMetrics({ processMetrics: false, now: () => NOW });
    const r = running();
    r.lanes.splice(1, 1);
    r.cameras.splice(1, 1);
    m.setCollectors(r.collectors);
    m.observeVerdict(verdict("L1", 1));
    const count = async () => (await m.render()).split("\n").filter((l) => l.startsWith(p)).length;
    const base = await count();
    for (let i = 0; i < 3; i++) {
      r.lanes.push("L3");
      r.cameras.push({ id: "cam-3", lane: "L3" });
      m.targetsChanged({ lanes: { added: ["L3"], removed: [] }, cameras: { added: ["cam-3"], removed: [] } });
      m.observeVerdict(verdict("L3", i + 1, { verdict: "FLAG", reason: `R${i}` }));
      m.observeDecode(4, "cam-3");
      expect(await count()).toBeGreaterThan(base);
      r.lanes.pop();
      r.cameras.pop();
      m.targetsChanged({ lanes: { added: [], removed: ["L3"] }, cameras: { added: [], removed: ["cam-3"] } });
      expect(await count()).toBe(base);
    }
  });
});
