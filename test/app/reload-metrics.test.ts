/**
 * The real gateway's reload tells /metrics which lanes and cameras it removed: their series are gone
 * from the next scrape (the last-verdict gauge, the verdict histograms and counters, the camera's
 * series), the remaining lane's are intact, and adding the lane again brings fresh series.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/core/logger.js";
import { SYNTHETIC, startGateway } from "../support/gateway.js";
import { makeEvent } from "../events/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "cpgw-reload-metrics-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const camera = (id: string, lane: string) => ({ id, lane, ...SYNTHETIC, width: 320, height: 240, fps: 5 });
const config = (lanes: string[]) =>
  parseConfig({
    gateway: { id: "gw-rm", stateDir: join(dir, "state") },
    server: { listen: { host: "127.0.0.1", port: 0 } },
    decode: { workers: 1 },
    cameras: lanes.map((l) => camera(`c-${l}`, l)),
    lanes: lanes.map((id) => ({ id })),
    events: { ledger: false },
  });
const p = "checkpoint_gateway_";
const linesOf = (text: string, label: string, id: string) => text.split("\n").filter((l) => l.startsWith(p) && l.includes(`${label}="${id}"`));

describe("reload and /metrics", () => {
  it("a removed lane's and camera's series are gone, the remaining lane's intact, a re-added lane's fresh", async () => {
    let next = config(["L1", "L2"]);
    const gw = await startGateway(next, { logger: silentLogger, reloadConfig: () => next });
    const scrape = async () => (await fetch(`${gw.urls.public}/metrics`)).text();
    try {
      gw.bus.emit("verdict", makeEvent("gw-rm", "L1", 1));
      gw.bus.emit("verdict", makeEvent("gw-rm", "L2", 2));
      gw.bus.emit("verdict", makeEvent("gw-rm", "L2", 3));
      const before = await scrape();
      expect(before).toContain(`${p}lane_last_verdict_timestamp_seconds{lane="L2"} `);
      expect(before).toContain(`${p}first_seen_to_verdict_seconds_count{lane="L2"} 2\n`);
      expect(before).toContain(`${p}verdicts_total{lane="L2",verdict="FLAG",reason="SIG_INVALID"} 1\n`);
      expect(linesOf(before, "camera", "c-L2").length).toBeGreaterThan(0);
      const l1Verdicts = linesOf(before, "lane", "L1").filter((l) => l.includes("verdict"));
      expect(l1Verdicts.length).toBeGreaterThan(3);

      next = config(["L1"]);
      const r = await gw.reload();
      expect(r.details.lanes?.removed).toEqual(["L2"]);
      const after = await scrape();
      expect(linesOf(after, "lane", "L2"), "series of the removed lane").toEqual([]);
      expect(linesOf(after, "camera", "c-L2"), "series of the removed camera").toEqual([]);
      expect(linesOf(after, "lane", "L1").filter((l) => l.includes("verdict"))).toEqual(l1Verdicts);
      expect(after).toContain(`${p}lane_in_service{lane="L1"} `);

      next = config(["L1", "L2"]);
      expect((await gw.reload()).details.lanes?.added).toEqual(["L2"]);
      const readded = await scrape();
      expect(readded).toContain(`${p}verdicts_total{lane="L2",verdict="ERROR",reason="INTERNAL_ERROR"} 0\n`);
      expect(readded).not.toContain(`${p}verdicts_total{lane="L2",verdict="FLAG"`);
      expect(readded).not.toContain(`${p}lane_last_verdict_timestamp_seconds{lane="L2"}`);
      gw.bus.emit("verdict", makeEvent("gw-rm", "L2", 4));
      expect(await scrape()).toContain(`${p}first_seen_to_verdict_seconds_count{lane="L2"} 1\n`);
    } finally {
      await gw.close();
    }
  }, 60_000);
});
