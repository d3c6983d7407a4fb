import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../src/core/clock.js";
import type { HttpServer } from "../../src/output/http/index.js";
import { dashboardLang } from "../../src/output/http/dashboard-data.js";
import { ACCESS_TOKEN, FakeGateway, authConfig } from "./fakes.js";

const servers: HttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
function start(gw: FakeGateway, config = authConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, auth: { enabled: true, token: ACCESS_TOKEN } } })) {
  const s = gw.server(config);
  servers.push(s);
  return s;
}
const bearer = { authorization: `Bearer ${ACCESS_TOKEN}` };
const status = async (s: HttpServer, headers: Record<string, string> = bearer) => (await s.app.inject({ url: "/api/status", headers })).json();
const laneOf = (body: { lanes: Array<{ lane: string }> }, id: string) => body.lanes.find((l) => l.lane === id) as Record<string, any>;

describe("last FLAG of each lane stays on the dashboard until acknowledged (#12 officers)", () => {
  it("keeps the FLAG (reason, time, camera; no payload) after its hold, through PASS verdicts, until acknowledged", async () => {
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const s = start(gw);
    const flag = gw.verdict("A", "FLAG", "REVOKED");
    clock.advance(60_000); // long after flagHoldMs: the lane screen is idle again
    gw.verdict("A", "PASS", "OK");
    clock.advance(10_000);
    const lane = laneOf(await status(s), "A");
    expect(lane.state).toBe("idle");
    expect(lane.lastFlag).toEqual({
      id: flag.id, seq: flag.seq, reason: "REVOKED", camera: "cam-a1", at: flag.at,
      text: { en: "The pass has been revoked", vi: "Thẻ đã bị thu hồi" },
    });
    expect(JSON.stringify(lane.lastFlag)).not.toMatch(/deadbeef|c0ffee|VN-MOH|kid-1/);
    expect(laneOf(await status(s), "B").lastFlag).toBeNull();
  });

  it("an ERROR verdict counts as a FLAG; a newer FLAG replaces the older one", async () => {
    const gw = new FakeGateway();
    const s = start(gw);
    gw.verdict("B", "FLAG", "EXPIRED");
    gw.verdict("B", "ERROR", "INTERNAL_ERROR");
    expect(laneOf(await status(s), "B").lastFlag).toMatchObject({ seq: 2, reason: "INTERNAL_ERROR", camera: "cam-b1" });
  });

  it("acknowledging needs authentication and the current verdict number, then clears it", async () => {
    const gw = new FakeGateway();
    const s = start(gw);
    gw.verdict("A", "FLAG", "EXPIRED");
    gw.verdict("A", "FLAG", "SIGNATURE_INVALID");
    const ack = (seq: number | string, headers: Record<string, string> = bearer, lane = "A") => s.app.inject({ method: "POST", url: `/api/lanes/${lane}/flags/${seq}/ack`, headers });
    expect((await ack(2, {})).statusCode).toBe(401);
    // An officer acknowledging the FLAG they saw never clears a newer one they have not seen.
    const stale = await ack(1);
    expect([stale.statusCode, stale.json()]).toEqual([409, { ok: false, code: "FLAG_NOT_CURRENT", current: 2 }]);
    expect((await ack("x")).statusCode).toBe(400);
    expect((await ack(2, bearer, "Q")).statusCode).toBe(404);
    const ok = await ack(2);
    expect([ok.statusCode, ok.json()]).toEqual([200, { ok: true, lane: "A", seq: 2 }]);
    expect(laneOf(await status(s), "A").lastFlag).toBeNull();
    expect((await ack(2)).json().code).toBe("NO_PENDING_FLAG");
  });

  it("with a session cookie, acknowledging must come from the dashboard's own origin", async () => {
    const gw = new FakeGateway();
    const s = start(gw);
    gw.verdict("A", "FLAG", "EXPIRED");
    const login = await s.app.inject({
      method: "POST", url: "/login", payload: `token=${ACCESS_TOKEN}`,
      headers: { origin: "http://localhost:80", "content-type": "application/x-www-form-urlencoded" },
    });
    const cookie = String(login.headers["set-cookie"]).split(";")[0]!;
    const cross = await s.app.inject({ method: "POST", url: "/api/lanes/A/flags/1/ack", headers: { cookie, origin: "http://localhost:9999" } });
    expect([cross.statusCode, cross.json().code]).toEqual([403, "ORIGIN_REFUSED"]);
    expect(laneOf(await status(s), "A").lastFlag).not.toBeNull();
    const same = await s.app.inject({ method: "POST", url: "/api/lanes/A/flags/1/ack", headers: { cookie, origin: "http://localhost:80" } });
    expect(same.statusCode).toBe(200);
    expect(laneOf(await status(s, { cookie }), "A").lastFlag).toBeNull();
  });
});

describe("acknowledging without a token (a loopback gateway with auth off)", () => {
  it("is refused from another site's page, and allowed from the dashboard and from tools", async () => {
    const gw = new FakeGateway();
    const s = start(gw, authConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, auth: { enabled: false } } }));
    gw.verdict("A", "FLAG", "EXPIRED");
    const ack = (headers: Record<string, string>) => s.app.inject({ method: "POST", url: "/api/lanes/A/flags/1/ack", headers });
    const cross = await ack({ origin: "http://evil.example" });
    expect([cross.statusCode, cross.json().code]).toEqual([403, "ORIGIN_REFUSED"]);
    const crossFetch = await ack({ "sec-fetch-site": "cross-site" });
    expect([crossFetch.statusCode, crossFetch.json().code]).toEqual([403, "ORIGIN_REFUSED"]);
    expect(laneOf(await status(s, {}), "A").lastFlag).not.toBeNull();
    expect((await ack({ origin: "http://localhost:80" })).statusCode).toBe(200);
    gw.verdict("A", "FLAG", "REVOKED");
    // curl and scripts send neither Origin nor Sec-Fetch-Site.
    expect((await s.app.inject({ method: "POST", url: "/api/lanes/A/flags/2/ack" })).statusCode).toBe(200);
  });
});

describe("dashboard language", () => {
  it("follows display.dashboardLanguage, else the browser's Accept-Language between vi and en, else display.language", () => {
    expect(dashboardLang("en", "vi-VN", "vi")).toBe("en");
    expect(dashboardLang("auto", "vi-VN,vi;q=0.9,en;q=0.8", "en")).toBe("vi");
    expect(dashboardLang("auto", "fr-FR, en;q=0.5, vi;q=0.7", "en")).toBe("vi");
    expect(dashboardLang("auto", "en-US,en;q=0.9", "vi")).toBe("en");
    expect(dashboardLang("auto", "fr, de", "vi")).toBe("vi");
    expect(dashboardLang("auto", "vi;q=0, en;q=0.1", "vi")).toBe("en");
    expect(dashboardLang("auto", undefined, "en")).toBe("en");
  });

  it("/api/status carries the dashboard's first language from the request", async () => {
    const s = start(new FakeGateway());
    expect((await status(s, { ...bearer, "accept-language": "en-GB" })).lang).toBe("en");
    expect((await status(s, { ...bearer, "accept-language": "vi" })).lang).toBe("vi");
  });
});
