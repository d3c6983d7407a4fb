import { afterEach, describe, expect, it } from "vitest";
import sharp from "sharp";
import { FakeClock } from "../../src/core/clock.js";
import type { HttpServer } from "../../src/output/http/index.js";
import { SNAPSHOT_MAX_AGE_MS } from "../../src/output/http/snapshot.js";
import { bearerMatches } from "../../src/output/http/admin.js";
import { FakeGateway, TOKEN, testConfig } from "./fakes.js";

const servers: HttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
function start(gw: FakeGateway, config = testConfig()) {
  const s = gw.server(config);
  servers.push(s);
  return s;
}

describe("health and readiness", () => {
  it("/healthz answers while the process runs", async () => {
    const res = await start(new FakeGateway()).app.inject("/healthz");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true });
  });

  it("/readyz is 200 when every camera is online and trust is fresh", async () => {
    const res = await start(new FakeGateway()).app.inject("/readyz");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ready: true, problems: [] });
  });

  it("/readyz is 503 and names each down camera and stale trust", async () => {
    const gw = new FakeGateway();
    gw.cams[1]!.state = "backoff";
    gw.cams[1]!.lastFrameAgeMs = 12_000;
    gw.trustStatus = { ...gw.trustStatus, stale: true, ageMs: 200_000 };
    const res = await start(gw).app.inject("/readyz");
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(body.ready).toBe(false);
    expect(body.problems.map((p: { code: string }) => p.code)).toEqual(["CAMERA_DOWN", "TRUST_STALE"]);
    expect(body.problems[0]).toMatchObject({ camera: "cam-b1", detail: "camera cam-b1 is backoff (last frame 12 s ago)" });
    expect(body.problems[1].detail).toContain("200 s old");
  });

  it("/readyz is 503 FRAME_PATH_FAILING for an up camera whose frames are not decoded", async () => {
    const gw = new FakeGateway();
    gw.cams[0]!.framePathFailing = true;
    const res = await start(gw).app.inject("/readyz");
    expect(res.statusCode).toBe(503);
    expect(res.json().problems).toEqual([{ code: "FRAME_PATH_FAILING", camera: "cam-a1", detail: expect.stringContaining("cam-a1") }]);
  });

  it("/readyz is 503 STARTING (not CAMERA_DOWN) for a camera without a first frame while its lane starts; the display says starting; lane_problem shows it", async () => {
    const gw = new FakeGateway();
    for (const c of gw.cams) {
      c.state = "starting";
      delete c.lastFrameAgeMs;
    }
    gw.statuses.set("A", { lane: "A", state: "out-of-service", problems: ["STARTING"] });
    // Lane B's grace has run out: its camera is down, whatever state ingest reports.
    gw.statuses.set("B", { lane: "B", state: "out-of-service", problems: ["CAMERAS_DOWN"] });
    const s = start(gw);
    const res = await s.app.inject("/readyz");
    expect(res.statusCode).toBe(503);
    expect(res.json().problems).toEqual([
      { code: "STARTING", camera: "cam-a1", lane: "A", detail: "camera cam-a1 is starting: no frame yet, lane A is starting" },
      { code: "CAMERA_DOWN", camera: "cam-b1", detail: "camera cam-b1 is starting (last frame never)" },
    ]);
    const a = (await s.app.inject("/lanes/A/state")).json();
    expect([a.state, a.problems, a.cause.en]).toEqual(["out-of-service", ["STARTING"], "Lane is starting"]);
    expect((await s.app.inject("/lanes/B/state")).json().problems).toEqual(["CAMERAS_DOWN"]);
    const metrics = (await s.app.inject("/metrics")).body;
    expect(metrics).toContain('checkpoint_gateway_lane_problem{lane="A",problem="STARTING"} 1');
    expect(metrics).toContain('checkpoint_gateway_lane_state{lane="A",state="out-of-service"} 1');
  });

  it("/readyz: a camera that delivered before is down even while its lane starts (a rebuilt lane), and the lane's STARTING is still named", async () => {
    const gw = new FakeGateway();
    gw.cams[0]!.state = "backoff";
    gw.cams[0]!.lastFrameAgeMs = 30_000;
    gw.statuses.set("A", { lane: "A", state: "out-of-service", problems: ["STARTING"] });
    const res = await start(gw).app.inject("/readyz");
    expect(res.statusCode).toBe(503);
    expect(res.json().problems.map((p: { code: string; camera?: string; lane?: string; problem?: string }) => [p.code, p.camera ?? p.lane, p.problem])).toEqual([
      ["CAMERA_DOWN", "cam-a1", undefined],
      ["LANE_PROBLEM", "A", "STARTING"],
    ]);
  });

  it("/readyz is 503 NO_CAMERAS with no camera, and TRUST_UNAVAILABLE when the trust provider throws", async () => {
    const gw = new FakeGateway();
    gw.cams = [];
    const s = gw.server(testConfig(), {
      trust: () => {
        throw new Error("boom");
      },
    });
    servers.push(s);
    const res = await s.app.inject("/readyz");
    expect(res.statusCode).toBe(503);
    expect(res.json().problems.map((p: { code: string }) => p.code)).toEqual(["NO_CAMERAS", "TRUST_UNAVAILABLE"]);
  });
});

