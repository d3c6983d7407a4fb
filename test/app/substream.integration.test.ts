/**
 * A camera with a substream (mainStream: on-activity) in the real gateway, against two real
 * GStreamer RTSP servers (a 640x360 "main stream" and a 320x180 substream of the same scene) and
 * the real ffmpeg. The hold is the minimum (1 s) so a test sees it expire; the policy's timing in
 * simulated minutes is test/ingest/paired.test.ts. No timed assertions: conditions are awaited.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../bench/lib/net.js";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/core/logger.js";
import type { DecodeResult } from "../../src/core/types.js";
import { startGateway, type Gateway } from "../../src/app/gateway.js";
import { childProcesses, makeQrClip, startRtspServer, type RtspServer } from "../support/rtsp/index.js";
import { waitFor } from "../support/wait.js";

const dir = mkdtempSync(join(tmpdir(), "cpgw-substream-"));
const servers: RtspServer[] = [];
let main: RtspServer;
let sub: RtspServer;
const TEXT = "GW-SUBSTREAM-A";

beforeAll(async () => {
  // Quiet for 6 s, then a code held up for 12 s (longer than a warm-up on a loaded machine): the
  // camera goes to standby, then the code's appearance is the activity that warms the main stream.
  const segments = [{ seconds: 6 }, { text: TEXT, seconds: 12 }];
  const mainClip = await makeQrClip({ width: 640, height: 360, fps: 10, segments, clock: false });
  const subClip = await makeQrClip({ width: 320, height: 180, fps: 5, segments, clock: false });
  main = await startRtspServer({ clip: mainClip });
  sub = await startRtspServer({ clip: subClip });
  servers.push(main, sub);
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

const until = (cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 40_000) => waitFor(cond, what, timeoutMs, 50);
const readyz = async (gw: Gateway) => (await (await fetch(`${gw.urls.public}/readyz`)).json()) as { problems: Array<{ code: string; camera?: string; detail: string }> };
const metrics = async (gw: Gateway) => (await fetch(`${gw.urls.public}/metrics`)).text();
const state = (gw: Gateway) => gw.cameras.info().find((c) => c.id === "c1")!.state;
/** ffmpeg processes of this test (the servers' feeds are ffmpeg too). */
const ownFfmpegs = () => {
  const feeds = new Set(servers.flatMap((s) => s.pids()));
  return childProcesses(process.pid, "ffmpeg").filter((p) => !feeds.has(p));
};

async function gateway(name: string, mainUrl: string, subUrl: string, decoded: DecodeResult[] = [], widths: number[] = []): Promise<Gateway> {
  const cfg = parseConfig({
    gateway: { id: `gw-${name}`, stateDir: join(dir, name) },
    server: { listen: { host: "127.0.0.1", port: 0 } },
    decode: { workers: 1 },
    cameras: [
      {
        id: "c1", lane: "L1", url: mainUrl, width: 640, height: 360, fps: 10,
        subStream: { url: subUrl, width: 320, height: 180, fps: 5 },
        warmHoldMs: 1000, startupGraceMs: 8000, backoffInitialMs: 200, backoffMaxMs: 1000,
      },
    ],
    lanes: [{ id: "L1" }],
  });
  return startGateway(cfg, { logger: silentLogger, onDecoded: (r) => decoded.push(r), onFrame: (f) => widths.push(f.width) });
}

