import type { TrustConfig } from "../../verify/trust/options.js";
import type { DisplayConfig } from "./display-options.js";
import type { LaneDisplayConfig } from "./lane-view.js";
import type { ServerConfig } from "./server-options.js";

/**
 * What the HTTP server reads of the gateway config. The gateway passes its whole config (or a
 * getter, so a reload is seen); naming the parts here keeps this stage free of the config module.
 */
export interface HttpConfig {
  gateway: { id: string };
  server: ServerConfig;
  display: DisplayConfig;
  lanes: readonly LaneDisplayConfig[];
  trust: Pick<TrustConfig, "staleAction" | "clockAction">;
}
