import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import { parseConfig } from "../../src/config/load.js";
import { authRequired } from "../../src/output/http/server-options.js";
import type { HttpServer } from "../../src/output/http/index.js";
import { createLogger } from "../../src/core/logger.js";
import { REFUSAL_LOG_LINES_PER_MINUTE } from "../../src/output/http/refusals.js";
import { ACCESS_TOKEN, FakeGateway, authConfig, testConfig } from "./fakes.js";

const servers: HttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
function start(gw: FakeGateway, config = authConfig()) {
  const s = gw.server(config);
  servers.push(s);
  return s;
}
const bearer = { authorization: `Bearer ${ACCESS_TOKEN}` };
const origin = { origin: "http://localhost:80", host: "localhost:80" };

function withFrame(gw: FakeGateway) {
  const width = 64, height = 48;
  gw.frames.set("cam-a1", { cameraId: "cam-a1", seq: 1, width, height, stride: width, data: new Uint8Array(width * height).fill(128), receivedAt: 0 });
}

async function login(s: HttpServer, token = ACCESS_TOKEN, headers: Record<string, string> = origin) {
  return s.app.inject({ method: "POST", url: "/login", headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, payload: new URLSearchParams({ token }).toString() });
}

describe("config: authentication off only on loopback", () => {
  const base = { cameras: [], lanes: [] };
  it("refuses a network listener without a token, with a clear error", () => {
    expect(() => parseConfig({ ...base, server: { listen: { host: "0.0.0.0", port: 8080 } } })).toThrow(
      /server\.auth\.token: required: server\.listen\.host 0\.0\.0\.0 is reachable from the network/,
    );
  });
  it("refuses auth turned off on a network listener", () => {
    expect(() => parseConfig({ ...base, server: { listen: { host: "10.1.2.3", port: 8080 }, auth: { enabled: false, token: ACCESS_TOKEN } } })).toThrow(
      /server\.auth\.enabled: authentication can be off only on a loopback listener/,
    );
  });
  it("is on for a network listener with a token, off by default on loopback, and can be forced on", () => {
    expect(authRequired(parseConfig({ ...base, server: { listen: { host: "0.0.0.0", port: 8080 }, auth: { token: ACCESS_TOKEN } } }).server)).toBe(true);
    expect(authRequired(parseConfig({ ...base, server: { listen: { host: "127.0.0.1", port: 8080 } } }).server)).toBe(false);
    expect(authRequired(parseConfig({ ...base, server: { listen: { host: "::1", port: 8080 } } }).server)).toBe(false);
    expect(() => parseConfig({ ...base, server: { listen: { host: "127.0.0.1", port: 8080 }, auth: { enabled: true } } })).toThrow(/server\.auth\.token: required/);
    // A token on a loopback listener (a reverse proxy on the same host) turns it on; off only when said.
    expect(authRequired(parseConfig({ ...base, server: { listen: { host: "127.0.0.1", port: 8080 }, auth: { token: ACCESS_TOKEN } } }).server)).toBe(true);
    expect(authRequired(parseConfig({ ...base, server: { listen: { host: "127.0.0.1", port: 8080 }, auth: { enabled: false, token: ACCESS_TOKEN } } }).server)).toBe(false);
  });

  it("a loopback listener with a token behind a same-host proxy: snapshots, /api and /metrics need the token", async () => {
    const s = start(new FakeGateway(), authConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, auth: { token: ACCESS_TOKEN }, allowedHosts: ["gw1.checkpoint.example"] } }));
    const viaProxy = { host: "gw1.checkpoint.example", "x-forwarded-for": "203.0.113.9" };
    for (const url of ["/api/status", "/metrics", "/cameras/cam-a1/snapshot.jpg"]) {
      expect((await s.app.inject({ url, headers: viaProxy })).statusCode, url).toBe(401);
      expect((await s.app.inject({ url, headers: { ...viaProxy, ...bearer } })).statusCode, url).not.toBe(401);
    }
  });
});

