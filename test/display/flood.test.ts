import { request, type ClientRequest, type IncomingMessage } from "node:http";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import type { HttpServer } from "../../src/output/http/index.js";
import { FakeGateway, SseReader, testConfig } from "./fakes.js";

/**
 * Issue #11 finding 5: 256 unauthenticated streams to made-up lane names used to fill one global
 * limit, so every real kiosk got 503 and showed OUT OF SERVICE, and each name leaked memory.
 * Real TCP connections (not inject), so client addresses and socket closes are the real ones.
 */
const servers: HttpServer[] = [];
const sockets: ClientRequest[] = [];
afterEach(async () => {
  for (const r of sockets.splice(0)) r.destroy();
  for (const s of servers.splice(0)) await s.close();
});

interface Answer {
  status: number;
  code?: string;
  res: IncomingMessage;
}

/** One GET from a given local address; SSE answers stay open (the response is returned at headers). */
function get(base: string, path: string, localAddress = "127.0.0.1"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { agent: false, localAddress }, (res) => {
      if (res.headers["content-type"]?.startsWith("text/event-stream")) return resolve({ status: res.statusCode!, res });
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, code: (JSON.parse(body || "{}") as { code?: string }).code, res }));
    });
    sockets.push(req);
    req.on("error", reject);
    req.end();
  });
}

async function inBatches<T>(n: number, batch: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch) out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => fn(i + k)))));
  return out;
}

describe("display stream flood (1,000 connections)", () => {
  it("unknown lanes get 404 and allocate nothing; one address cannot take a lane; a real kiosk is still served", async () => {
    expect.hasAssertions();
    const gw = new FakeGateway();
    const server = gw.server(testConfig({ server: { listen: { host: "127.0.0.1", port: 0 } } }));
    servers.push(server);
    const { publicUrl } = await server.listen();
    const { maxStreamsPerClient } = testConfig().display;

    // 600 distinct made-up lane names...
    const unknown = await inBatches(600, 50, (i) => get(publicUrl, `/lanes/flood-${i}/events`));
    expect(new Set(unknown.map((a) => `${a.status} ${a.code}`))).toEqual(new Set(["404 LANE_UNKNOWN"]));
    // ...leave no trace: no lane state, no per-name entry (streams lists the configured lanes only).
    expect(server.displays()).toEqual({ streams: { A: 0, B: 0 }, trackedLanes: 0, trackedClients: 0 });

    // 400 streams to a real lane from one address: only its share is admitted.
    const flood = await inBatches(400, 50, () => get(publicUrl, "/lanes/A/events"));
    const admitted = flood.filter((a) => a.status === 200).length;
    expect(admitted).toBe(maxStreamsPerClient);
    expect(flood.filter((a) => a.status === 429 && a.code === "CLIENT_STREAMS_FULL")).toHaveLength(400 - maxStreamsPerClient);
    // Counted for /metrics under the configured lane only: the 600 made-up names left no label behind.
    expect(server.displayRefusals()).toEqual([{ lane: "A", reason: "CLIENT_STREAMS_FULL", count: 400 - maxStreamsPerClient }]);

    // The lane's kiosk, from its own address, still gets the lane's live view.
    const kiosk = await get(publicUrl, "/lanes/A/events", "127.0.0.2");
    expect(kiosk.status).toBe(200);
    const reader = new SseReader(kiosk.res);
    const state = await reader.waitFor((f) => f.event === "state");
    expect(state.data).toMatchObject({ lane: "A", state: "idle" });
    gw.verdict("A", "FLAG", "EXPIRED");
    const v = await reader.waitFor((f) => f.event === "verdict");
    expect(v.data).toMatchObject({ verdict: "FLAG", reason: "EXPIRED" });

    // Only the configured lane and the two real addresses are tracked.
    expect(server.displays()).toEqual({ streams: { A: maxStreamsPerClient + 1, B: 0 }, trackedLanes: 1, trackedClients: 2 });

    // The flooder hangs up: its places are freed (nothing held for closed sockets).
    for (const a of flood) a.res.destroy();
    const deadline = Date.now() + 10_000;
    while (server.displays().streams.A !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(server.displays()).toMatchObject({ streams: { A: 1 }, trackedClients: 1 });
    expect((await get(publicUrl, "/lanes/A/events")).status).toBe(200);
  });

  it("memory does not grow with made-up lane names (20,000 of them)", async () => {
    expect.hasAssertions();
    // A collectable heap is needed to measure growth, not garbage: expose gc for this process.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const gw = new FakeGateway();
    const server = gw.server();
    servers.push(server);
    const { publicUrl } = await server.listen();
    // Real requests: fastify's inject() itself retains memory per request, which would hide the signal.
    const hit = async (i: number) => {
      const res = await fetch(`${publicUrl}/lanes/x${i}-${"n".repeat(40)}/events`);
      await res.text();
      return res.status;
    };
    const heap = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    await inBatches(2000, 50, hit); // warm up: JIT, fastify caches, inject internals
    const before = heap();
    const answers = new Uint16Array(await inBatches(20_000, 50, hit));
    const after = heap();
    expect(answers.every((status) => status === 404)).toBe(true);
    expect(server.displays()).toEqual({ streams: { A: 0, B: 0 }, trackedLanes: 0, trackedClients: 0 });
    // The old per-name leak was ~310 bytes each, 6 MB here; allow 2 MB of noise (measured: under 1 MB).
    const growth = after - before;
    console.log(`heap growth after 20,000 unknown lane names: ${Math.round(growth / 1024)} KiB`);
    expect(growth).toBeLessThan(2 * 1024 * 1024);
  });
});
