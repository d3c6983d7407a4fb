import { describe, expect, it } from "vitest";
import { decideCommand, statsPayload, tokenMatches, type StatsContext, type StatsSnapshot } from "../../src/output/mqtt/payloads.js";

const T = "0123456789abcdef-token";
const b = (s: string) => Buffer.from(s);

describe("MQTT command payloads", () => {
  it("token auth: only JSON with the exact token passes", () => {
    const auth = { mode: "token" as const, token: T };
    expect(decideCommand("pause", b(JSON.stringify({ token: T })), auth)).toEqual({ ok: true, action: "pause" });
    expect(decideCommand("pause", b(JSON.stringify({ token: T, state: "OFF" })), auth)).toEqual({ ok: true, action: "resume" });
    expect(decideCommand("resume", b(JSON.stringify({ token: T, state: "ON" })), auth)).toEqual({ ok: true, action: "resume" });
    for (const p of [JSON.stringify({ token: T.slice(0, -1) }), JSON.stringify({ token: `${T} ` }), JSON.stringify({}), "ON", ""]) {
      expect(decideCommand("pause", b(p), auth), p).toEqual({ ok: false, reason: "UNAUTHORISED" });
    }
  });

  it("refuses malformed payloads before looking at auth", () => {
    const acl = { mode: "acl" as const };
    // A bare token as text is not a command either (and is not echoed anywhere).
    expect(decideCommand("pause", b(T), acl)).toEqual({ ok: false, reason: "BAD_PAYLOAD" });
    for (const p of ["{bad", "[1]", "null", JSON.stringify({ token: 5 }), JSON.stringify({ state: true }), "MAYBE", "x".repeat(2000)]) {
      expect(decideCommand("pause", b(p), acl), p.slice(0, 20)).toEqual({ ok: false, reason: "BAD_PAYLOAD" });
    }
    expect(decideCommand("pause", b(" on "), acl)).toEqual({ ok: true, action: "pause" });
    expect(decideCommand("pause", b(""), acl)).toEqual({ ok: true, action: "pause" });
    expect(decideCommand("pause", b("off"), acl)).toEqual({ ok: true, action: "resume" });
    expect(decideCommand("resume", b(""), acl)).toEqual({ ok: true, action: "resume" });
  });

  it("compares tokens by digest (any lengths, no throw)", () => {
    expect(tokenMatches(T, T)).toBe(true);
    expect(tokenMatches("", T)).toBe(false);
    expect(tokenMatches(T + T, T)).toBe(false);
  });
});

describe("MQTT stats payload", () => {
  const ctx: StatsContext = { gatewayId: "gw-1", version: "1.2.3", nowMs: 10_000, startedAtMs: 0, mqtt: { connected: 1, links: 1, reconnects: 0, verdictsPublished: 0, verdictsDropped: 0, commandsAccepted: 0, commandsRejected: 0 } };
  const cam = { id: "cam-1", lane: "L1", state: "online", fpsIn: 14.987, framesIn: 900, framesDropped: 2 };
  const events = { pending: 3, dropped: 0, forwarded: 40, alreadyForwarded: 1, skippedIds: 0, problems: [] };
  const json = (s: StatsSnapshot) => JSON.parse(JSON.stringify(statsPayload(s, ctx))) as { cameras: Record<string, Record<string, unknown>>; events?: Record<string, unknown> };

  it("carries a camera's frame path state and the spool's disk errors and degraded flag", () => {
    const p = json({ cameras: [{ ...cam, framePathFailing: true }, { ...cam, id: "cam-2", framePathFailing: false }], lanes: [], events: { ...events, writeErrors: 2, fsyncErrors: 1, degraded: true } });
    expect(p.cameras["cam-1"]).toEqual({ lane: "L1", state: "online", fps: 14.99, frames: 900, framesDropped: 2, framePathFailing: true });
    expect(p.cameras["cam-2"]!.framePathFailing).toBe(false);
    expect(p.events).toEqual({ ...events, writeErrors: 2, fsyncErrors: 1, degraded: true });
  });

  it("carries a camera's lost picture and an untrusted clock", () => {
    const p = json({ cameras: [{ ...cam, pictureProblem: "FROZEN" }], lanes: [], trust: { stale: false, clockUntrusted: true, revocationDeltasRefused: 0, cacheCopiesRefused: 0 } }) as ReturnType<typeof json> & { trust: Record<string, unknown> };
    expect(p.cameras["cam-1"]).toEqual({ lane: "L1", state: "online", fps: 14.99, frames: 900, framesDropped: 2, pictureProblem: "FROZEN" });
    expect(p.trust).toEqual({ stale: false, clockUntrusted: true, revocationDeltasRefused: 0, cacheCopiesRefused: 0 });
  });

  it("stays as it was when a snapshot has none of the new fields (they are only ever added)", () => {
    const p = json({ cameras: [cam], lanes: [], events });
    expect(p.cameras["cam-1"]).toEqual({ lane: "L1", state: "online", fps: 14.99, frames: 900, framesDropped: 2 });
    expect(p.events).toEqual(events);
  });
});
