import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/**
 * Tests must run what ships. Worker threads and the CLI run the compiled tree under `dist/`, so a
 * test run that reused an old build would test old code (a broken fast pass once left the pool
 * tests green). Build before every run; the incremental build info makes an unchanged tree cost
 * about a second.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });
}
