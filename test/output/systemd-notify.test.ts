import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeClock } from "../../src/core/clock.js";
import { createSystemdNotifier, watchdogIntervalMs } from "../../src/output/systemd/notify.js";

describe("systemd notify", () => {
  it("does nothing outside systemd", () => {
    expect(createSystemdNotifier({ env: {}, pid: 1, clock: new FakeClock() })).toBeUndefined();
  });

  it("pings the watchdog at half of WatchdogSec, only for this pid, and stops on close", () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "20000000" }, 7)).toBe(10_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "20000000", WATCHDOG_PID: "8" }, 7)).toBeUndefined();
    expect(watchdogIntervalMs({}, 7)).toBeUndefined();
    const clock = new FakeClock();
    const sent: string[][] = [];
    const n = createSystemdNotifier({ env: { NOTIFY_SOCKET: "/x", WATCHDOG_USEC: "4000000" }, pid: 42, clock, run: (a, _env, done) => (sent.push(a), done(null)) })!;
    n.ready("2 lanes");
    expect(sent).toEqual([["--pid=42", "--no-block", "READY=1", "STATUS=2 lanes"], ["--pid=42", "--no-block", "WATCHDOG=1"]]);
    clock.advance(6000);
    expect(sent.filter((a) => a[2] === "WATCHDOG=1")).toHaveLength(4);
    n.stopping();
    n.close();
    clock.advance(10_000);
    expect(sent.at(-1)).toEqual(["--pid=42", "--no-block", "STOPPING=1"]);
    expect(clock.pendingCount).toBe(0);
  });

  const dir = mkdtempSync(join(tmpdir(), "sdnotify-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reaches a real notify socket through Debian's systemd-notify", async () => {
    const sock = join(dir, "notify.sock");
    // Node cannot bind a Unix datagram socket; the listener stands in for systemd.
    const listener = spawn("/usr/bin/python3", [
      "-c",
      "import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint('up',flush=True)\ns.settimeout(10)\nwhile True:\n  d=s.recv(4096).decode()\n  print(d.replace('\\n',' '),flush=True)\n  if 'READY=1' in d: break\n",
      sock,
    ]);
    let out = "";
    listener.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise<void>((ok) => listener.stdout.once("data", () => ok()));
    const errors: Error[] = [];
    const n = createSystemdNotifier({ env: { NOTIFY_SOCKET: sock }, pid: process.pid, clock: new FakeClock(), onError: (e) => errors.push(e) })!;
    n.ready("ok");
    await new Promise<void>((ok) => listener.once("exit", () => ok()));
    n.close();
    expect(errors).toEqual([]);
    expect(out).toContain(`MAINPID=${process.pid} READY=1 STATUS=ok`);
  });
});
