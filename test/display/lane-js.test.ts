import { describe, expect, it } from "vitest";
import { bootLanePage, type LanePage } from "./lane-js.js";

const view = (state: string, extra: Record<string, unknown> = {}) => ({ lane: "A", name: "Lane A", lang: "en", state, problems: [], headline: {}, detail: {}, ...extra });

/** Connects the page with a `state` saying `heartbeatMs`. */
function connected(heartbeatMs: number): LanePage {
  const page = bootLanePage();
  page.es().emit("state", view("idle", { heartbeatMs }));
  expect(page.state()).toBe("idle");
  return page;
}

/** Heartbeats every `everyMs` (carrying `heartbeatMs` when given) for `forMs`; the page's state each 100 ms. */
function beat(page: LanePage, everyMs: number, forMs: number, heartbeatMs?: number): string[] {
  const seen: string[] = [];
  for (let t = 0; t < forMs; t += 100) {
    if (t % everyMs === 0) page.es().emit("heartbeat", { t: page.now(), ...(heartbeatMs !== undefined ? { heartbeatMs } : {}) });
    page.advance(100);
    seen.push(page.state()!);
  }
  return seen;
}

/** How long after the last event the page turns OUT OF SERVICE on its own (NO_HEARTBEAT). */
function silenceUntilOutOfService(page: LanePage): number {
  const from = page.now();
  while (page.state() !== "out-of-service") {
    if (page.now() - from > 120_000) throw new Error("never gave up");
    page.advance(10);
  }
  expect(page.code()).toBe("NO_HEARTBEAT");
  return page.now() - from;
}

describe("lane.js: the heartbeat interval follows a config reload (display.heartbeatMs)", () => {
  it("a raised interval carried by heartbeats does not flicker OUT OF SERVICE", () => {
    const page = connected(2000);
    expect(new Set(beat(page, 2000, 10_000, 2000))).toEqual(new Set(["idle"]));
    // The hub now ticks every 10 s on the same stream: no new `state`.
    const seen = beat(page, 10_000, 60_000, 10_000);
    expect(seen.filter((s) => s !== "idle")).toEqual([]);
  });

  it("after a raise, green lasts no longer than 3.5 new intervals after the last event", () => {
    const page = connected(2000);
    beat(page, 2000, 4000, 2000);
    beat(page, 10_000, 20_000, 10_000);
    // A PASS with a long ttl, then the gateway hangs with the connection open.
    page.es().emit("verdict", { lane: "A", seq: 1, verdict: "PASS", reason: "OK", ttl: 60_000 });
    expect(page.state()).toBe("pass");
    expect(silenceUntilOutOfService(page)).toBe(35_000);
  });

  it("a lowered interval does not flip a healthy page at once, and a hang is then noticed at 3.5 new intervals", () => {
    const page = connected(10_000);
    beat(page, 10_000, 20_000, 10_000);
    // 9 s after the last event (more than 3.5 x 2 s) the first heartbeat with the new interval comes.
    page.advance(9000);
    page.es().emit("heartbeat", { t: page.now(), heartbeatMs: 2000 });
    page.advance(1);
    expect(page.state()).toBe("idle");
    expect(beat(page, 2000, 20_000, 2000).filter((s) => s !== "idle")).toEqual([]);
    page.es().emit("heartbeat", { t: page.now(), heartbeatMs: 2000 });
    expect(silenceUntilOutOfService(page)).toBe(7000);
  });

  it("a lane-status carrying the interval is adopted too; one without it, or with a bad one, keeps the last", () => {
    const page = connected(2000);
    page.es().emit("lane-status", view("idle", { heartbeatMs: 4000 }));
    expect(silenceUntilOutOfService(page)).toBe(14_000);
    page.es().emit("heartbeat", { t: page.now() });
    expect(page.state()).toBe("idle");
    for (const bad of [0, -5, "9000", null]) page.es().emit("heartbeat", { t: page.now(), heartbeatMs: bad });
    page.es().emit("lane-status", view("idle"));
    expect(silenceUntilOutOfService(page)).toBe(14_000);
  });
});

describe("lane.js: a FLAG keeps the screen for its ttl", () => {
  it("a PASS verdict event while a FLAG is shown is not painted over it; the gateway's view (lane-status) is", () => {
    const page = connected(2000);
    page.es().emit("verdict", { lane: "A", seq: 1, verdict: "FLAG", reason: "EXPIRED", ttl: 8000, text: { en: "The pass has expired" } });
    expect(page.state()).toBe("flag");
    page.advance(300);
    page.es().emit("verdict", { lane: "A", seq: 2, verdict: "PASS", reason: "OK", ttl: 4000 });
    expect(page.state()).toBe("flag");
    expect(new Set(beat(page, 2000, 7600, 2000))).toEqual(new Set(["flag"]));
    page.advance(100);
    expect(page.state()).toBe("idle");
    // A PASS the gateway shows once the FLAG ended comes as the view, and is shown.
    page.es().emit("lane-status", view("pass", { verdict: { seq: 3, verdict: "PASS", reason: "OK", ttl: 1000 } }));
    expect(page.state()).toBe("pass");
    // A FLAG event still replaces a PASS at once.
    page.es().emit("verdict", { lane: "A", seq: 4, verdict: "FLAG", reason: "REVOKED", ttl: 8000, text: {} });
    expect(page.state()).toBe("flag");
  });
});
