/** The admin listener under a token guesser: unknown paths throttled and token-blind, refusal logs bounded. */
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { createLogger } from "../../src/core/logger.js";
import { buildAdminServer } from "../../src/output/http/admin.js";
import { REFUSAL_LOG_LINES_PER_MINUTE, RefusalLog } from "../../src/output/http/refusals.js";
import type { HttpServer } from "../../src/output/http/index.js";
import { FakeGateway, TOKEN } from "./fakes.js";

const servers: HttpServer[] = [];
const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const a of apps.splice(0)) await a.close();
});
const auth = { authorization: `Bearer ${TOKEN}` };

function collecting() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n")) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ level: "debug", destination }) };
}

describe("admin listener: unknown paths", () => {
  it("60 bad-token requests to an unknown path get 429 after the limit, and the path answers the same with and without the right token", async () => {
    const gw = new FakeGateway();
    const s = gw.server(); // rateLimitPerMinute: 5
    servers.push(s);
    const admin = (await s.adminApp())!;
    const codes = new Map<number, number>();
    for (let i = 0; i < 60; i++) {
      const res = await admin.inject({ method: "POST", url: "/nope", headers: { authorization: `Bearer guess-${i}-guess-guess-guess` } });
      codes.set(res.statusCode, (codes.get(res.statusCode) ?? 0) + 1);
    }
    expect(Object.fromEntries(codes)).toEqual({ 404: 5, 429: 55 });
    // The right token gets what a guess gets, throttled or not: nothing there tells a guesser it was right.
    const answer = async (headers: Record<string, string>, remoteAddress: string) => {
      const r = await admin.inject({ method: "POST", url: "/nope", headers, remoteAddress });
      return [r.statusCode, r.body];
    };
    expect(await answer(auth, "127.0.0.1")).toEqual(await answer({ authorization: "Bearer guess-x-guess-guess-guess" }, "127.0.0.1"));
    expect(await answer(auth, "10.0.0.7")).toEqual(await answer({ authorization: "Bearer guess-y-guess-guess-guess" }, "10.0.0.8"));
    expect(await answer(auth, "10.0.0.9")).toEqual(await answer({}, "10.0.0.10"));
    expect((await admin.inject({ method: "POST", url: "/nope", headers: auth, remoteAddress: "10.0.0.11" })).statusCode).toBe(404);
    // The operator's own routes keep their budget.
    expect((await admin.inject({ method: "POST", url: "/admin/lanes/A/pause", headers: auth })).statusCode).toBe(200);
    expect(gw.actions).toEqual(["pause:A"]);
  });
});

describe("admin listener: refusal logs are bounded", () => {
  it("a flood of bad tokens from many addresses logs a few refusals a minute, then says how many it left out", async () => {
    let now = 1_000_000;
    const { lines, logger } = collecting();
    const admin = await buildAdminServer({
      token: TOKEN,
      rateLimitPerMinute: 5,
      actions: { reloadConfig: async () => ({}), refreshTrust: async () => ({}), pauseLane: () => undefined, resumeLane: () => undefined },
      laneIds: () => ["A"],
      trustSummary: () => ({}),
      onChanged: () => undefined,
      logger,
      now: () => now,
    });
    apps.push(admin);
    // Each address has its own budget, so every one of these is refused (401), none throttled.
    for (let i = 0; i < 100; i++) {
      const r = await admin.inject({ method: "POST", url: "/admin/reload", headers: { authorization: `Bearer guess-${i}-guess-guess` }, remoteAddress: `10.1.${i >> 8}.${i & 255}` });
      expect(r.statusCode).toBe(401);
    }
    const refused = () => lines.filter((l) => l.msg === "admin request refused (bad or missing token)");
    expect(refused()).toHaveLength(REFUSAL_LOG_LINES_PER_MINUTE);
    expect(lines.filter((l) => l.msg === "admin request")).toEqual([]);
    now += 60_000;
    await admin.inject({ method: "POST", url: "/admin/reload", remoteAddress: "10.2.0.1" });
    expect(refused().at(-1)).toMatchObject({ level: "warn", suppressed: 100 - REFUSAL_LOG_LINES_PER_MINUTE });

    // Throttled requests are logged the same way, not once each.
    for (let i = 0; i < 50; i++) await admin.inject({ method: "POST", url: "/admin/reload", remoteAddress: "10.3.0.1" });
    expect(lines.filter((l) => l.msg === "admin requests throttled (rate limit)")).toHaveLength(REFUSAL_LOG_LINES_PER_MINUTE);
    expect(lines.filter((l) => l.status === 429)).toEqual([]);
  });

  it("RefusalLog: per kind, a budget a minute; the first line after it says how many were left out", () => {
    let now = 0;
    const log = new RefusalLog(() => now, 2);
    expect([log.take("a"), log.take("a"), log.take("a"), log.take("b"), log.take("a")]).toEqual([0, 0, undefined, 0, undefined]);
    now = 59_999;
    expect(log.take("a")).toBeUndefined();
    now = 60_000;
    expect([log.take("a"), log.take("a"), log.take("a")]).toEqual([3, 0, undefined]);
  });
});
