import { describe, expect, it } from "vitest";
import { assessClock, headerTime, laterBound } from "../../src/verify/trust/clock-check.js";

const H = 3600_000;
const T = Date.UTC(2026, 11, 1, 12);
const MAX = 2 * H;

describe("clock check", () => {
  it("no evidence: trusted, nothing measured", () => {
    expect(assessClock({}, { wallMs: T, monoMs: 0 }, MAX)).toEqual({ untrusted: false });
  });

  it("a server Date beyond the tolerance either way makes the clock untrusted; within it, not", () => {
    const seen = (serverMs: number) => ({ server: { vouchedMs: serverMs, wallMs: T, monoMs: 1000 } });
    expect(assessClock(seen(T - 3 * H), { wallMs: T, monoMs: 1000 }, MAX)).toEqual({ untrusted: true, driftMs: 3 * H, basis: "server-date" });
    expect(assessClock(seen(T + 3 * H), { wallMs: T, monoMs: 1000 }, MAX)).toEqual({ untrusted: true, driftMs: -3 * H, basis: "server-date" });
    expect(assessClock(seen(T - H), { wallMs: T, monoMs: 1000 }, MAX)).toEqual({ untrusted: false, driftMs: H });
  });

  it("carries the observation forward on the monotonic clock: a wall clock stepped later is judged as it is now", () => {
    const e = { server: { vouchedMs: T, wallMs: T, monoMs: 1000 } };
    // 10 minutes later by both clocks: still in step.
    expect(assessClock(e, { wallMs: T + 600_000, monoMs: 601_000 }, MAX).driftMs).toBe(0);
    // The wall clock was set back a day meanwhile.
    expect(assessClock(e, { wallMs: T + 600_000 - 24 * H, monoMs: 601_000 }, MAX)).toMatchObject({ untrusted: true, driftMs: -24 * H });
  });

  it("a signed time bounds the present from below only: behind it is untrusted, ahead of it is nothing", () => {
    const e = { signed: { vouchedMs: T, wallMs: T - 30 * 24 * H, monoMs: 0 } };
    expect(assessClock(e, { wallMs: T - 30 * 24 * H, monoMs: 0 }, MAX)).toEqual({ untrusted: true, behindSignedMs: 30 * 24 * H, basis: "signed-time" });
    expect(assessClock({ signed: { vouchedMs: T - 90 * 24 * H, wallMs: T, monoMs: 0 } }, { wallMs: T, monoMs: 0 }, MAX)).toEqual({ untrusted: false, behindSignedMs: -90 * 24 * H });
    // Within the tolerance (a signer a little ahead): not evidence.
    expect(assessClock({ signed: { vouchedMs: T + H, wallMs: T, monoMs: 0 } }, { wallMs: T, monoMs: 0 }, MAX).untrusted).toBe(false);
  });

  it("the server's Date decides first; a signed time can still make a clock the server has not seen untrusted", () => {
    const both = { server: { vouchedMs: T + 5 * H, wallMs: T, monoMs: 0 }, signed: { vouchedMs: T + 5 * H, wallMs: T, monoMs: 0 } };
    expect(assessClock(both, { wallMs: T, monoMs: 0 }, MAX).basis).toBe("server-date");
    const onlySigned = { server: { vouchedMs: T, wallMs: T, monoMs: 0 }, signed: { vouchedMs: T + 5 * H, wallMs: T, monoMs: 0 } };
    expect(assessClock(onlySigned, { wallMs: T, monoMs: 0 }, MAX)).toMatchObject({ untrusted: true, basis: "signed-time", driftMs: 0 });
  });

  it("of two signed times, the one that bounds the present higher, compared at the same monotonic instant", () => {
    const a = { vouchedMs: T, wallMs: T, monoMs: 0 };
    const b = { vouchedMs: T + 1000, wallMs: T, monoMs: 5000 }; // seen 5 s later, vouches 1 s later: a bounds higher
    expect(laterBound(a, b)).toBe(a);
    expect(laterBound(b, a)).toBe(a);
    expect(laterBound(undefined, b)).toBe(b);
    expect(laterBound(a, undefined)).toBe(a);
  });

  it("a Date header counts with its Age; a missing or malformed header vouches for nothing", () => {
    expect(headerTime("Tue, 01 Dec 2026 12:00:00 GMT", null)).toBe(T);
    expect(headerTime("Tue, 01 Dec 2026 12:00:00 GMT", "3600")).toBe(T + H);
    expect(headerTime("Tue, 01 Dec 2026 12:00:00 GMT", "-5")).toBe(T);
    expect(headerTime("Tue, 01 Dec 2026 12:00:00 GMT", "soon")).toBe(T);
    expect(headerTime(null, "10")).toBeUndefined();
    expect(headerTime("yesterday-ish", null)).toBeUndefined();
  });
});
