/**
 * Chunked SMART Health Cards of two travellers at one lane, through the real assembler (wired as
 * src/app/lanes.ts wires it) and the real verifier: genuine signed cards, each cut in two chunks.
 * A chunk of one card must never complete another's, and each traveller's own card is decided.
 */
import { describe, expect, it } from "vitest";
import { createVerifier, ShcChunkAssembler } from "../../src/verify/index.js";
import { examplePayload, SHC_AT, shcTrust, signShc } from "../verify/support/shc.js";
import { rig, result } from "./helpers.js";

const verifier = createVerifier({ trust: () => shcTrust(), salt: "t", clockSkewS: 60 });

/** A genuine card with its own rid (its own credential), cut into two chunks. */
function card(rid: string): [string, string] {
  const base = examplePayload();
  const digits = signShc({ ...base, vc: { ...(base.vc as Record<string, unknown>), rid } }).slice(5);
  const mid = Math.floor(digits.length / 4) * 2;
  return [`shc:/1/2/${digits.slice(0, mid)}`, `shc:/2/2/${digits.slice(mid)}`];
}
const A = card("travellerA");
const B = card("travellerB");

function lane(leaveMs = 2500) {
  const r = rig();
  r.clock.setWall(SHC_AT);
  const seen: string[] = [];
  const l = r.lane("A", ["a1"], { leaveMs, passHoldMs: 4000, flagHoldMs: 8000 }, {
    verify: (text, ctx) => {
      const v = verifier.verify(text, ctx);
      seen.push(`${v.verdict} ${v.reason}`);
      return v;
    },
    chunkAssembler: new ShcChunkAssembler({ maxAgeMs: leaveMs }),
  });
  let n = 0;
  const frame = (codes: string[]) => l.onDecode(result("a1", ++n, r.clock.monotonic(), codes));
  /** Frames every 66 ms for `ms`. */
  const hold = async (codes: () => string[], ms: number) => {
    for (let t = 0; t < ms; t += 66) {
      await frame(codes());
      r.clock.advance(66);
    }
  };
  const verdicts = () => r.verdicts.map((v) => `${v.verdict} ${v.reason} ${v.credentialHash === B_HASH ? "B" : v.credentialHash === A_HASH ? "A" : "?"}`);
  return { r, l, frame, hold, verdicts, seen };
}
const A_HASH = verifier.verify("shc:/" + A[0].slice(9) + A[1].slice(9), { nowMs: SHC_AT }).credentialHash;
const B_HASH = verifier.verify("shc:/" + B[0].slice(9) + B[1].slice(9), { nowMs: SHC_AT }).credentialHash;

describe("lane: chunked SMART Health Cards of two travellers", () => {
  it("the test cards are genuine, two credentials", () => {
    expect([A_HASH, B_HASH].every((h) => typeof h === "string")).toBe(true);
    expect(A_HASH).not.toBe(B_HASH);
  });

  it("(a) A's half card, then A walks off; B's card 4 s later is B's card: one PASS for B", async () => {
    const t = lane();
    await t.hold(() => [A[0]], 660);
    t.r.clock.advance(4000);
    let i = 0;
    await t.hold(() => (i++ % 2 ? [B[0], B[1]] : [B[1], B[0]]), 5000);
    expect(t.verdicts()).toEqual(["PASS OK B"]);
    expect(t.l.codesInView()).toBe("decided");
  });

  it("(b) two travellers' cards in one frame, read A1 B1 A2 B2 (or B2 before A2): each traveller's own card, no FLAG", async () => {
    for (const order of [[A[0], B[0], A[1], B[1]], [A[0], B[0], B[1], A[1]]]) {
      const t = lane();
      await t.hold(() => order, 5000);
      expect(t.verdicts().sort()).toEqual(["PASS OK A", "PASS OK B"]);
      expect(t.l.codesInView()).toBe("decided");
      // A splice that was tried (second order) gave no verdict: counted, never shown.
      expect(t.l.stats().splicedCards).toBe(order[2] === B[1] ? 2 : 0);
      expect(t.r.statuses.map((s) => s.state)).not.toContain("flag");
    }
  });

  it("(c) the wall clock steps back an hour after A's half card; B 30 min later: one PASS for B (chunks age on the frames' monotonic time)", async () => {
    const t = lane();
    await t.frame([A[0]]);
    t.r.clock.setWall(t.r.clock.now() - 3_600_000);
    t.r.clock.advance(30 * 60_000);
    await t.frame([B[1]]);
    t.r.clock.advance(66);
    await t.hold(() => [B[0], B[1]], 2000);
    expect(t.verdicts()).toEqual(["PASS OK B"]);
  });

  it("a tampered chunked card alone is still FLAGged (no other card's chunks in view)", async () => {
    const t = lane();
    // A's second chunk with its signature's second-to-last character changed to another base64url
    // character ("20" is 'A', "21" is 'B'): it carries six full bits of the signature, so the card
    // decodes and the signature cannot hold. (The pair compared is the one replaced: one run in 64
    // the old version replaced '-' by '-' and tested a genuine card.)
    const pair = A[1].slice(-4, -2);
    const bad = A[1].slice(0, -4) + (pair === "20" ? "21" : "20") + A[1].slice(-2);
    expect(bad).not.toBe(A[1]);
    await t.hold(() => [A[0], bad], 1000);
    expect(t.r.verdicts.map((v) => v.verdict)).toEqual(["FLAG"]);
    expect(t.l.stats().splicedCards).toBe(0);
  });

  it("a chunk header that can never make a card gets one FLAG with its reason, not silence", async () => {
    for (const [text, reason] of [
      ["shc:/1/9/5676", "SIZE_LIMIT"], // more chunks than a card may have
      ["shc:/3/2/5676", "NUMERIC_INVALID"], // index past the count
      ["shc:/1/2/567", "NUMERIC_INVALID"], // an odd number of digits
    ] as const) {
      const t = lane();
      await t.hold(() => [text], 1000);
      expect(t.r.verdicts.map((v) => `${v.verdict} ${v.reason}`)).toEqual([`FLAG ${reason}`]);
    }
  });
});
