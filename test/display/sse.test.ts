import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { SseClient, sseFrame } from "../../src/output/http/sse.js";
import { FakeGateway, SseReader, testConfig } from "./fakes.js";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function open(gw: FakeGateway, lane: string, config = testConfig()) {
  const server = gw.server(config);
  closers.push(() => server.close());
  const res = await server.app.inject({ method: "GET", url: `/lanes/${lane}/events`, payloadAsStream: true });
  const reader = new SseReader(res.stream());
  await reader.waitFor((f) => f.event === "state");
  return { server, res, reader };
}

describe("SSE framing", () => {
  it("writes event, id and one JSON data line, ended by a blank line", () => {
    expect(sseFrame("verdict", { verdict: "PASS", note: "a\nb" }, 7)).toBe('event: verdict\nid: 7\ndata: {"verdict":"PASS","note":"a\\nb"}\n\n');
    expect(sseFrame("heartbeat", { t: 1 })).toBe('event: heartbeat\ndata: {"t":1}\n\n');
  });
  it("refuses a multi-line event name or id (it would forge frames)", () => {
    expect(() => sseFrame("x\ndata: y", {})).toThrow(/single-line/);
    expect(() => sseFrame("x", {}, "1\n\nevent: verdict")).toThrow(/single-line/);
  });
});

