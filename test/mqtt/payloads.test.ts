import { describe, expect, it } from "vitest";
import { decideCommand, tokenMatches } from "../../src/output/mqtt/payloads.js";

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