describe("/metrics", () => {
  it("exposes camera, trust, lane, decode, verdict and latency series in Prometheus text", async () => {
    const gw = new FakeGateway();
    gw.cams[1]!.state = "stalled";
    const s = start(gw);
    gw.metrics.attach(gw.bus);
    gw.metrics.observeDecode(7.5, "cam-a1");
    gw.verdict("A", "PASS", "OK");
    gw.verdict("A", "FLAG", "EXPIRED");
    gw.verdict("A", "FLAG", "EXPIRED");
    const res = await s.app.inject("/metrics");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/plain");
    const t = res.body;
    const p = "checkpoint_gateway_";
    for (const line of [
      `${p}camera_state{camera="cam-a1",lane="A",state="online"} 1`,
      `${p}camera_state{camera="cam-b1",lane="B",state="stalled"} 1`,
      `${p}camera_up{camera="cam-b1",lane="B"} 0`,
      `${p}camera_state{camera="cam-b1",lane="B",state="online"} 0`,
      `${p}camera_frames_dropped_total{camera="cam-a1",lane="A"} 2`,
      `${p}trust_last_refresh_timestamp_seconds 1767225540`,
      `${p}trust_stale 0`,
      `${p}lane_state{lane="A",state="idle"} 1`,
      `${p}decode_seconds_count{camera="cam-a1"} 1`,
      `${p}decode_seconds_bucket{le="0.01",camera="cam-a1"} 1`,
      `${p}verdicts_total{lane="A",verdict="FLAG",reason="EXPIRED"} 2`,
      `${p}verdicts_total{lane="A",verdict="PASS",reason="OK"} 1`,
      `${p}frame_to_verdict_seconds_count{lane="A"} 3`,
      `${p}first_seen_to_verdict_seconds_count{lane="A"} 3`,
    ]) {
      expect(t).toContain(line);
    }
    expect(t).toContain(`# TYPE ${p}camera_frames_dropped_total counter`);
    // A trust source URL is a label: it must be masked.
    expect(t).not.toContain("user:pw");
  });

  it("includes process metrics by default", async () => {
    const { GatewayMetrics } = await import("../../src/output/metrics/index.js");
    const m = new GatewayMetrics();
    const text = await m.render();
    // Unprefixed, as the standard Node.js dashboards expect.
    expect(text).toContain("\nprocess_cpu_user_seconds_total ");
    expect(text).not.toContain("checkpoint_gateway_process_");
  });
});

