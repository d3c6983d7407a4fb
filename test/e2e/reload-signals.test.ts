/**
 * Finding 12 (issue #11) and the signals of issue #12, against the real gateway process
 * (`bin/checkpoint-gateway.js run --config FILE`): the config file is changed, then reloaded by
 * POST /admin/reload and by SIGHUP, and the effect is observed from outside (readyz, api/status,
 * metrics, logs). Pause state survives a restart. SIGTERM/SIGINT stop gracefully with the displays
 * told, and every signal is logged.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../bench/lib/net.js";
import { SseReader } from "./support.js";
import { codeFreeClip } from "../support/clip.js";

const dir = mkdtempSync(join(tmpdir(), "cpgw-reload-"));
// The cameras loop a clip without a code (real ffmpeg, as a deployment runs it).
const clip = codeFreeClip(dir);
const TOKEN = "reload-test-token-0123456789";
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Running {
  proc: ChildProcess;
  logs: () => Array<Record<string, unknown>>;
  out: () => string;
  exited: Promise<number | null>;
}

async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function start(config: string): Running {
  // The file decides the log level here: an inherited LOG_LEVEL would override it.
  const env = { ...process.env };
  delete env.LOG_LEVEL;
  const proc = spawn(process.execPath, ["bin/checkpoint-gateway.js", "run", "--config", config], { stdio: ["ignore", "pipe", "pipe"], env });
  procs.push(proc);
  let out = "";
  proc.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const logs = () =>
    out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { proc, logs, out: () => out, exited };
}

interface Yaml {
  port: number;
  adminPort: number;
  level: string;
  lanes: string[];
  cameras: string[];
  stateDir: string;
}
function yaml(c: Yaml): string {
  return [
    "gateway: { id: gw-reload, stateDir: " + JSON.stringify(c.stateDir) + " }",
    `log: { level: ${c.level} }`,
    `server: { listen: { host: 127.0.0.1, port: ${c.port} }, admin: { token: ${TOKEN}, listen: { host: 127.0.0.1, port: ${c.adminPort} } } }`,
    "decode: { workers: 1 }",
    "cameras:",
    ...c.cameras.map((x) => `  - ${x}`),
    "lanes:",
    ...c.lanes.map((id) => `  - { id: ${id} }`),
    "",
  ].join("\n");
}

const get = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};
const admin = (base: string, path: string) => fetch(`${base}${path}`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });

describe("reload and signals against the real gateway process", () => {
  it("POST /admin/reload and SIGHUP apply cameras, lanes and log level; a paused lane stays paused after a restart; SIGTERM/SIGINT stop gracefully", async () => {
    expect.hasAssertions();
    const file = join(dir, "gw.yaml");
    const closed = await freePort();
    const base: Yaml = {
      port: await freePort(),
      adminPort: await freePort(),
      level: "info",
      stateDir: join(dir, "state"),
      lanes: ["L1", "L2"],
      cameras: [`{ id: c1, lane: L1, source: file, file: ${clip}, width: 320, height: 240, fps: 5 }`, `{ id: c2, lane: L2, source: file, file: ${clip}, width: 320, height: 240, fps: 5 }`],
    };
    writeFileSync(file, yaml(base));
    const pub = `http://127.0.0.1:${base.port}`;
    const adm = `http://127.0.0.1:${base.adminPort}`;
    let gw = start(file);
    await until(async () => (await get(`${pub}/readyz`).catch(() => ({ status: 0 }))).status === 200, "ready");
    expect(gw.logs().some((l) => l.level === "debug")).toBe(false);

    // 1. The file changes: lane L2 (and its camera) removed, lane L3 with a camera that cannot connect added, log level debug.
    writeFileSync(file, yaml({ ...base, level: "debug", lanes: ["L1", "L3"], cameras: [base.cameras[0]!, `{ id: c3, lane: L3, url: "rtsp://127.0.0.1:${closed}/cam", width: 320, height: 240, fps: 5 }`] }));
    const res = await admin(adm, "/admin/reload");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; applied: string[]; restartRequired: string[]; details: { lanes: unknown; cameras: unknown } };
    expect(body.ok).toBe(true);
    expect([...body.applied].sort()).toEqual(["cameras", "lanes", "log"]);
    expect(body.restartRequired).toEqual([]);
    expect(body.details).toEqual({ lanes: { added: ["L3"], removed: ["L2"], changed: [] }, cameras: { added: ["c3"], removed: ["c2"], changed: [] } });
    // The camera added shows up in /readyz (it cannot connect; its new lane is still within its start-up grace), the lane removed is gone.
    const rz = await get(`${pub}/readyz`);
    expect(rz.status).toBe(503);
    expect(rz.body.problems).toContainEqual(expect.objectContaining({ code: "STARTING", camera: "c3", lane: "L3" }));
    const status = await get(`${pub}/api/status`);
    expect((status.body.lanes as Array<{ lane: string }>).map((l) => l.lane).sort()).toEqual(["L1", "L3"]);
    expect((status.body.cameras as Array<{ id: string }>).map((c) => c.id).sort()).toEqual(["c1", "c3"]);
    const metrics = await (await fetch(`${pub}/metrics`)).text();
    expect(metrics).not.toContain('lane="L2"');
    // The log level took effect: request lines are logged at debug now.
    await fetch(`${pub}/healthz`);
    await until(() => gw.logs().some((l) => l.level === "debug" && l.url === "/healthz"), "a debug line");

    // 2. SIGHUP: same reload. The listener port changed: it needs a restart and says so; the log level goes back to info.
    writeFileSync(file, yaml({ ...base, port: base.port + 1, level: "info", lanes: ["L1"], cameras: [base.cameras[0]!] }));
    gw.proc.kill("SIGHUP");
    const done = await until(() => gw.logs().find((l) => l.msg === "SIGHUP reload done"), "SIGHUP reload");
    expect(gw.logs().some((l) => l.signal === "SIGHUP" && String(l.msg).includes("signal received"))).toBe(true);
    expect(done.restartRequired).toEqual(["server"]);
    expect([...(done.applied as string[])].sort()).toEqual(["cameras", "lanes", "log"]);
    expect(gw.proc.exitCode).toBeNull();
    await until(async () => (await get(`${pub}/readyz`)).status === 200, "ready on the old port after SIGHUP");
    const mark = gw.logs().length;
    await fetch(`${pub}/healthz`);
    await new Promise((r) => setTimeout(r, 300));
    expect(gw.logs().slice(mark).some((l) => l.level === "debug")).toBe(false);

    // A file that fails validation: the admin API answers 500 with the code, SIGHUP logs it, nothing changes, the process lives.
    writeFileSync(file, yaml({ ...base, port: base.port + 1, lanes: ["L1"], cameras: [base.cameras[0]!, `{ id: c9, lane: nowhere, source: file, file: ${clip} }`] }));
    const bad = await admin(adm, "/admin/reload");
    expect(bad.status).toBe(500);
    expect(((await bad.json()) as { code: string }).code).toBe("GW_CONFIG_INVALID");
    gw.proc.kill("SIGHUP");
    const failed = await until(() => gw.logs().find((l) => l.msg === "SIGHUP reload failed; the previous configuration stays"), "SIGHUP failure logged");
    expect(failed.code).toBe("GW_CONFIG_INVALID");
    expect(gw.proc.exitCode).toBeNull();
    expect((await get(`${pub}/readyz`)).status).toBe(200);
    writeFileSync(file, yaml({ ...base, port: base.port + 1, level: "info", lanes: ["L1"], cameras: [base.cameras[0]!] }));

    // 3. Pause L1, then SIGTERM: displays are told, the stop is logged, exit 0.
    expect((await admin(adm, "/admin/lanes/L1/pause")).status).toBe(200);
    const sse = new SseReader(`${pub}/lanes/L1/events`);
    await sse.open();
    await sse.until((ev) => ev.some((e) => e.event === "state"), 10_000, "first state");
    gw.proc.kill("SIGTERM");
    await sse.until((ev) => ev.some((e) => e.event === "lane-status" && JSON.stringify(e.data).includes("GATEWAY_STOPPING")), 30_000, "stopping on the display");
    expect(await gw.exited).toBe(0);
    expect(gw.logs().some((l) => l.signal === "SIGTERM" && l.msg === "signal received")).toBe(true);
    expect(gw.logs().some((l) => l.msg === "gateway stopped")).toBe(true);

    // 4. Restart with the same file: L1 is still paused. Then SIGINT stops it gracefully too.
    gw = start(file);
    const pub2 = `http://127.0.0.1:${base.port + 1}`;
    await until(async () => (await fetch(`${pub2}/metrics`).catch(() => undefined))?.status === 200, "second start");
    const m2 = await (await fetch(`${pub2}/metrics`)).text();
    expect(m2).toMatch(/checkpoint_gateway_lane_state\{lane="L1",state="paused"\} 1/);
    expect(gw.logs().some((l) => String(l.msg).includes("stay paused"))).toBe(true);
    gw.proc.kill("SIGINT");
    expect(await gw.exited).toBe(0);
    expect(gw.logs().some((l) => l.signal === "SIGINT" && l.msg === "signal received")).toBe(true);
  }, 180_000);

  it("a SIGHUP during start-up is logged and does not kill the process; SIGTERM then stops it with exit 0", async () => {
    expect.hasAssertions();
    const file = join(dir, "early.yaml");
    const port = await freePort();
    writeFileSync(file, yaml({ port, adminPort: await freePort(), level: "info", stateDir: join(dir, "state-early"), lanes: ["L1"], cameras: [`{ id: c1, lane: L1, source: file, file: ${clip}, width: 320, height: 240, fps: 5 }`] }));
    const gw = start(file);
    // The first log line comes from inside startGateway: the start-up handlers are in place by then.
    await until(() => gw.logs().length > 0, "first log line", 30_000);
    gw.proc.kill("SIGHUP");
    await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, "started");
    expect(gw.proc.exitCode).toBeNull();
    expect(gw.proc.signalCode).toBeNull();
    await until(() => gw.logs().some((l) => l.signal === "SIGHUP"), "SIGHUP logged");
    gw.proc.kill("SIGTERM");
    expect(await gw.exited).toBe(0);
    expect(gw.logs().some((l) => l.signal === "SIGTERM" && l.msg === "signal received")).toBe(true);
  }, 60_000);

  describe("signals while start-up waits on a trust server that never answers", () => {
    // A JWKS source on a server that accepts connections and never answers, with no copy on disk:
    // the start-up waits for its first download (fetchTimeoutS), so the signals below surely land in it.
    let silent: Server;
    const held: import("node:net").Socket[] = [];
    afterAll(() => {
      held.forEach((c) => c.destroy());
      silent?.close();
    });
    const slowStart = async (name: string) => {
      silent ??= createServer((c) => void held.push(c)).listen(0, "127.0.0.1");
      await new Promise((r) => (silent.listening ? r(undefined) : silent.once("listening", r)));
      const at = `http://127.0.0.1:${(silent.address() as import("node:net").AddressInfo).port}`;
      const port = await freePort();
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        yaml({ port, adminPort: await freePort(), level: "info", stateDir: join(dir, `state-${name}`), lanes: ["L1"], cameras: [`{ id: c1, lane: L1, source: file, file: ${clip}, width: 320, height: 240, fps: 5 }`] }) +
          `trust: { fetchTimeoutS: 8, jwks: [{ issuer: "${at}", source: "${at}/jwks.json", allowInsecureHttp: true }] }\n`,
      );
      const before = held.length;
      const gw = start(file);
      // Its download has reached the silent server: the start-up is waiting on it now.
      await until(() => held.length > before, "the trust download to start", 30_000);
      return { gw, port };
    };

    it("a SIGHUP is logged, does not kill the process, and the reload it asks for runs once started", async () => {
      const { gw, port } = await slowStart("slow-hup");
      gw.proc.kill("SIGHUP");
      await until(() => gw.logs().some((l) => l.signal === "SIGHUP"), "SIGHUP logged");
      expect(gw.logs().some((l) => l.signal === "SIGHUP" && String(l.msg).includes("during start-up"))).toBe(true);
      await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, "started");
      await until(() => gw.logs().some((l) => l.signal === "SIGHUP" && l.msg === "SIGHUP reload done"), "the reload asked for during start-up");
      gw.proc.kill("SIGTERM");
      expect(await gw.exited).toBe(0);
    }, 60_000);

    it("a stop request repeated 2 s later exits 130 at once, without waiting for the start-up", async () => {
      const { gw } = await slowStart("slow-term");
      gw.proc.kill("SIGTERM");
      await until(() => gw.logs().some((l) => l.signal === "SIGTERM"), "SIGTERM logged");
      await new Promise((r) => setTimeout(r, 2000));
      expect(gw.proc.exitCode).toBeNull();
      gw.proc.kill("SIGTERM");
      expect(await gw.exited).toBe(130);
      expect(gw.logs().some((l) => String(l.msg).includes("second stop request during start-up"))).toBe(true);
    }, 60_000);
  });
});
