import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Builds dist/ before any test: workers and the CLI run compiled code, never a stale copy.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores in CI: integration tests spawn ffmpeg, GStreamer and Chromium, so keep parallelism low.
    maxWorkers: 2,
    pool: "forks",
    reporters: ["default"],
  },
});
