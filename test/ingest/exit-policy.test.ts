import { describe, expect, it } from "vitest";
import { authRefused, exitRecord, planAfterExit, type ExitFacts } from "../../src/ingest/exit-policy.js";

const facts = (over: Partial<ExitFacts>): ExitFacts => ({ how: { code: 0 }, transportFailed: false, killedByUs: false, framesFlowed: false, hostKnown: true, ...over });

describe("planAfterExit", () => {
  it.each([
    ["spawn error (ffmpeg missing)", facts({ how: { error: new Error("ENOENT") } })],
    ["transport failure", facts({ transportFailed: true, killedByUs: true, how: { signal: "SIGTERM" } })],
    ["process that ignored SIGKILL", facts({ how: { abandoned: true }, killedByUs: true })],
    ["signal nobody sent (segfault)", facts({ how: { code: null, signal: "SIGSEGV" } })],
  ])("a crash is restarted and spends the budget without a probe: %s", (_name, f) => {
    expect(planAfterExit(f)).toEqual({ next: "restart", counted: true });
  });

  it("an exit after our own signal (watchdog) probes the host first", () => {
    expect(planAfterExit(facts({ how: { code: null, signal: "SIGTERM" }, killedByUs: true }))).toEqual({ next: "probe", countedIfUp: false });
    expect(planAfterExit(facts({ how: { code: null, signal: "SIGKILL" }, killedByUs: true, framesFlowed: true }))).toEqual({ next: "probe", countedIfUp: true });
  });

  it("a plain exit probes the host; it spends the budget only if frames had flowed and the host answers", () => {
    expect(planAfterExit(facts({ how: { code: 0 } }))).toEqual({ next: "probe", countedIfUp: false });
    expect(planAfterExit(facts({ how: { code: 1 }, framesFlowed: true }))).toEqual({ next: "probe", countedIfUp: true });
  });

  it("a camera without a host to probe (file) restarts at once, counted only after frames flowed", () => {
    expect(planAfterExit(facts({ hostKnown: false }))).toEqual({ next: "restart", counted: false });
    expect(planAfterExit(facts({ hostKnown: false, framesFlowed: true }))).toEqual({ next: "restart", counted: true });
  });
});

describe("a camera that refuses our credentials", () => {
  it("is told by ffmpeg's stderr: RTSP 401 or 403, not other failures", () => {
    expect(authRefused(["[rtsp @ 0x55d0] method DESCRIBE failed: 401 Unauthorized", "pipe:0: Server returned 401 Unauthorized (authorization failed)"])).toBe(true);
    expect(authRefused(["rtsp://h/x: Server returned 403 Forbidden (access denied)"])).toBe(true);
    expect(authRefused(["[rtsp @ 0x55d0] method DESCRIBE failed: 404 Not Found", "Connection refused"])).toBe(false);
    expect(authRefused([])).toBe(false);
  });

  it("is restarted slowly without a probe and without spending the budget; a crash stays a crash", () => {
    expect(planAfterExit(facts({ how: { code: 1 }, authRefused: true }))).toEqual({ next: "restart", counted: false, auth: true });
    expect(planAfterExit(facts({ how: { code: null, signal: "SIGSEGV" }, authRefused: true }))).toEqual({ next: "restart", counted: true });
  });
});

describe("exitRecord", () => {
  const mask = (s: string) => s.replaceAll("s3cret", "***");
  const run = { startedAt: 1000, delivered: 7, failure: undefined, stderr: { tail: () => ["open rtsp://u:s3cret@h/x", "bye"] } };

  it("masks ffmpeg's own text and reports uptime and frames", () => {
    const r = exitRecord({ error: new Error("spawn failed for s3cret") }, run, 3500.6, mask);
    expect(r).toEqual({ event: "ffmpeg_exit", code: null, signal: null, error: "spawn failed for ***", uptimeMs: 2501, framesDelivered: 7, stderr: ["open rtsp://u:***@h/x", "bye"] });
    expect(JSON.stringify(r)).not.toContain("s3cret");
  });

  it("names the transport failure when the process itself reported no error", () => {
    const r = exitRecord({ code: null, signal: "SIGTERM" }, { ...run, failure: new Error("socket refused") }, 2000, mask);
    expect(r).toMatchObject({ code: null, signal: "SIGTERM", error: "socket refused" });
  });
});