describe("lane events stream", () => {
  it("sends the SSE headers, a retry hint and the current state on connect", async () => {
    expect.hasAssertions();
    const gw = new FakeGateway();
    const { res, reader } = await open(gw, "A");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(reader.frames[0]!.raw).toBe("retry: 1000");
    const state = reader.of("state")[0]!.data;
    expect(state).toMatchObject({ lane: "A", name: "Lane A", lang: "vi", state: "idle", problems: [], heartbeatMs: 1000 });
    expect(state.headline.vi).toBe("Vui lòng đưa mã QR");
    expect(state.ui.noHeartbeat.en).toBe("Gateway not responding");
  });

  it("state on connect includes a verdict still within its hold, with the remaining ttl", async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const server = gw.server();
    closers.push(() => server.close());
    gw.verdict("A", "PASS", "OK");
    clock.advance(900);
    const res = await server.app.inject({ method: "GET", url: "/lanes/A/events", payloadAsStream: true });
    const reader = new SseReader(res.stream());
    const state = (await reader.waitFor((f) => f.event === "state")).data;
    expect(state.state).toBe("pass");
    expect(state.verdict).toMatchObject({ verdict: "PASS", seq: 1, ttl: 3100 });
  });

  it("sends each verdict with id = lane sequence and PASS/FLAG JSON, then the lane view", async () => {
    expect.hasAssertions();
    const gw = new FakeGateway();
    const { reader } = await open(gw, "A");
    gw.verdict("A", "PASS", "OK");
    gw.verdict("B", "FLAG", "EXPIRED"); // other lane: must not reach this stream
    gw.verdict("A", "FLAG", "SIGNATURE_INVALID");
    gw.verdict("A", "ERROR", "STRUCTURE_INVALID");
    await reader.waitFor((f) => f.event === "verdict" && f.id === "3");
    const verdicts = reader.of("verdict");
    expect(verdicts.map((f) => [f.id, f.data.verdict, f.data.reason])).toEqual([
      ["1", "PASS", "OK"],
      ["2", "FLAG", "SIGNATURE_INVALID"],
      ["3", "FLAG", "STRUCTURE_INVALID"],
    ]);
    const v = verdicts[1]!.data;
    expect(v).toMatchObject({ lane: "A", seq: 2, ttl: 8000, text: { en: "The signature is not valid: the pass may have been altered" } });
    expect(typeof v.at).toBe("number");
    expect(verdicts[0]!.data.ttl).toBe(4000);
    // PII-free: no credential or payload hashes, no issuer on the display stream.
    expect(JSON.stringify(reader.frames)).not.toMatch(/c0ffee|deadbeef|VN-MOH|kid-1/);
    expect(reader.of("lane-status").map((f) => f.data.state)).toEqual(["pass", "flag", "flag"]);
  });

  it("sends lane-status on each change, and out of service for pause, camera loss and stale trust", async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const { reader } = await open(gw, "A", testConfig({ trust: { staleAction: "out-of-service" } }));
    gw.setStatus({ lane: "A", state: "paused", problems: [] });
    await reader.waitFor((f) => f.event === "lane-status" && f.data.problems.includes("LANE_PAUSED"));
    gw.setStatus({ lane: "A", state: "idle", problems: [] });
    await reader.waitFor((f) => f.event === "lane-status" && f.data.state === "idle");
    // Nobody publishes: the server notices at the next heartbeat tick.
    gw.cams[0]!.state = "backoff";
    clock.advance(1000);
    const down = await reader.waitFor((f) => f.event === "lane-status" && f.data.problems.includes("CAMERAS_DOWN"));
    expect(down.data).toMatchObject({ state: "out-of-service", detail: { en: "Please use another lane" }, cause: { en: "Camera not working" } });
    gw.cams[0]!.state = "online";
    gw.trustStatus = { ...gw.trustStatus, stale: true };
    clock.advance(1000);
    await reader.waitFor((f) => f.event === "lane-status" && f.data.problems.join() === "TRUST_STALE");
    // Nothing changed: no duplicate status events, only heartbeats.
    const n = reader.of("lane-status").length;
    clock.advance(3000);
    await reader.waitFor(() => reader.of("heartbeat").length >= 5);
    expect(reader.of("lane-status").length).toBe(n);
  });

  it("stale trust with staleAction flag keeps the lane in service (verdicts carry TRUST_STALE instead)", async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    gw.trustStatus = { ...gw.trustStatus, stale: true };
    const { reader } = await open(gw, "A");
    expect(reader.of("state")[0]!.data.state).toBe("idle");
  });

  it("sends heartbeats every display.heartbeatMs", async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const { reader } = await open(gw, "B");
    expect(reader.of("heartbeat")).toHaveLength(0);
    clock.advance(999);
    clock.advance(1);
    await reader.waitFor((f) => f.event === "heartbeat");
    clock.advance(2000);
    await reader.waitFor(() => reader.of("heartbeat").length === 3);
    expect(reader.of("heartbeat")[0]!.data.t).toBe(clock.now() - 2000);
  });

  it("clears a verdict at its hold even if the lane never says so (never stuck on green)", async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const { reader } = await open(gw, "A");
    gw.verdict("A", "PASS", "OK");
    gw.setStatus({ lane: "A", state: "pass", problems: [], verdict: gw.verdict("A", "PASS", "OK"), until: clock.now() + 4000, untilMono: clock.monotonic() + 4000 });
    expect(reader.of("lane-status").at(-1)!.data.state).toBe("pass");
    clock.advance(3999);
    clock.advance(0);
    // Still green one millisecond before the hold ends...
    expect(reader.of("lane-status").at(-1)!.data.state).toBe("pass");
    clock.advance(1001);
    // ...and idle after it, with no status from the lane.
    const idle = await reader.waitFor((f) => f.event === "lane-status" && f.data.state === "idle");
    expect(idle.data).toMatchObject({ lane: "A", problems: [] });
    expect(idle.data.verdict).toBeUndefined();
  });

  it("a verdict's hold counts from when it is published on the monotonic clock, whatever wall time its `at` says (NTP steps)", async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const { reader } = await open(gw, "A");
    gw.verdict("A", "FLAG", "EXPIRED", { at: clock.now() - 3_600_000 });
    const v = await reader.waitFor((f) => f.event === "verdict");
    expect(v.data.ttl).toBe(8000);
  });

  it("a wall clock stepped back an hour does not keep an old PASS: after its hold, /state and a new connection are idle", async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const server = gw.server();
    closers.push(() => server.close());
    gw.verdict("A", "PASS", "OK");
    clock.setWall(clock.now() - 3_600_000);
    clock.advance(4000);
    expect((await server.app.inject({ method: "GET", url: "/lanes/A/state" })).json().state).toBe("idle");
    const res = await server.app.inject({ method: "GET", url: "/lanes/A/events", payloadAsStream: true });
    const state = (await new SseReader(res.stream()).waitFor((f) => f.event === "state")).data;
    expect(state.state).toBe("idle");
  });

  it("a FLAG then a PASS 300 ms later: the stream sends both verdicts (ids 1, 2), /state and every view stay FLAG for the FLAG's hold", async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const { reader, server } = await open(gw, "A");
    gw.verdict("A", "FLAG", "EXPIRED");
    clock.advance(300);
    gw.verdict("A", "PASS", "OK");
    const passAt = clock.now();
    expect((await server.app.inject({ method: "GET", url: "/lanes/A/state" })).json()).toMatchObject({ state: "flag", verdict: { seq: 1 } });
    clock.advance(7699);
    expect((await server.app.inject({ method: "GET", url: "/lanes/A/state" })).json().state).toBe("flag");
    // Events arrive in order: once a heartbeat from after the PASS is in, its verdict event is too.
    await reader.waitFor((f) => f.event === "heartbeat" && (f.data as { t: number }).t > passAt);
    expect(reader.of("verdict").map((f) => `${f.data.verdict} ${f.id}`)).toEqual(["FLAG 1", "PASS 2"]);
    expect(reader.of("lane-status").map((f) => f.data.state)).toEqual(["flag"]);
  });

  it("an unknown lane is 404 LANE_UNKNOWN (stream and state); a malformed id is 404 LANE_ID_INVALID", async () => {
    expect.hasAssertions();
    const gw = new FakeGateway();
    const server = gw.server();
    closers.push(() => server.close());
    for (const url of ["/lanes/Z9/events", "/lanes/Z9/state"]) {
      const res = await server.app.inject({ method: "GET", url });
      expect([res.statusCode, res.json().code], url).toEqual([404, "LANE_UNKNOWN"]);
    }
    const bad = await server.app.inject({ method: "GET", url: "/lanes/a%20b/events" });
    expect([bad.statusCode, bad.json().code]).toEqual([404, "LANE_ID_INVALID"]);
    expect(server.displays()).toEqual({ streams: { A: 0, B: 0 }, trackedLanes: 0, trackedClients: 0 });
  });

  it("close() tells every screen GATEWAY_STOPPING and ends the stream", async () => {
    expect.hasAssertions();
    const gw = new FakeGateway();
    const { reader, server } = await open(gw, "A");
    await server.close();
    const last = await reader.waitFor((f) => f.event === "lane-status" && f.data.problems.includes("GATEWAY_STOPPING"));
    expect(last.data.state).toBe("out-of-service");
  });
});

