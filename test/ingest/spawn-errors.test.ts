import { describe, expect, it } from "vitest";
import { CameraSupervisor } from "../../src/ingest/index.js";
import { collectingLogger } from "./fake-ffmpeg.js";
import { testCamera } from "./helpers.js";

describe("real spawner failures", () => {
  it("a missing ffmpeg binary is an exit like any other: logged, backed off, never a crash", async () => {
    const log = collectingLogger();
    const sup = new CameraSupervisor(testCamera({ ffmpegPath: "/nonexistent/ffmpeg", backoffInitialMs: 50, backoffMaxMs: 100 }), { logger: log.logger, onFrame: () => {} });
    const backoffs: string[] = [];
    const twice = new Promise<void>((resolve) =>
      sup.on("state", (s: string) => {
        if (s === "backoff") backoffs.push(s);
        if (backoffs.length >= 2) resolve();
      }),
    );
    sup.start();
    await twice;
    await sup.stop();
    const exit = log.lines().find((l) => l.event === "ffmpeg_exit");
    expect(String(exit?.error)).toContain("ENOENT");
    expect(sup.state).toBe("stopped");
  });
});
