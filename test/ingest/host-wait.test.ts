import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { createServer, type AddressInfo } from "node:net";
import { askHost, tcpProbe, type ProbeTarget } from "../../src/ingest/host-probe.js";
import { HostWait } from "../../src/ingest/host-wait.js";
import { collectingLogger } from "./fake-ffmpeg.js";

const target: ProbeTarget = { host: "10.0.0.9", port: 554 };

function setup(intervalMs = 200) {
  const clock = new FakeClock();
  const log = collectingLogger();
  const host = { up: false, probes: [] as number[] };
  const probe = (t: ProbeTarget) => {
    expect(t).toEqual(target);
    host.probes.push(clock.monotonic());
    return host.up;
  };
  const wait = new HostWait({ probe, target, clock, log: log.logger, intervalMs });
  const events = (name: string) => log.lines().filter((l) => l.event === name);
  return { clock, host, wait, events };
}

describe("askHost", () => {
  const ask = async (probe: () => boolean | Promise<boolean>) => new Promise<boolean>((resolve) => askHost(probe, target, resolve));

  it("passes a synchronous answer on at once", () => {
    const answers: boolean[] = [];
    askHost(() => true, target, (up) => answers.push(up));
    askHost(() => false, target, (up) => answers.push(up));
    expect(answers).toEqual([true, false]);
  });

  it("treats a probe that throws or rejects as a host that does not answer", async () => {
    expect(await ask(() => { throw new Error("EINVAL"); })).toBe(false);
    expect(await ask(() => Promise.reject(new Error("ECONNRESET")))).toBe(false);
    expect(await ask(() => Promise.resolve(true))).toBe(true);
  });
});

describe("HostWait", () => {
  it("probes every interval until the host answers, then starts once; logs the outage once at each end", () => {
    const t = setup();
    let started = 0;
    t.wait.wait(() => true, () => started++);
    t.clock.advance(1000);
    expect(t.host.probes).toEqual([200, 400, 600, 800, 1000]);
    expect(started).toBe(0);
    t.host.up = true;
    t.clock.advance(200);
    expect(started).toBe(1);
    expect(t.clock.pendingCount).toBe(0);
    expect(t.events("camera_unreachable")).toHaveLength(1);
    expect(t.events("camera_unreachable")[0]).toMatchObject({ host: "10.0.0.9", port: 554 });
    expect(t.events("camera_reachable")).toEqual([expect.objectContaining({ downMs: 1200 })]);
  });

  it("a result that is no longer valid (stop, newer process) changes nothing and probes no more", () => {
    const t = setup();
    let valid = true;
    let started = 0;
    t.wait.wait(() => valid, () => started++);
    t.clock.advance(200);
    valid = false;
    t.host.up = true;
    t.clock.advance(2000);
    expect(t.host.probes).toEqual([200, 400]);
    expect(started).toBe(0);
    expect(t.clock.pendingCount).toBe(0);
  });

  it("check() asks once and honours validity", () => {
    const t = setup();
    const seen: boolean[] = [];
    t.wait.check(() => true, (up) => seen.push(up));
    t.wait.check(() => false, (up) => seen.push(up));
    expect(seen).toEqual([false]);
    expect(t.host.probes).toHaveLength(2);
  });

  it("is down from the wait that begins an outage until the probe that finds the host back", () => {
    const t = setup();
    expect(t.wait.down).toBe(false);
    t.wait.wait(() => true, () => {});
    expect(t.wait.down).toBe(true);
    t.clock.advance(600);
    expect(t.wait.down).toBe(true);
    t.host.up = true;
    t.clock.advance(200);
    expect(t.wait.down).toBe(false);
    t.host.up = false;
    t.wait.wait(() => true, () => {});
    t.wait.forget();
    expect(t.wait.down).toBe(false);
    t.wait.wait(() => true, () => {});
    t.wait.cancel();
    expect(t.wait.down).toBe(false);
  });

  it("cancel() stops the probes; after it (or forget()) the next wait is a new outage", () => {
    const t = setup();
    t.wait.wait(() => true, () => {});
    t.clock.advance(300);
    t.wait.cancel();
    expect(t.clock.pendingCount).toBe(0);
    t.clock.advance(1000);
    expect(t.host.probes).toEqual([200]);
    t.wait.wait(() => true, () => {});
    t.wait.wait(() => true, () => {});
    expect(t.events("camera_unreachable")).toHaveLength(2);
    t.wait.forget();
    t.wait.wait(() => true, () => {});
    expect(t.events("camera_unreachable")).toHaveLength(3);
  });
});

describe("tcpProbe: at most one lookup per host name in flight", () => {
  /** Advances the fake clock in steps, letting probe promises settle between them. */
  async function advance(clock: FakeClock, ms: number, step = 50): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      clock.advance(step);
      await new Promise((r) => setImmediate(r));
    }
  }

  it("a name whose lookup never returns: 30 s of probing starts one lookup, and each probe still answers down", async () => {
    const clock = new FakeClock();
    const lookups: string[] = [];
    const probe = tcpProbe({ clock, lookup: (host) => (lookups.push(host), new Promise<string>(() => {})) });
    const answers: boolean[] = [];
    const counting = (t: ProbeTarget) => (probe(t) as Promise<boolean>).then((up) => (answers.push(up), up));
    const wait = new HostWait({ probe: counting, target: { host: "cam0.site.lan", port: 554 }, clock, log: collectingLogger().logger, intervalMs: 200 });
    wait.wait(() => true, () => {});
    await advance(clock, 30_000);
    expect(lookups).toEqual(["cam0.site.lan"]);
    // One probe per 1.2 s (1 s timeout + 200 ms): ~25 in 30 s, all "down".
    expect(answers.length).toBeGreaterThanOrEqual(20);
    expect(answers.every((up) => !up)).toBe(true);
    expect(wait.down).toBe(true);
  });

  it("once the pending lookup settles the next probe looks the name up again, and connects to what it found", async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const clock = new FakeClock();
      let answer: ((ip: string) => void) | undefined;
      let lookups = 0;
      const probe = tcpProbe({ clock, lookup: () => (lookups++, new Promise<string>((r) => (answer = r))) });
      const first = probe({ host: "cam0.site.lan", port }) as Promise<boolean>;
      await advance(clock, 1000);
      expect(await first).toBe(false);
      const second = probe({ host: "cam0.site.lan", port }) as Promise<boolean>;
      expect(lookups).toBe(1);
      answer!("127.0.0.1");
      expect(await second).toBe(true);
      void probe({ host: "cam0.site.lan", port });
      expect(lookups).toBe(2);
      // An address needs no lookup.
      expect(await probe({ host: "127.0.0.1", port })).toBe(true);
      expect(lookups).toBe(2);
    } finally {
      server.close();
    }
  });
});