describe("authentication of the read-only listener (#11 finding 3)", () => {
  it("an unauthenticated snapshot is 401; with the token it is 200 (real listener)", async () => {
    const gw = new FakeGateway();
    withFrame(gw);
    const s = start(gw);
    const { publicUrl } = await s.listen();
    const anon = await fetch(`${publicUrl}/cameras/cam-a1/snapshot.jpg`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toContain("Bearer");
    expect(anon.headers.get("content-type")).not.toContain("image");
    const wrong = await fetch(`${publicUrl}/cameras/cam-a1/snapshot.jpg`, { headers: { authorization: `Bearer ${ACCESS_TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${publicUrl}/cameras/cam-a1/snapshot.jpg`, { headers: bearer });
    expect([ok.status, ok.headers.get("content-type")]).toEqual([200, "image/jpeg"]);
    expect(Buffer.from(await ok.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it("/api/*, /metrics and the dashboard need a token or session; the lane page, its stream, health and assets stay public", async () => {
    const gw = new FakeGateway();
    const s = start(gw);
    for (const url of ["/api/status", "/metrics", "/cameras/cam-a1/snapshot.jpg"]) {
      const res = await s.app.inject(url);
      expect([res.statusCode, res.json().code], url).toEqual([401, "UNAUTHORIZED"]);
      expect((await s.app.inject({ url, headers: bearer })).statusCode, url).not.toBe(401);
    }
    const dash = await s.app.inject("/");
    expect([dash.statusCode, dash.headers.location]).toEqual([303, "/login"]);
    expect((await s.app.inject({ url: "/", headers: bearer })).statusCode).toBe(200);
    // Prometheus sends `authorization: Bearer <credentials>`.
    expect((await s.app.inject({ url: "/metrics", headers: bearer })).body).toContain("checkpoint_gateway_");
    for (const url of ["/lanes/A", "/lanes/A/state", "/static/lane.js", "/static/lane.css", "/healthz", "/readyz", "/login"]) {
      expect((await s.app.inject(url)).statusCode, url).toBeLessThan(400);
    }
    const stream = await s.app.inject({ url: "/lanes/A/events", payloadAsStream: true });
    expect(stream.statusCode).toBe(200);
    stream.stream().destroy();
  });

  it("the public lane state exposes no payload, hash, issuer or image", async () => {
    const gw = new FakeGateway();
    const s = start(gw);
    gw.verdict("A", "FLAG", "REVOKED");
    const state = await s.app.inject("/lanes/A/state");
    expect(state.json()).toMatchObject({ state: "flag", verdict: { reason: "REVOKED" } });
    expect(state.body).not.toMatch(/deadbeef|c0ffee|VN-MOH|kid-1|cam-a1|jpe?g|data:image/i);
    const page = await s.app.inject("/lanes/A");
    expect(page.body).not.toMatch(/<img|snapshot/i);
  });

  it("login sets an HttpOnly, SameSite=Strict signed session cookie that opens the dashboard and API until it expires", async () => {
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const s = start(gw, authConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, auth: { enabled: true, token: ACCESS_TOKEN, sessionTtlS: 3600 } } }));
    const res = await login(s);
    expect([res.statusCode, res.headers.location]).toEqual([303, "/"]);
    const set = String(res.headers["set-cookie"]);
    expect(set).toMatch(/^cgw_session=v1\.[^;]+; Path=\/; Max-Age=3600; HttpOnly; SameSite=Strict$/);
    expect(set).not.toContain(ACCESS_TOKEN);
    const cookie = set.split(";")[0]!;
    expect((await s.app.inject({ url: "/api/status", headers: { cookie } })).statusCode).toBe(200);
    expect((await s.app.inject({ url: "/", headers: { cookie } })).statusCode).toBe(200);
    // A forged or altered cookie is refused.
    const tampered = cookie.replace(/v1\.(\d)/, (_m, d: string) => `v1.${(Number(d) + 1) % 10}`);
    expect((await s.app.inject({ url: "/api/status", headers: { cookie: tampered } })).statusCode).toBe(401);
    expect((await s.app.inject({ url: "/api/status", headers: { cookie: "cgw_session=v1.99999999999.x.y" } })).statusCode).toBe(401);
    // Expired.
    clock.advance(3600_000);
    expect((await s.app.inject({ url: "/api/status", headers: { cookie } })).statusCode).toBe(401);
  });

  it("a wrong token or a cross-origin form gets no session", async () => {
    const s = start(new FakeGateway());
    const wrong = await login(s, "not-the-token-not-the-token");
    expect([wrong.statusCode, wrong.headers.location, wrong.headers["set-cookie"]]).toEqual([303, "/login?failed=1", undefined]);
    const cross = await login(s, ACCESS_TOKEN, { origin: "http://evil.example", host: "localhost:80" });
    expect([cross.statusCode, cross.headers["set-cookie"]]).toEqual([403, undefined]);
    const noOrigin = await login(s, ACCESS_TOKEN, { host: "localhost:80" });
    expect(noOrigin.statusCode).toBe(403);
    // `Origin: null` is judged by Sec-Fetch-Site, which page script cannot set.
    expect((await login(s, ACCESS_TOKEN, { origin: "null", host: "localhost:80", "sec-fetch-site": "cross-site" })).statusCode).toBe(403);
    expect((await login(s, ACCESS_TOKEN, { origin: "null", host: "localhost:80", "sec-fetch-site": "same-origin" })).statusCode).toBe(303);
  });

  it("throttles login attempts per client address (429 after 10 a minute); other addresses can still log in", async () => {
    const s = start(new FakeGateway());
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push((await login(s, `guess-${i}-guess-guess-guess`)).statusCode);
    expect(codes).toEqual([...Array(10).fill(303), 429, 429]);
    const other = await s.app.inject({
      method: "POST", url: "/login", remoteAddress: "10.1.1.1", payload: `token=${ACCESS_TOKEN}`,
      headers: { ...origin, "content-type": "application/x-www-form-urlencoded" },
    });
    expect([other.statusCode, other.headers.location]).toEqual([303, "/"]);
  });

  it("with authentication off (loopback only) everything is open, but the Host allowlist still applies", async () => {
    const s = start(new FakeGateway(), testConfig());
    expect((await s.app.inject("/api/status")).statusCode).toBe(200);
    expect((await s.app.inject({ url: "/api/status", headers: { host: "rebind.attacker.example" } })).statusCode).toBe(421);
  });
});

describe("Host allowlist (DNS rebinding)", () => {
  it("refuses a foreign Host with 421, on public routes too, even with the token", async () => {
    const s = start(new FakeGateway());
    for (const url of ["/lanes/A", "/api/status", "/healthz"]) {
      const res = await s.app.inject({ url, headers: { host: "attacker.example:8080", ...bearer } });
      expect([res.statusCode, res.json().code], url).toEqual([421, "HOST_NOT_ALLOWED"]);
    }
  });

  it("accepts loopback names, IP addresses and server.allowedHosts", async () => {
    const s = start(new FakeGateway(), authConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, auth: { token: ACCESS_TOKEN }, allowedHosts: ["gw1.checkpoint.example"] } }));
    for (const host of ["localhost:8080", "127.0.0.1:8080", "10.20.1.5", "[::1]:8080", "GW1.checkpoint.example:8080", "gw1.checkpoint.example"]) {
      expect((await s.app.inject({ url: "/healthz", headers: { host } })).statusCode, host).toBe(200);
    }
    expect((await s.app.inject({ url: "/healthz", headers: { host: "gw1.checkpoint.example.attacker.example" } })).statusCode).toBe(421);
  });
});

describe("refused requests are counted by listener and reason, never by what was sent", () => {
  const count = (s: HttpServer) => Object.fromEntries(s.authRefusals().filter((r) => r.count > 0).map((r) => [`${r.listener} ${r.reason}`, r.count]));

  it("the read-only listener: wrong Host, no token, wrong token, cross-origin, failed login; accepted requests count nothing", async () => {
    const s = start(new FakeGateway());
    expect(count(s)).toEqual({});
    // Accepted: a public route, the token, a good login and the session it gives.
    expect((await s.app.inject("/lanes/A/state")).statusCode).toBe(200);
    expect((await s.app.inject({ url: "/api/status", headers: bearer })).statusCode).toBe(200);
    const ok = await login(s);
    const cookie = String(ok.headers["set-cookie"]).split(";")[0]!;
    expect((await s.app.inject({ url: "/api/status", headers: { cookie } })).statusCode).toBe(200);
    expect(count(s)).toEqual({});

    const guess = "Bearer guessed-token-guessed-token";
    expect((await s.app.inject({ url: "/healthz", headers: { host: "rebind.attacker.example" } })).statusCode).toBe(421);
    expect((await s.app.inject("/api/status")).statusCode).toBe(401);
    expect((await s.app.inject("/")).statusCode).toBe(303);
    for (let i = 0; i < 3; i++) expect((await s.app.inject({ url: "/metrics", headers: { authorization: guess } })).statusCode).toBe(401);
    const cross = await s.app.inject({ method: "POST", url: "/api/lanes/A/flags/1/ack", headers: { cookie, origin: "http://evil.example", host: "localhost:80" } });
    expect(cross.statusCode).toBe(403);
    expect((await login(s, "not-the-token-not-the-token")).headers.location).toBe("/login?failed=1");
    expect((await login(s, ACCESS_TOKEN, { origin: "http://evil.example", host: "localhost:80" })).statusCode).toBe(403);

    expect(count(s)).toEqual({ "public bad-host": 1, "public no-token": 2, "public bad-token": 3, "public bad-origin": 2, "public login-failed": 1 });
    // Labels come from a closed set: no header value or token ends up in the table.
    expect(JSON.stringify(s.authRefusals())).not.toMatch(/guessed|attacker|evil|not-the-token/);
  });

  it("every pair is on /metrics at 0 before the first refusal (the public listener always, the admin one once enabled), so a first burst alerts", async () => {
    const gw = new FakeGateway();
    const config = authConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, auth: { token: ACCESS_TOKEN }, admin: { listen: { host: "127.0.0.1", port: 0 }, token: "admin-token-admin-token-admin-token", rateLimitPerMinute: 100 } } });
    const s = start(gw, config);
    gw.metrics.setCollectors({ authRefusals: () => s.authRefusals() });
    const scrape = async () => (await s.app.inject({ url: "/metrics", headers: bearer })).body;
    const series = (text: string) => [...text.matchAll(/^checkpoint_gateway_http_auth_refusals_total\{listener="(\w+)",reason="([\w-]+)"\} (\d+)$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    expect(series(await scrape())).toEqual(["public bad-host 0", "public no-token 0", "public bad-token 0", "public bad-origin 0", "public login-failed 0"]);
    await s.adminApp();
    expect(series(await scrape())).toEqual(expect.arrayContaining(["admin no-token 0", "admin bad-token 0"]));
    expect(series(await scrape())).toHaveLength(7);
  });

  it("a flood of foreign Hosts is counted in full and logged a few times a minute", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "debug", destination: { write: (l: string) => void lines.push(l) } });
    const gw = new FakeGateway();
    const s = gw.server(authConfig(), { logger });
    servers.push(s);
    for (let i = 0; i < 50; i++) expect((await s.app.inject({ url: "/healthz", headers: { host: `rebind-${i}.attacker.example` } })).statusCode).toBe(421);
    expect(count(s)).toEqual({ "public bad-host": 50 });
    expect(lines.filter((l) => l.includes("Host not allowed"))).toHaveLength(REFUSAL_LOG_LINES_PER_MINUTE);
  });

  it("the admin listener: a missing and a wrong bearer token are told apart", async () => {
    const token = "admin-token-admin-token-admin-token";
    const s = start(new FakeGateway(), authConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, auth: { token: ACCESS_TOKEN }, admin: { listen: { host: "127.0.0.1", port: 0 }, token, rateLimitPerMinute: 100 } } }));
    const admin = (await s.adminApp())!;
    expect((await admin.inject({ method: "POST", url: "/admin/lanes/A/pause" })).statusCode).toBe(401);
    for (const authorization of ["Bearer wrong-token-wrong-token", token]) expect((await admin.inject({ method: "POST", url: "/admin/lanes/A/pause", headers: { authorization } })).statusCode).toBe(401);
    expect((await admin.inject({ method: "POST", url: "/admin/lanes/A/pause", headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    expect(count(s)).toEqual({ "admin no-token": 1, "admin bad-token": 2 });
  });
});
