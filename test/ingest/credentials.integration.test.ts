/**
 * Camera credentials never appear on ffmpeg's command line (issue #11 item 7): the real ffmpeg,
 * a scripted RTSP endpoint that demands Basic authentication (to see what ffmpeg sends), and the
 * real GStreamer RTSP server (frames flow through the credential path too).
 */
import { createServer, type Server } from "node:net";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { CameraSupervisor, ffmpegInvocation, nodeSpawner, type SpawnedProcess } from "../../src/ingest/index.js";
import { inputUrl } from "../../src/ingest/camera-url.js";
import { makeQrClip, readFrameClock, startRtspServer, type RtspServer } from "../support/rtsp/index.js";
import { collectingLogger } from "./fake-ffmpeg.js";
import { testCamera } from "./helpers.js";

const USER = "gate-op";
const PASS = "Pw-9f3!k@x:y";

async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe("camera credentials", () => {
  it("reach the camera as RTSP Basic auth while /proc/PID/cmdline holds neither user nor password", async () => {
    expect.hasAssertions();
    const auth: string[] = [];
    const server: Server = createServer((s) => {
      s.on("error", () => {});
      s.on("data", (d) => {
        const t = d.toString("latin1");
        const cseq = /CSeq: (\d+)/i.exec(t)?.[1] ?? "1";
        const a = /Authorization: Basic (\S+)/i.exec(t)?.[1];
        if (a) auth.push(Buffer.from(a, "base64").toString("utf8"));
        // The first answer comes late, so ffmpeg is surely running (exec done) when its cmdline is read.
        if (t.startsWith("OPTIONS")) setTimeout(() => s.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nPublic: DESCRIBE, SETUP, PLAY\r\n\r\n`), 400);
        else if (a) s.write(`RTSP/1.0 404 Not Found\r\nCSeq: ${cseq}\r\n\r\n`);
        else s.write(`RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n`);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const cam = testCamera({ url: `rtsp://127.0.0.1:${port}/stream`, username: USER, password: PASS });
    const inv = ffmpegInvocation(cam, inputUrl(cam));
    const proc = nodeSpawner("ffmpeg", inv.args, inv.stdin) as SpawnedProcess & { pid: number };
    let alive = true;
    const exited = new Promise<void>((r) => proc.on("exit", () => ((alive = false), r())));
    // Until exec has replaced the forked Node image, /proc shows Node's command line.
    let cmdline = "";
    await until(() => !alive || (cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, "utf8").replace(/\0/g, " ")).includes("pipe:0"), "ffmpeg's command line");
    await exited;
    expect(cmdline).toContain("ffmpeg");
    expect(cmdline).toContain("pipe:0");
    for (const secret of [USER, PASS, encodeURIComponent(PASS)]) expect(cmdline).not.toContain(secret);
    expect(auth).toEqual([`${USER}:${PASS}`]);
  });

  it("credentials in the URL's query string reach the camera while /proc/PID/cmdline does not show them", async () => {
    expect.hasAssertions();
    const requests: string[] = [];
    const server: Server = createServer((s) => {
      s.on("error", () => {});
      s.on("data", (d) => {
        const t = d.toString("latin1");
        requests.push(t.split("\r\n")[0] ?? "");
        const cseq = /CSeq: (\d+)/i.exec(t)?.[1] ?? "1";
        // Late, so ffmpeg is surely running (exec done) when its cmdline is read; then refused, so it exits.
        setTimeout(() => s.write(`RTSP/1.0 404 Not Found\r\nCSeq: ${cseq}\r\n\r\n`), 400);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const secret = "Q-Secret-77";
    const cam = testCamera({ url: `rtsp://127.0.0.1:${port}/cam/realmonitor?channel=1&subtype=0&user=admin&password=${secret}` });
    const inv = ffmpegInvocation(cam, inputUrl(cam));
    const proc = nodeSpawner("ffmpeg", inv.args, inv.stdin) as SpawnedProcess & { pid: number };
    let alive = true;
    const exited = new Promise<void>((r) => proc.on("exit", () => ((alive = false), r())));
    let cmdline = "";
    await until(() => !alive || (cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, "utf8").replace(/\0/g, " ")).includes("pipe:0"), "ffmpeg's command line");
    await exited;
    expect(cmdline).toContain("pipe:0");
    expect(cmdline).not.toContain(secret);
    expect(requests.some((r) => r.includes(`password=${secret}`))).toBe(true);
  });

  it("a supervised camera with credentials delivers frames from the real RTSP server", async () => {
    expect.hasAssertions();
    const clip = await makeQrClip({ width: 320, height: 240, fps: 10, segments: [{ text: "CRED", seconds: 2 }] });
    const rtsp: RtspServer = await startRtspServer({ clip });
    cleanup.push(() => rtsp.stop());
    // The test server accepts any user: ffmpeg sends credentials only when challenged.
    const cam = testCamera({ url: rtsp.url, username: USER, password: PASS, width: 320, height: 240, fps: 10, startupGraceMs: 10_000, stallTimeoutMs: 3000 });
    const clocks: Array<number | undefined> = [];
    const argv: string[] = [];
    const sup = new CameraSupervisor(cam, {
      logger: collectingLogger().logger,
      onFrame: (f) => clocks.push(readFrameClock(f)),
      spawner: (cmd, args, stdin, stdout) => {
        argv.push(args.join(" "));
        return nodeSpawner(cmd, args, stdin, stdout);
      },
      // What ships on Linux: credentials on stdin, frames over the socket.
      transport: "socket",
    });
    cleanup.push(() => sup.stop());
    sup.start();
    await until(() => clocks.filter((c) => c !== undefined).length >= 5, "5 frames with a readable frame clock");
    expect(argv[0]).toContain("-i pipe:0");
    expect(argv[0]).not.toContain(PASS.slice(0, 6));
    expect(sup.stats().url).not.toContain("Pw-9f3");
  }, 60_000);
});
