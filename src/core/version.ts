import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/**
 * The gateway's version from its package.json, found by walking up from this module (it runs
 * from `src/` under vitest and from `dist/src/` in production). "unknown" if it cannot be read:
 * a version label must never stop the gateway.
 */
export function gatewayVersion(): string {
  if (cached !== undefined) return cached;
  cached = "unknown";
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "checkpoint-gateway" && typeof pkg.version === "string") {
        cached = pkg.version;
        break;
      }
    } catch {
      // not here: keep walking up
    }
    dir = dirname(dir);
  }
  return cached;
}
