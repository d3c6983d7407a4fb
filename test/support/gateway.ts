import { startGateway as startRealGateway, type Gateway, type GatewayOptions } from "../../src/app/gateway.js";
import type { GatewayConfig } from "../../src/config/schema.js";
import { systemClock } from "../../src/core/clock.js";
import { SYNTHETIC_FILE, syntheticCameras } from "../../src/ingest/testing/synthetic.js";

/** A test camera's source: generated frames (a moving gradient) instead of ffmpeg, given by `startGateway` below. */
export const SYNTHETIC = { source: "file", file: SYNTHETIC_FILE } as const;

/** The real gateway, with the cameras marked `SYNTHETIC` fed by the in-memory frame source (others run ffmpeg as usual). */
export function startGateway(cfg: GatewayConfig, opts: GatewayOptions): Promise<Gateway> {
  return startRealGateway(cfg, { spawnerFor: syntheticCameras(opts.clock ?? systemClock), ...opts });
}
