import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (works from sources under vitest and from dist/ for benches). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "test", "support", "rtsp", "rtsp_server.py"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("project root not found from " + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Git-ignored cache for generated clips (deterministic from their parameters). */
export function fixtureCacheDir(): string {
  return join(projectRoot(), ".tmp", "rtsp-fixtures");
}

export function serverScript(): string {
  return join(projectRoot(), "test", "support", "rtsp", "rtsp_server.py");
}