describe("admin API", () => {
  const auth = { authorization: `Bearer ${TOKEN}` };

  it("compares the bearer token exactly", () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(bearerMatches(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN)).toBe(false);
    expect(bearerMatches(TOKEN, TOKEN)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
    expect(bearerMatches("Bearer ", TOKEN)).toBe(false);
  });

  it("refuses every endpoint without the token (401) and runs nothing", async () => {
    const gw = new FakeGateway();
    const admin = (await start(gw, testConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, admin: { listen: { host: "127.0.0.1", port: 0 }, token: TOKEN, rateLimitPerMinute: 100 } } })).adminApp())!;
    for (const url of ["/admin/reload", "/admin/trust/refresh", "/admin/lanes/A/pause", "/admin/lanes/A/resume"]) {
      for (const headers of [{}, { authorization: "Bearer wrong-token-wrong-token" }, { authorization: TOKEN }]) {
        const res = await admin.inject({ method: "POST", url, headers });
        expect(res.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.json().code).toBe("GW_ADMIN_UNAUTHORIZED");
      }
    }
    expect(gw.actions).toEqual([]);
  });

  it("runs each action with the token (200) and 404s an unknown lane", async () => {
    const gw = new FakeGateway();
    const admin = (await start(gw, testConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, admin: { listen: { host: "127.0.0.1", port: 0 }, token: TOKEN, rateLimitPerMinute: 100 } } })).adminApp())!;
    expect((await admin.inject({ method: "POST", url: "/admin/reload", headers: auth })).json()).toEqual({ ok: true });
    const refreshed = await admin.inject({ method: "POST", url: "/admin/trust/refresh", headers: auth });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json().trust.version).toBe("tl-42");
    expect(refreshed.body).not.toContain("user:pw");
    expect((await admin.inject({ method: "POST", url: "/admin/lanes/A/pause", headers: auth })).statusCode).toBe(200);
    expect((await admin.inject({ method: "POST", url: "/admin/lanes/A/resume", headers: auth })).statusCode).toBe(200);
    const unknown = await admin.inject({ method: "POST", url: "/admin/lanes/Q/pause", headers: auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe("GW_LANE_UNKNOWN");
    expect(gw.actions).toEqual(["reload", "refresh", "pause:A", "resume:A"]);
  });

  it("reports a failed action as 500 with its code, without leaking secrets", async () => {
    const gw = new FakeGateway();
    const s = gw.server(testConfig(), {
      admin: {
        ...gw.deps().admin,
        reloadConfig: async () => {
          throw Object.assign(new Error("cannot read rtsp://admin:hunter22@cam/1"), { code: "GW_CONFIG_UNREADABLE" });
        },
      },
    });
    servers.push(s);
    const res = await (await s.adminApp())!.inject({ method: "POST", url: "/admin/reload", headers: auth });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ ok: false, code: "GW_CONFIG_UNREADABLE" });
    expect(res.body).not.toContain("hunter22");
  });

  it("rate-limits admin requests per client (429), refused ones in their own budget", async () => {
    const gw = new FakeGateway();
    const admin = (await start(gw).adminApp())!; // rateLimitPerMinute: 5
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await admin.inject({ method: "POST", url: "/admin/reload", headers: auth })).statusCode);
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const bad: number[] = [];
    for (let i = 0; i < 7; i++) bad.push((await admin.inject({ method: "POST", url: "/admin/reload", remoteAddress: "10.9.9.9" })).statusCode);
    expect(bad).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(gw.actions).toEqual(Array(5).fill("reload"));
  });

  it("1,000 bad-token requests do not lock the operator out (#11: unauthenticated requests never spend the operator's limit)", async () => {
    const gw = new FakeGateway();
    const admin = (await start(gw).adminApp())!; // rateLimitPerMinute: 5
    const codes = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const headers = i % 2 ? { authorization: `Bearer wrong-${i}-wrong-wrong-wrong` } : {};
      const res = await admin.inject({ method: "POST", url: "/admin/lanes/A/pause", headers });
      codes.set(res.statusCode, (codes.get(res.statusCode) ?? 0) + 1);
    }
    // The attacker is throttled after 5 tries, and nothing ran.
    expect(Object.fromEntries(codes)).toEqual({ 401: 5, 429: 995 });
    expect(gw.actions).toEqual([]);
    // The operator, from the same address, still gets through.
    const ok = await admin.inject({ method: "POST", url: "/admin/lanes/A/pause", headers: auth });
    expect([ok.statusCode, ok.json()]).toEqual([200, { ok: true, lane: "A", action: "pause" }]);
    expect(gw.actions).toEqual(["pause:A"]);
  });

  it("is disabled without a token", async () => {
    const s = start(new FakeGateway(), testConfig({ server: { listen: { host: "127.0.0.1", port: 0 } } }));
    expect(await s.adminApp()).toBeUndefined();
    expect((await s.app.inject({ method: "POST", url: "/admin/reload" })).statusCode).toBe(404);
  });
});