describe("camera substream (mainStream: on-activity) in the gateway", () => {
  it("stands by on the substream, warms the main stream on activity, reads the code from the main stream, and stands by again", async () => {
    const decoded: DecodeResult[] = [];
    const widths: number[] = [];
    const gw = await gateway("cycle", main.url, sub.url, decoded, widths);
    const seen: string[] = [];
    const poll = setInterval(() => {
      const s = state(gw);
      if (seen[seen.length - 1] !== s) seen.push(s);
    }, 20);
    try {
      // Quiet: main stream stopped, only the substream's ffmpeg runs, and the lane counts as able to read.
      await until(() => state(gw) === "standby", "standby");
      await until(() => ownFfmpegs().length === 1, "only the substream's ffmpeg");
      expect((await readyz(gw)).problems.filter((p) => p.code === "CAMERA_DOWN")).toEqual([]);
      expect(gw.lanes.get("L1")!.status().problems).not.toContain("CAMERAS_DOWN");
      const m = await metrics(gw);
      expect(m).toMatch(/checkpoint_gateway_camera_state\{camera="c1",lane="L1",state="standby"\} 1/);
      expect(m).toMatch(/checkpoint_gateway_camera_up\{camera="c1",lane="L1"\} 1/);

      // The code appears on the substream: the main stream starts; while it warms the lane is not up.
      const before = decoded.length;
      await until(() => state(gw) === "warming", "warming");
      const w = await readyz(gw);
      if (state(gw) === "warming") {
        expect(w.problems).toContainEqual(expect.objectContaining({ code: "CAMERA_DOWN", camera: "c1" }));
        expect(await metrics(gw)).toMatch(/checkpoint_gateway_camera_up\{camera="c1",lane="L1"\} 0/);
      }
      await until(() => decoded.slice(before).some((r) => r.codes.some((c) => c.text === TEXT)), "the code read from the main stream");
      // Every frame on the decode path is a main-stream frame: the substream only decides when that runs.
      expect(decoded.every((r) => r.cameraId === "c1")).toBe(true);
      expect(widths.length).toBeGreaterThan(0);
      expect(widths.every((w) => w === 640)).toBe(true);

      // The code goes, the hold passes: standby again, the main stream's ffmpeg gone.
      await until(() => seen.lastIndexOf("standby") > seen.indexOf("online", seen.indexOf("warming")), "standby again");
      await until(() => ownFfmpegs().length === 1, "main stream stopped");
      const order = ["standby", "warming", "online", "standby"];
      let at = -1;
      for (const s of order) at = seen.indexOf(s, at + 1);
      expect(at, `states seen: ${seen.join(" ")}`).toBeGreaterThan(0);
    } finally {
      clearInterval(poll);
      await gw.close();
    }
    expect(ownFfmpegs()).toEqual([]);
  }, 120_000);

  it("a dead main stream is never up, although the substream sees", async () => {
    const dead = `rtsp://127.0.0.1:${await freePort()}/main`;
    const gw = await gateway("deadmain", dead, sub.url);
    try {
      await until(() => gw.cameras.info().length === 1 && ownFfmpegs().length >= 1, "substream running");
      // Well past the hold: the camera keeps retrying its main stream instead of standing by.
      const states = new Set<string>();
      const end = Date.now() + 4000;
      while (Date.now() < end) {
        states.add(state(gw));
        await new Promise((r) => setTimeout(r, 50));
      }
      expect([...states].filter((s) => s === "online" || s === "standby")).toEqual([]);
      await until(() => gw.lanes.get("L1")!.status().problems.includes("CAMERAS_DOWN"), "lane says it cannot see");
      expect((await readyz(gw)).problems).toContainEqual(expect.objectContaining({ code: "CAMERA_DOWN", camera: "c1" }));
      expect(await metrics(gw)).toMatch(/checkpoint_gateway_camera_up\{camera="c1",lane="L1"\} 0/);
    } finally {
      await gw.close();
    }
  }, 60_000);

  it("a dead substream: the main stream runs all the time and reads; with both dead the lane cannot see", async () => {
    const deadSub = `rtsp://127.0.0.1:${await freePort()}/sub`;
    const gw = await gateway("deadsub", main.url, deadSub);
    try {
      await until(() => state(gw) === "online", "online on the main stream");
      // Unknown counts as activity: no standby while the substream is down, however long.
      const states = new Set<string>();
      const end = Date.now() + 3000;
      while (Date.now() < end) {
        states.add(state(gw));
        await new Promise((r) => setTimeout(r, 50));
      }
      expect([...states]).toEqual(["online"]);
      expect(gw.lanes.get("L1")!.status().problems).not.toContain("CAMERAS_DOWN");
    } finally {
      await gw.close();
    }
    const both = await gateway("deadboth", `rtsp://127.0.0.1:${await freePort()}/main`, deadSub);
    try {
      await until(() => both.lanes.get("L1")!.status().problems.includes("CAMERAS_DOWN"), "lane says it cannot see");
      expect((await readyz(both)).problems).toContainEqual(expect.objectContaining({ code: "CAMERA_DOWN", camera: "c1" }));
    } finally {
      await both.close();
    }
  }, 60_000);
});
