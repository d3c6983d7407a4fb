import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import { FakeClock } from "../../src/core/clock.js";
import type { HttpServer } from "../../src/output/http/index.js";
import { ACCESS_TOKEN, FakeGateway, authConfig, testConfig } from "./fakes.js";
import { CHROMIUM, artifactsDir, launchChromium } from "./browser.js";

/** The page must show these exact words; taken from display-text.ts on purpose by value, not import. */
const TEXT = {
  idleVi: "Vui lòng đưa mã QR",
  passVi: "Hợp lệ, mời đi tiếp",
  flagVi: "Vui lòng gặp cán bộ",
  expiredVi: "Thẻ đã hết hạn",
  expiredEn: "The pass has expired",
  noHeartbeatVi: "Hệ thống không phản hồi",
  closedVi: "Làn này tạm ngừng",
  closedEn: "This lane is closed",
  useAnotherVi: "Vui lòng sang làn khác",
  useAnotherEn: "Please use another lane",
};

if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: .ci/run installs the Debian package`);

// Long enough that a busy CI machine cannot starve the pump into a false "no heartbeat".
const HEARTBEAT_MS = 1000;
const PUMP_STEP_MS = 250;
let chrome: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;

beforeAll(async () => {
  chrome = await launchChromium();
  context = chrome.context;
});
afterAll(async () => {
  await chrome?.close();
});

/**
 * The server runs on a FakeClock that a real-time pump advances: heartbeats flow while the pump
 * runs and stop when it stops, with the connection still open, which is exactly the "gateway hung"
 * case the page must detect on its own.
 */
function pumpedServer(gw: FakeGateway, clock: FakeClock, server: HttpServer) {
  let timer: NodeJS.Timeout | undefined;
  return {
    server,
    start() {
      timer ??= setInterval(() => clock.advance(PUMP_STEP_MS), PUMP_STEP_MS);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

async function waitState(page: Page, state: string, timeout = 15_000) {
  await page.waitForFunction((s) => document.body.dataset.state === s, state, { timeout, polling: 50 });
}

async function recordStates(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { __states: string[] };
    w.__states = [document.body.dataset.state ?? ""];
    new MutationObserver(() => {
      const s = document.body.dataset.state ?? "";
      if (w.__states[w.__states.length - 1] !== s) w.__states.push(s);
    }).observe(document.body, { attributes: true, attributeFilter: ["data-state"] });
  });
}
const states = (page: Page) => page.evaluate(() => (window as unknown as { __states: string[] }).__states);

describe("lane display in headless Chromium", () => {
  it("goes idle -> PASS -> FLAG -> idle, then OUT OF SERVICE when heartbeats stop and when the gateway stops", async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const config = testConfig({
      display: { language: "vi", heartbeatMs: HEARTBEAT_MS },
      // PASS outlives the heartbeat watchdog (3.5 heartbeats), so the hang test sees pass -> out of service.
      lanes: [{ id: "A", name: "Lane A", passHoldMs: 6000, flagHoldMs: 3000 }, { id: "B", name: "Lane B", language: "en" }],
    });
    const pump = pumpedServer(gw, clock, gw.server(config));
    const { publicUrl } = await pump.server.listen();
    pump.start();
    const page = await context.newPage();
    const shots = artifactsDir();
    try {
      await page.goto(`${publicUrl}/lanes/A`);
      await waitState(page, "idle");
      expect(await page.textContent("#headline")).toBe(TEXT.idleVi);
      await page.screenshot({ path: join(shots, "lane-1-idle.png") });

      gw.verdict("A", "PASS", "OK");
      await waitState(page, "pass");
      expect(await page.textContent("#headline")).toBe(TEXT.passVi);
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(11, 122, 47)");
      await page.screenshot({ path: join(shots, "lane-2-pass.png") });

      gw.verdict("A", "FLAG", "EXPIRED");
      await waitState(page, "flag");
      expect(await page.textContent("#headline")).toBe(TEXT.flagVi);
      expect(await page.textContent("#detail")).toBe(TEXT.expiredVi);
      expect(await page.textContent("#secondary")).toContain(TEXT.expiredEn);
      expect(await page.textContent("#code")).toContain("EXPIRED");
      expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(179, 0, 27)");
      await page.screenshot({ path: join(shots, "lane-3-flag.png") });

      // The hold ends: back to idle without anyone publishing.
      await waitState(page, "idle");

      // Heartbeats stop while the connection stays open: the page gives up on its own.
      await recordStates(page);
      pump.stop();
      gw.verdict("A", "PASS", "OK"); // the last message before the hang
      await waitState(page, "out-of-service");
      // Travellers read what to do; the cause is the small line.
      expect(await page.textContent("#headline")).toBe(TEXT.closedVi);
      expect(await page.textContent("#detail")).toBe(TEXT.useAnotherVi);
      expect(await page.textContent("#cause")).toContain(TEXT.noHeartbeatVi);
      expect(await page.textContent("#code")).toBe("NO_HEARTBEAT");
      // Green ends with the heartbeat watchdog, before its own 6 s hold.
      expect(await states(page)).toEqual(["idle", "pass", "out-of-service"]);
      await page.screenshot({ path: join(shots, "lane-4-no-heartbeat.png") });

      // Heartbeats return: the page recovers to idle (not to the old verdict).
      pump.start();
      await waitState(page, "idle");

      await pump.server.close();
      await waitState(page, "out-of-service");
      await page.screenshot({ path: join(shots, "lane-5-gateway-stopped.png") });
      // It stays out of service while the gateway is gone.
      await page.waitForTimeout(HEARTBEAT_MS * 2);
      expect(await page.evaluate(() => document.body.dataset.state)).toBe("out-of-service");
    } finally {
      pump.stop();
      await pump.server.close();
      await page.close();
    }
  });

  it("follows a display.heartbeatMs raised by a config reload without flickering OUT OF SERVICE", async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const lanes = [{ id: "A", name: "Lane A" }, { id: "B", name: "Lane B" }];
    let config = testConfig({ display: { language: "vi", heartbeatMs: HEARTBEAT_MS }, lanes });
    // The server reads its config through a getter, as the gateway's reload makes it do.
    const pump = pumpedServer(gw, clock, gw.server(config, { config: () => config }));
    const { publicUrl } = await pump.server.listen();
    pump.start();
    const page = await context.newPage();
    // Heartbeats as the page receives them.
    await page.addInitScript(() => {
      const w = window as unknown as { __beats: Array<{ t: number; heartbeatMs?: number }>; EventSource: typeof EventSource };
      w.__beats = [];
      const Original = w.EventSource;
      w.EventSource = class extends Original {
        constructor(url: string | URL, init?: EventSourceInit) {
          super(url, init);
          this.addEventListener("heartbeat", (e) => w.__beats.push(JSON.parse((e as MessageEvent<string>).data)));
        }
      };
    });
    try {
      await page.goto(`${publicUrl}/lanes/A`);
      await waitState(page, "idle");
      await recordStates(page);
      // Raised past 3.5 old intervals: the page used to give up between two heartbeats.
      const raised = HEARTBEAT_MS * 5;
      const reloadedAt = clock.now();
      config = testConfig({ display: { language: "vi", heartbeatMs: raised }, lanes });
      // Two heartbeats after the reload: the one armed at the old interval, then one a raised interval later.
      await page.waitForFunction((at) => (window as unknown as { __beats: Array<{ t: number }> }).__beats.filter((b) => b.t > at).length >= 2, reloadedAt, { timeout: 15_000, polling: 100 });
      const beats = await page.evaluate(() => (window as unknown as { __beats: Array<{ t: number; heartbeatMs?: number }> }).__beats);
      const after = beats.filter((b) => b.t > reloadedAt);
      expect(after[1]!.t - after[0]!.t).toBe(raised);
      expect(await states(page)).toEqual(["idle"]);
      expect(after.map((b) => b.heartbeatMs)).toEqual([raised, raised]);
    } finally {
      pump.stop();
      await pump.server.close();
      await page.close();
    }
  });

  it("shows an English lane in English, and a paused lane as out of service", async () => {
    expect.hasAssertions();
    const gw = new FakeGateway();
    const server = gw.server();
    const { publicUrl } = await server.listen();
    const page = await context.newPage();
    try {
      await page.goto(`${publicUrl}/lanes/B`);
      await waitState(page, "idle");
      expect(await page.textContent("#headline")).toBe("Show your code");
      gw.verdict("B", "FLAG", "REPLAYED");
      await waitState(page, "flag");
      expect(await page.textContent("#detail")).toBe("This pass was already used just now");
      gw.setStatus({ lane: "B", state: "paused", problems: [] });
      await waitState(page, "out-of-service");
      expect(await page.textContent("#headline")).toBe(TEXT.closedEn);
      expect(await page.textContent("#detail")).toBe(TEXT.useAnotherEn);
      expect(await page.textContent("#cause")).toContain("Lane closed by an officer");
      // The cause is small: well under the size of the instruction.
      const size = (sel: string) => page.$eval(sel, (e) => parseFloat(getComputedStyle(e).fontSize));
      expect(await size("#cause")).toBeLessThan((await size("#detail")) * 0.6);
      expect(await size("#cause")).toBeLessThan((await size("#headline")) * 0.4);
      await page.screenshot({ path: join(artifactsDir(), "lane-6-closed-en.png") });
    } finally {
      await server.close();
      await page.close();
    }
  });
});

describe("officer dashboard in headless Chromium", () => {
  it("renders lanes, cameras with snapshots, trust and recent verdicts", async () => {
    expect.hasAssertions();
    const gw = new FakeGateway();
    const width = 320, height = 180;
    const data = new Uint8Array(width * height).map((_, i) => ((i % width) * 255) / width);
    gw.frames.set("cam-a1", { cameraId: "cam-a1", seq: 1, width, height, stride: width, data, receivedAt: 0 });
    gw.cams[1]!.state = "backoff";
    const server = gw.server();
    const { publicUrl } = await server.listen();
    const page = await context.newPage();
    await page.setExtraHTTPHeaders({ "accept-language": "en-US,en;q=0.9" });
    try {
      gw.verdict("A", "PASS", "OK");
      gw.verdict("B", "FLAG", "SIGNATURE_INVALID");
      await page.goto(`${publicUrl}/`);
      await page.waitForFunction(() => document.body.dataset.loaded === "1", undefined, { timeout: 15_000 });
      expect(await page.locator("#lanes [data-lane]").count()).toBe(2);
      // Lane B's only camera is down: the lane shows out of service.
      expect(await page.getAttribute('#lanes [data-lane="B"]', "data-state")).toBe("out-of-service");
      expect(await page.locator("#cameras [data-camera]").count()).toBe(2);
      expect(await page.textContent('#cameras [data-camera="cam-b1"] h3')).toContain("backoff");
      expect(await page.textContent("#cameras")).toContain("rtsp://***:***@10.0.0.5/stream1");
      expect(await page.textContent("#recent")).toContain("SIGNATURE_INVALID");
      expect(await page.textContent("#trust")).toContain("tl-42");
      expect(await page.textContent("#ready")).toBe("not ready");
      await page.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('#cameras [data-camera="cam-a1"] img');
        return !!img && img.complete && img.naturalWidth === 320;
      }, undefined, { timeout: 15_000 });
      const html = await page.content();
      expect(html).not.toContain("secretpw");
      await page.screenshot({ path: join(artifactsDir(), "dashboard.png"), fullPage: true });
    } finally {
      await server.close();
      await page.close();
    }
  });
});

describe("out-of-service screen in headless Chromium (#12 officers)", () => {
  it("tells travellers the lane is closed and to use another lane, with the cause small", async () => {
    expect.hasAssertions();
    const gw = new FakeGateway();
    gw.cams[0]!.state = "backoff";
    const server = gw.server();
    const { publicUrl } = await server.listen();
    const page = await context.newPage();
    try {
      await page.goto(`${publicUrl}/lanes/A`);
      await waitState(page, "out-of-service");
      await page.waitForFunction(() => document.getElementById("code")?.textContent === "CAMERAS_DOWN", undefined, { timeout: 15_000 });
      expect(await page.textContent("#headline")).toBe(TEXT.closedVi);
      expect(await page.textContent("#detail")).toBe(TEXT.useAnotherVi);
      expect(await page.textContent("#secondary")).toBe(`${TEXT.closedEn} · ${TEXT.useAnotherEn}`);
      expect(await page.textContent("#cause")).toBe("Camera không hoạt động · Camera not working");
      await page.screenshot({ path: join(artifactsDir(), "lane-7-closed-vi.png") });
    } finally {
      await server.close();
      await page.close();
    }
  });

  it("an unknown lane (404 stream) says it is not configured", async () => {
    expect.hasAssertions();
    const server = new FakeGateway().server();
    const { publicUrl } = await server.listen();
    const page = await context.newPage();
    try {
      await page.goto(`${publicUrl}/lanes/no-such-lane`);
      await page.waitForFunction(() => document.getElementById("code")?.textContent === "LANE_UNKNOWN", undefined, { timeout: 15_000 });
      expect(await page.evaluate(() => document.body.dataset.state)).toBe("out-of-service");
      expect(await page.textContent("#cause")).toContain("Làn này chưa được cấu hình");
    } finally {
      await server.close();
      await page.close();
    }
  });
});

describe("officer dashboard: a wrong clock, a camera that cannot see", () => {
  it("the trust badge says the clock is wrong, the trust panel gives the offset and its evidence, a frozen camera's card says so", async () => {
    expect.hasAssertions();
    const gw = new FakeGateway();
    gw.trustStatus = { ...gw.trustStatus, clockUntrusted: { basis: "signed-time", offsetMs: -30 * 86_400_000 } };
    gw.cams[0]!.pictureProblem = "FROZEN";
    const server = gw.server();
    const { publicUrl } = await server.listen();
    const page = await context.newPage();
    await page.setExtraHTTPHeaders({ "accept-language": "en-US,en;q=0.9" });
    try {
      await page.goto(`${publicUrl}/`);
      await page.waitForFunction(() => document.body.dataset.loaded === "1", undefined, { timeout: 15_000 });
      expect(await page.textContent("#trust-badge")).toMatch(/^CLOCK WRONG · trust fresh/);
      expect(await page.getAttribute("#trust-badge", "class")).toContain("bad");
      expect(await page.textContent("#trust")).toContain("-2592000 s (signed-time)");
      // A camera whose frames arrive but show one frozen picture is shown as not seeing.
      expect(await page.textContent('#cameras [data-camera="cam-a1"] h3')).toContain("online · PICTURE FROZEN");
      expect(await page.getAttribute('#cameras [data-camera="cam-a1"]', "class")).toContain("s-down");
    } finally {
      await server.close();
      await page.close();
    }
  });
});

describe("officer dashboard on a phone in headless Chromium (#12 officers)", () => {
  it("fits 390 px in Vietnamese with 24-hour times; the last FLAG stays until acknowledged; it switches to English", async () => {
    expect.hasAssertions();
    const clock = new FakeClock();
    const gw = new FakeGateway(clock);
    const server = gw.server(authConfig({ server: { listen: { host: "127.0.0.1", port: 0 }, auth: { enabled: true, token: ACCESS_TOKEN } } }));
    const { publicUrl } = await server.listen();
    const phone = await launchChromium({ width: 390, height: 844 });
    const page = await phone.context.newPage();
    await page.setExtraHTTPHeaders({ "accept-language": "vi-VN,vi;q=0.9,en;q=0.5" });
    const shots = artifactsDir();
    try {
      // A FLAG at 13:05:09 local time, long before the officer opens the dashboard.
      const at = new Date(2026, 10, 30, 13, 5, 9).getTime();
      gw.verdict("A", "FLAG", "REVOKED", { at });
      gw.verdict("B", "PASS", "OK", { at: at + 1000 });
      clock.advance(10 * 60_000);

      await page.goto(`${publicUrl}/`);
      await page.waitForURL(/\/login$/);
      await page.fill("#token", ACCESS_TOKEN);
      await Promise.all([page.waitForURL(`${publicUrl}/`), page.click("button[type=submit]")]);
      await page.waitForFunction(() => document.body.dataset.loaded === "1", undefined, { timeout: 15_000 });

      expect(await page.evaluate(() => document.documentElement.lang)).toBe("vi");
      expect(await page.textContent("body")).toContain("Cảnh báo chưa xử lý");
      const alert = page.locator('#lanes [data-lane="A"] .flag-alert');
      expect(await alert.textContent()).toContain("Thẻ đã bị thu hồi");
      expect(await alert.textContent()).toContain("REVOKED");
      expect(await alert.textContent()).toContain("13:05:09");
      expect(await alert.textContent()).toContain("cam-a1");
      expect(await page.textContent("#recent")).toContain("13:05:09");
      expect(await page.textContent("body")).not.toMatch(/\d:\d\d(:\d\d)?\s*(AM|PM|SA|CH)/i);
      // No horizontal scroll at phone width.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: join(shots, "dashboard-phone-vi.png"), fullPage: true });

      // Still there after more verdicts and several polls.
      gw.verdict("A", "PASS", "OK");
      await page.waitForTimeout(2500);
      expect(await alert.count()).toBe(1);

      await page.click('#lanes [data-lane="A"] .flag-alert button');
      await page.waitForFunction(() => !document.querySelector('#lanes [data-lane="A"] .flag-alert'), undefined, { timeout: 15_000 });
      expect(await page.locator(".flag-alert").count()).toBe(0);

      await page.click("#lang");
      await page.waitForFunction(() => document.documentElement.lang === "en", undefined, { timeout: 5_000 });
      expect(await page.textContent("h2")).toBe("Lanes");
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.screenshot({ path: join(shots, "dashboard-phone-en.png"), fullPage: true });
    } finally {
      await page.close();
      await phone.close();
      await server.close();
    }
  });
});