describe("stream limits", () => {
  const limited = () => testConfig({ display: { language: "vi", heartbeatMs: 1000, maxStreamsPerLane: 3, maxStreamsPerClient: 2 } });
  const stream = (server: ReturnType<FakeGateway["server"]>, lane: string, remoteAddress: string) =>
    server.app.inject({ method: "GET", url: `/lanes/${lane}/events`, remoteAddress, payloadAsStream: true });

  it("limits streams per client address (429 CLIENT_STREAMS_FULL) while other addresses are served", async () => {
    const gw = new FakeGateway();
    const server = gw.server(limited());
    closers.push(() => server.close());
    expect((await stream(server, "A", "10.0.0.1")).statusCode).toBe(200);
    expect((await stream(server, "B", "10.0.0.1")).statusCode).toBe(200);
    const over = await server.app.inject({ method: "GET", url: "/lanes/A/events", remoteAddress: "10.0.0.1" });
    expect([over.statusCode, over.headers["retry-after"], over.json().code]).toEqual([429, "5", "CLIENT_STREAMS_FULL"]);
    expect((await stream(server, "A", "10.0.0.2")).statusCode).toBe(200);
    expect(server.displays().streams).toEqual({ A: 2, B: 1 });
  });

  it("limits streams per lane (429 LANE_STREAMS_FULL); another lane has its own places", async () => {
    const gw = new FakeGateway();
    const server = gw.server(limited());
    closers.push(() => server.close());
    for (const ip of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) expect((await stream(server, "A", ip)).statusCode).toBe(200);
    const over = await server.app.inject({ method: "GET", url: "/lanes/A/events", remoteAddress: "10.0.0.4" });
    expect([over.statusCode, over.json().code]).toEqual([429, "LANE_STREAMS_FULL"]);
    expect((await stream(server, "B", "10.0.0.4")).statusCode).toBe(200);
    expect(server.displays().streams).toEqual({ A: 3, B: 1 });
  });

  it("counts each refused stream by lane and reason; an unknown lane is not counted", async () => {
    const gw = new FakeGateway();
    const server = gw.server(limited());
    closers.push(() => server.close());
    expect(server.displayRefusals()).toEqual([]);
    for (const ip of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) expect((await stream(server, "A", ip)).statusCode).toBe(200);
    for (const ip of ["10.0.0.4", "10.0.0.5"]) expect((await server.app.inject({ method: "GET", url: "/lanes/A/events", remoteAddress: ip })).statusCode).toBe(429);
    expect((await stream(server, "B", "10.0.0.1")).statusCode).toBe(200);
    expect((await server.app.inject({ method: "GET", url: "/lanes/B/events", remoteAddress: "10.0.0.1" })).statusCode).toBe(429);
    expect((await server.app.inject({ method: "GET", url: "/lanes/nope/events", remoteAddress: "10.0.0.9" })).statusCode).toBe(404);
    expect(server.displayRefusals()).toEqual([
      { lane: "A", reason: "LANE_STREAMS_FULL", count: 2 },
      { lane: "B", reason: "CLIENT_STREAMS_FULL", count: 1 },
    ]);
  });
});

describe("slow display clients", () => {
  /** A response whose client reads nothing: everything written stays buffered. */
  function stuckResponse() {
    const res = Object.assign(new EventEmitter(), { writableLength: 0, ended: false, writeHead: () => res, write: (chunk: string) => ((res.writableLength += chunk.length), false), end: () => void (res.ended = true) });
    return res;
  }

  it("a client that leaves more than 256 KiB unread is cut off, and told once through onCutOff", () => {
    const res = stuckResponse();
    let cutOff = 0;
    const client = new SseClient(res as unknown as ServerResponse, () => cutOff++);
    client.open();
    const big = "x".repeat(64 * 1024);
    let sent = 0;
    while (client.send("state", { big }) && sent < 100) sent++;
    // Four 64 KiB frames plus framing pass 256 KiB: the fifth is refused and the stream ended.
    expect(sent).toBe(4);
    expect([client.isOpen, res.ended, cutOff]).toEqual([false, true, 1]);
    // Later sends to the closed stream are not another cut-off.
    expect(client.send("heartbeat", {})).toBe(false);
    expect(cutOff).toBe(1);
  });

  it("a client that keeps up is never cut off", () => {
    const res = stuckResponse();
    let cutOff = 0;
    const client = new SseClient(res as unknown as ServerResponse, () => cutOff++);
    client.open();
    for (let i = 0; i < 1000; i++) {
      expect(client.send("heartbeat", { t: i })).toBe(true);
      res.writableLength = 0; // drained by the client
    }
    expect([client.isOpen, cutOff]).toEqual([true, 0]);
  });
});
