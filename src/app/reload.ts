import type { GatewayConfig } from "../config/schema.js";

export type Section = keyof GatewayConfig;

/** Sections a running gateway cannot change: identity and state dir, listeners and tokens, the Redis connection. */
export const RESTART_SECTIONS: readonly Section[] = ["gateway", "server", "redis"];

const SECTIONS: readonly Section[] = ["gateway", "log", "server", "decode", "cameras", "lanes", "display", "trust", "redis", "mqtt", "events"];

export interface ReloadResult {
  /** Sections that changed and now run with the new values. */
  applied: Section[];
  /** Sections that changed but keep their old values until the gateway restarts. */
  restartRequired: Section[];
  unchanged: Section[];
  /** Which lanes and cameras were added, removed or rebuilt. */
  details: {
    lanes?: { added: string[]; removed: string[]; changed: string[] };
    cameras?: { added: string[]; removed: string[]; changed: string[] };
  };
}

/** Top-level sections whose value differs (validated configs: defaults filled, so a textual compare is exact). */
export function diffSections(a: GatewayConfig, b: GatewayConfig): Section[] {
  return SECTIONS.filter((s) => JSON.stringify(a[s]) !== JSON.stringify(b[s]));
}