describe("dashboard data and pages", () => {
  it("/api/status lists lanes, cameras (masked), trust, telemetry and recent verdicts without personal data", async () => {
    const gw = new FakeGateway();
    const s = start(gw);
    gw.verdict("A", "PASS", "OK");
    gw.verdict("B", "FLAG", "POLICY_REJECTED", { ruleId: "dest-area" });
    const body = (await s.app.inject("/api/status")).json();
    expect(body.gateway.id).toBe("gw-test");
    expect(body.lanes.map((l: { lane: string; state: string }) => [l.lane, l.state])).toEqual([["A", "pass"], ["B", "flag"]]);
    expect(body.lanes[0].telemetry).toMatchObject({ readRate: 0.97, framesTried: 321 });
    expect(body.lanes[0].counts).toEqual({ pass: 1, flag: 0 });
    expect(body.cameras[0].url).toBe("rtsp://***:***@10.0.0.5/stream1");
    expect(body.trust.sources[0].source).toBe("https://***:***@trust.example/list.json");
    expect(body.recent.map((r: { reason: string }) => r.reason)).toEqual(["POLICY_REJECTED", "OK"]);
    expect(body.recent[0].ruleId).toBe("dest-area");
    const text = JSON.stringify(body);
    for (const secret of ["secretpw", "c0ffee", "deadbeef", "VN-MOH"]) expect(text).not.toContain(secret);
  });

  it("/api/status marks a camera up exactly when camera_up and /readyz do: online or standby, not warming", async () => {
    const gw = new FakeGateway();
    gw.cams = ["online", "standby", "warming", "backoff"].map((state, i) => ({ ...gw.cams[0]!, id: `cam-${i}`, state }));
    const s = start(gw);
    const body = (await s.app.inject("/api/status")).json();
    expect(body.cameras.map((c: { id: string; up: boolean }) => [c.id, c.up])).toEqual([
      ["cam-0", true],
      ["cam-1", true],
      ["cam-2", false],
      ["cam-3", false],
    ]);
    const down = body.ready.problems.filter((p: { code: string }) => p.code === "CAMERA_DOWN").map((p: { camera: string }) => p.camera);
    expect(down).toEqual(["cam-2", "cam-3"]);
  });

  it("serves the pages and assets locally with a strict CSP (no CDN)", async () => {
    const s = start(new FakeGateway());
    const lane = await s.app.inject("/lanes/A");
    expect(lane.statusCode).toBe(200);
    expect(lane.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(lane.headers["content-security-policy"]).toContain("default-src 'self'");
    const dash = await s.app.inject("/");
    expect(dash.body).toContain("/static/dashboard.js");
    for (const page of [lane.body, dash.body]) {
      expect(page).not.toMatch(/https?:\/\//);
      for (const ref of page.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)) {
        expect((await s.app.inject(ref[1]!)).statusCode, ref[1]).toBe(200);
      }
    }
    const js = await s.app.inject("/static/lane.js");
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect((await s.app.inject({ url: "/static/lane.js", headers: { "if-none-match": js.headers.etag as string } })).statusCode).toBe(304);
    expect((await s.app.inject("/static/..%2Fpackage.json")).statusCode).toBe(404);
    expect((await s.app.inject("/static/nope.js")).statusCode).toBe(404);
  });
});

describe("camera snapshots", () => {
  it("encodes the latest frame as JPEG at most once per second per camera", async () => {
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    // A padded frame (stride > width) with a gradient, as ingest delivers it.
    const width = 64, height = 48, stride = 80;
    const data = new Uint8Array(stride * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * stride + x] = (x * 4) & 255;
    let reads = 0;
    gw.frames.set("cam-a1", { cameraId: "cam-a1", seq: 7, width, height, stride, data, receivedAt: 0 });
    const s = gw.server(testConfig(), { latestFrame: (id) => (reads++, gw.frames.get(id)) });
    servers.push(s);
    const r1 = await s.app.inject("/cameras/cam-a1/snapshot.jpg");
    expect(r1.statusCode).toBe(200);
    expect(r1.headers["content-type"]).toBe("image/jpeg");
    const meta = await sharp(r1.rawPayload).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 64, 48]);
    const { data: px, info } = await sharp(r1.rawPayload).raw().toBuffer({ resolveWithObject: true });
    // The gradient survived on every row: the stride padding was dropped, not smeared in.
    for (const y of [0, 24, 47]) {
      const row = y * 64 * info.channels;
      expect(px[row + 60 * info.channels]! - px[row + 4 * info.channels]!).toBeGreaterThan(150);
    }
    await s.app.inject("/cameras/cam-a1/snapshot.jpg");
    expect(reads).toBe(1);
    clock.advance(1000);
    await s.app.inject("/cameras/cam-a1/snapshot.jpg");
    expect(reads).toBe(2);
  });

  it("serves no picture of a camera that stopped: a frame older than 5 s is NO_FRAME, and the JPEG cached from it is dropped", async () => {
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const data = new Uint8Array(64 * 48).fill(90);
    gw.frames.set("cam-a1", { cameraId: "cam-a1", seq: 3, width: 64, height: 48, stride: 64, data, receivedAt: clock.monotonic() });
    const s = gw.server(testConfig(), { latestFrame: (id) => gw.frames.get(id) });
    servers.push(s);
    expect((await s.app.inject("/cameras/cam-a1/snapshot.jpg")).statusCode).toBe(200);
    clock.advance(SNAPSHOT_MAX_AGE_MS + 1);
    const old = await s.app.inject("/cameras/cam-a1/snapshot.jpg");
    expect([old.statusCode, old.json().code]).toEqual([503, "NO_FRAME"]);
    // The camera is back: its new frame is served, not the old JPEG.
    gw.frames.set("cam-a1", { cameraId: "cam-a1", seq: 4, width: 64, height: 48, stride: 64, data: new Uint8Array(64 * 48).fill(200), receivedAt: clock.monotonic() });
    const back = await s.app.inject("/cameras/cam-a1/snapshot.jpg");
    const { data: px } = await sharp(back.rawPayload).raw().toBuffer({ resolveWithObject: true });
    expect(px[0]!).toBeGreaterThan(150);
  });

  it("404s an unknown camera and 503s a camera without a usable frame", async () => {
    const gw = new FakeGateway();
    const s = start(gw);
    expect((await s.app.inject("/cameras/nope/snapshot.jpg")).statusCode).toBe(404);
    const none = await s.app.inject("/cameras/cam-a1/snapshot.jpg");
    expect([none.statusCode, none.json().code]).toEqual([503, "NO_FRAME"]);
    // A buffer already transferred to a decode worker is detached (length 0).
    gw.frames.set("cam-b1", { cameraId: "cam-b1", seq: 1, width: 64, height: 48, stride: 64, data: new Uint8Array(0), receivedAt: 0 });
    const bad = await s.app.inject("/cameras/cam-b1/snapshot.jpg");
    expect([bad.statusCode, bad.json().code]).toEqual([503, "BAD_FRAME"]);
  });
});

describe("listen and close", () => {
  it("binds both listeners on loopback and closes them", async () => {
    const s = new FakeGateway().server();
    const { publicUrl, adminUrl } = await s.listen();
    expect(publicUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${publicUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${adminUrl}/admin/reload`, { method: "POST" })).status).toBe(401);
    await s.close();
    await expect(fetch(`${publicUrl}/healthz`)).rejects.toThrow();
  });
});
