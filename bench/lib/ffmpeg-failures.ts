import { spawn } from "node:child_process";
import { makeQrClip, startRtspServer } from "../../test/support/rtsp/index.js";
import { fmt } from "./stats.js";
import { sleep, waitFor } from "./wait.js";

/**
 * How a bare ffmpeg (no supervisor) really fails against the RTSP server: what the supervisor's
 * stall and exit handling must cover. Printed by `bench:ingest` (unless --no-failures).
 */

export interface Observation {
  scenario: string;
  outcome: string;
}

type Exit = { code: number | null; signal: string | null; at: number };

export async function observeFailures(): Promise<Observation[]> {
  const clip = await makeQrClip({ width: 640, height: 360, fps: 10, segments: [{ text: "OBSERVE", seconds: 4 }] });
  const server = await startRtspServer({ clip });
  const out: Observation[] = [];
  const args = (url: string) => ["-hide_banner", "-nostdin", "-loglevel", "warning", "-rtsp_transport", "tcp", "-timeout", "5000000", "-fflags", "nobuffer", "-flags", "low_delay", "-i", url, "-an", "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1"];
  const run = async (url: string) => {
    const p = spawn("ffmpeg", args(url), { stdio: ["ignore", "pipe", "ignore"] });
    let bytes = 0;
    p.stdout.on("data", (c: Buffer) => (bytes += c.length));
    const exit = new Promise<Exit>((r) => p.once("exit", (code, signal) => r({ code, signal, at: performance.now() })));
    await waitFor(() => bytes > 0, 15000);
    return { p, exit };
  };
  const race = async (exit: Promise<Exit>, ms: number) => Promise.race([exit, sleep(ms).then(() => undefined)]);
  try {
    {
      const { exit } = await run(server.url);
      const t = performance.now();
      await server.kill();
      const e = await race(exit, 15000);
      out.push({ scenario: "server killed", outcome: e ? `exit code ${e.code} after ${fmt(e.at - t, 0)} ms` : "no exit within 15 s" });
      await server.restart();
    }
    {
      const { p, exit } = await run(server.url);
      server.freeze();
      const e = await race(exit, 12000);
      out.push({ scenario: "feed frozen, session up", outcome: e ? `exit code ${e.code} after freeze` : "still running after 12 s (no exit)" });
      if (!e) {
        const t = performance.now();
        p.kill("SIGTERM");
        const e2 = await race(exit, 3000);
        out.push({ scenario: "SIGTERM while frozen", outcome: e2 ? `exited after ${fmt(e2.at - t, 0)} ms (code ${e2.code}, signal ${e2.signal})` : "ignored for 3 s; SIGKILL needed" });
        if (!e2) {
          p.kill("SIGKILL");
          await exit;
        }
      }
      server.unfreeze();
    }
    {
      const t = performance.now();
      const p = spawn("ffmpeg", args("rtsp://127.0.0.1:9/none"), { stdio: "ignore" });
      const e = await new Promise<{ code: number | null }>((r) => p.once("exit", (code) => r({ code })));
      out.push({ scenario: "unreachable port", outcome: `exit code ${e.code} after ${fmt(performance.now() - t, 0)} ms` });
    }
  } finally {
    await server.stop();
  }
  return out;
}
