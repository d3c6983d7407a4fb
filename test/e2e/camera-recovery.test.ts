/**
 * Finding 9 (issue #11) through the whole gateway: the real RTSP server is killed and restarted
 * three times under the default camera config. Each time the lane goes out of service
 * (CAMERAS_DOWN), /readyz turns 503, and both come back; the camera's fps (dashboard, MQTT stats) is its
 * rate one second after the recovery (the old 5 s divisor under-reported it), no budget is spent.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { startGateway } from "../../src/app/gateway.js";
import { collectingLogger } from "../ingest/fake-ffmpeg.js";
import { makeQrClip, startRtspServer } from "../support/rtsp/index.js";
import { waitFor } from "../support/wait.js";

const dir = mkdtempSync(join(tmpdir(), "cpgw-recovery-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const until = (cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) => waitFor(cond, what, timeoutMs, 50);

describe("camera recovery through the gateway", () => {
  it("3 server kills: lane and /readyz go down and come back each time, fps right after recovery, no GW_CAMERA_FAILED", async () => {
    expect.hasAssertions();
    const clip = await makeQrClip({ width: 640, height: 360, fps: 10, segments: [{ seconds: 4 }], keyint: 5 });
    const server = await startRtspServer({ clip });
    const log = collectingLogger();
    const cfg = parseConfig({
      gateway: { id: "gw-recovery", stateDir: join(dir, "state") },
      server: { listen: { host: "127.0.0.1", port: 0 } },
      decode: { workers: 1 },
      cameras: [{ id: "cam", lane: "L1", url: server.url, width: 640, height: 360, fps: 10 }],
      lanes: [{ id: "L1" }],
    });
    const gw = await startGateway(cfg, { logger: log.logger });
    const lane = gw.lanes.get("L1")!;
    const readyz = async () => (await fetch(`${gw.urls.public}/readyz`)).status;
    // The fps officers see (dashboard) and the MQTT stats carry; /metrics exports a frame counter instead.
    const fps = async () => ((await (await fetch(`${gw.urls.public}/api/status`)).json()) as { cameras: Array<{ id: string; fpsIn: number }> }).cameras.find((c) => c.id === "cam")?.fpsIn ?? NaN;
    try {
      await until(() => lane.status().state === "idle", "lane in service", 40_000);
      for (let i = 0; i < 3; i++) {
        await server.kill();
        await until(() => lane.status().problems.includes("CAMERAS_DOWN"), `cycle ${i}: lane out of service`);
        expect(await readyz()).toBe(503);
        await new Promise((r) => setTimeout(r, 2500));
        await server.restart();
        await until(() => lane.status().state === "idle", `cycle ${i}: lane back`, 30_000);
        expect(await readyz()).toBe(200);
        await new Promise((r) => setTimeout(r, 1000));
        // One second after recovery: the camera's own rate (10 fps), not frames-in-5-s / 5 (~2).
        expect(await fps()).toBeGreaterThan(7);
      }
      expect(log.lines().some((l) => l.code === "GW_CAMERA_FAILED")).toBe(false);
      expect(log.lines().filter((l) => l.event === "camera_unreachable")).toHaveLength(3);
    } finally {
      await gw.close();
      await server.stop();
    }
  }, 180_000);
});
