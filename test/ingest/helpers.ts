import { cameraSchema, type CameraConfig } from "../../src/ingest/options.js";
import type { z } from "zod";

/** A validated camera config with small frames and tight timings for unit tests. */
export function testCamera(over: Partial<z.input<typeof cameraSchema>> = {}): CameraConfig {
  return cameraSchema.parse({
    id: "cam1",
    lane: "lane1",
    url: "rtsp://admin:s3cretpw@10.0.0.9:554/stream1",
    width: 16,
    height: 16,
    fps: 10,
    startupGraceMs: 5000,
    stallTimeoutMs: 1000,
    killGraceMs: 500,
    backoffInitialMs: 500,
    backoffMaxMs: 4000,
    backoffJitter: 0.2,
    restartBudget: 5,
    restartWindowMs: 60000,
    failedRetryMs: 20000,
    ...over,
  });
}
