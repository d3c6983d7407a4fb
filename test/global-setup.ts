import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * Tests must run what ships. Worker threads and the CLI run the compiled tree under `dist/`, so a
 * test run that reused an old build would test old code (a broken fast pass once left the pool
 * tests green). Build before every run: a full `tsc -p tsconfig.build.json` of src, bench and
 * scripts each time (no `incremental` or `composite`, no .tsbuildinfo), so an unchanged tree costs
 * as much as a changed one; in exchange `dist/` is always fresh.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });
}
