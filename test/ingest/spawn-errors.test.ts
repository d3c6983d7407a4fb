import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
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

/**
 * Out of file descriptors, Node's spawn() returns a child without stdio and emits its EMFILE 'error' a tick later.
 * Run in a child Node with a low descriptor limit, all used up, so the test process keeps its own descriptors.
 */
const OUT_OF_FDS = `
import { openSync } from "node:fs";
import { CameraSupervisor } from ${JSON.stringify(pathToFileURL(resolve("dist/src/ingest/index.js")).href)};
import { cameraSchema } from ${JSON.stringify(pathToFileURL(resolve("dist/src/ingest/options.js")).href)};
const logger = { child() { return this; }, info() {}, warn() {}, debug() {}, trace() {}, fatal() {}, error(o) { if (o.event === "ffmpeg_exit") exit = o.error; } };
let exit;
const cam = cameraSchema.parse({ id: "cam1", lane: "lane1", source: "file", file: "/dev/null", width: 16, height: 16, fps: 10, frameTransport: process.argv[1], backoffInitialMs: 60000, backoffMaxMs: 60000 });
const sup = new CameraSupervisor(cam, { logger, onFrame: () => {} });
const held = [];
try { for (;;) held.push(openSync("/dev/null", "r")); } catch {}
sup.on("state", (s) => {
  // setImmediate runs after the child's pending 'error' (a nextTick): an uncaught one would have ended us first.
  if (s === "backoff") setImmediate(() => { console.log(JSON.stringify({ held: held.length, state: sup.state, ingestError: sup.stats().ingestError, exit })); process.exit(0); });
});
sup.start();
`;

describe("real spawner out of file descriptors", () => {
  for (const transport of ["pipe", "socket"]) {
    it(`${transport}: the spawn fails as GW_CAMERA_SPAWN and the camera backs off; no uncaught EMFILE`, () => {
      const r = spawnSync("/bin/sh", ["-c", 'ulimit -n 128 && exec "$0" --input-type=module -e "$1" "$2"', process.execPath, OUT_OF_FDS, transport], { encoding: "utf8", timeout: 20_000 });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as { held: number; state: string; ingestError: string; exit: string };
      expect(out.held).toBeGreaterThan(0);
      expect(out).toMatchObject({ state: "backoff", ingestError: "GW_CAMERA_SPAWN" });
      expect(out.exit).toContain("EMFILE");
    });
  }
});
