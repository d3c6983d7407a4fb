import { describe, expect, it } from "vitest";
import type { VerdictEvent } from "../../src/core/types.js";
import { REASONS } from "../../src/verify/reasons.js";
import { LaneProblems } from "../../src/lane/state.js";
import { FLAG_REASONS, GENERIC_FLAG, HEADLINES, OOS_REASONS, flagText, oosText } from "../../src/output/http/display-text.js";
import { laneView, type LaneViewInput } from "../../src/output/http/lane-view.js";

const NOW = Date.UTC(2026, 0, 1);
/** Monotonic now: holds are counted on it, never on the wall clock. */
const MONO = 50_000;
const lane = { id: "A", name: "Lane A", passHoldMs: 4000, flagHoldMs: 8000 };
function ev(seq: number, verdict: VerdictEvent["verdict"], reason: string, at = NOW): VerdictEvent {
  return { id: `g:A:${seq}`, gatewayId: "g", lane: "A", cameraId: "c", seq, at, frameToVerdictMs: 1, firstSeenToVerdictMs: 1, payloadHash: "h", verdict, reason, format: "pass" };
}
const input = (over: Partial<LaneViewInput>): LaneViewInput => ({ lane, defaultLang: "vi", status: { lane: "A", state: "idle", problems: [] }, seen: [], overlay: [], nowMono: MONO, ...over });

describe("display texts", () => {
  it("has Vietnamese and English text for every verifier reason code except OK", () => {
    const missing = Object.keys(REASONS).filter((c) => c !== "OK" && !FLAG_REASONS[c]);
    expect(missing).toEqual([]);
    for (const [code, t] of Object.entries({ ...FLAG_REASONS, ...OOS_REASONS, ...HEADLINES })) {
      expect(t.vi.trim(), code).not.toBe("");
      expect(t.en.trim(), code).not.toBe("");
      expect(t.vi, code).not.toBe(t.en);
    }
  });

  it("has a text for every lane problem code the lane reports", () => {
    expect(Object.keys(LaneProblems).filter((c) => !OOS_REASONS[c])).toEqual([]);
  });

  it("falls back to a generic text for an unknown code and strips a detail suffix", () => {
    expect(flagText("SOMETHING_NEW")).toBe(GENERIC_FLAG);
    expect(flagText("EXPIRED").en).toBe("The pass has expired");
    expect(oosText("CAMERA_DOWN:cam-1").en).toBe("Camera not working");
    expect(oosText("WHATEVER").en).toBe("Lane unavailable");
  });
});

describe("laneView", () => {
  it("is idle with the lane's language", () => {
    const v = laneView(input({ lane: { ...lane, language: "en" } }));
    expect([v.state, v.lang, v.headline.en]).toEqual(["idle", "en", "Show your code"]);
  });

  it("shows PASS/FLAG from the status only while the hold lasts, with the remaining ttl", () => {
    const status = { lane: "A", state: "pass" as const, problems: [], verdict: ev(3, "PASS", "OK", NOW - 1000), until: NOW + 3000, untilMono: MONO + 3000 };
    expect(laneView(input({ status })).verdict).toMatchObject({ verdict: "PASS", seq: 3, ttl: 3000 });
    expect(laneView(input({ status, nowMono: MONO + 3000 })).state).toBe("idle");
    // A status claiming a hold longer than configured is capped.
    expect(laneView(input({ status: { ...status, untilMono: MONO + 60_000 } })).verdict!.ttl).toBe(4000);
    // Wall time is information only; a status without a monotonic end shows nothing.
    expect(laneView(input({ status: { ...status, until: NOW + 3_600_000 }, nowMono: MONO + 3000 })).state).toBe("idle");
    expect(laneView(input({ status: { ...status, untilMono: undefined } })).state).toBe("idle");
  });

  it("a newer verdict seen on the bus wins over a lagging status; ERROR shows as FLAG", () => {
    const v = laneView(input({ seen: [{ ev: ev(5, "ERROR", "INTERNAL_ERROR"), endsMono: MONO + 8000 }] }));
    expect(v).toMatchObject({ state: "flag", verdict: { verdict: "FLAG", reason: "INTERNAL_ERROR", ttl: 8000 }, detail: FLAG_REASONS.INTERNAL_ERROR });
  });

  it("out of service wins over a verdict, and lists every problem", () => {
    const seen = [{ ev: ev(1, "PASS", "OK"), endsMono: MONO + 4000 }];
    const v = laneView(input({ seen, overlay: ["CAMERAS_DOWN", "TRUST_STALE"] }));
    expect([v.state, v.problems, v.verdict, v.cause?.en]).toEqual(["out-of-service", ["CAMERAS_DOWN", "TRUST_STALE"], undefined, "Camera not working"]);
    // The traveller is told what to do; the cause is secondary.
    expect([v.headline, v.detail]).toEqual([
      { vi: "Làn này tạm ngừng", en: "This lane is closed" },
      { vi: "Vui lòng sang làn khác", en: "Please use another lane" },
    ]);
    expect(laneView(input({ status: { lane: "A", state: "paused", problems: [] }, seen })).problems).toEqual(["LANE_PAUSED"]);
    // Closed because the pause file was unreadable: no officer closed it, and the screen must not say one did.
    const torn = laneView(input({ status: { lane: "A", state: "paused", problems: ["PAUSE_STATE_UNREADABLE"] } }));
    expect([torn.problems, torn.cause?.en]).toEqual([["PAUSE_STATE_UNREADABLE"], "Lane closed: its state could not be restored. An officer must reopen it."]);
    expect(laneView(input({ status: { lane: "A", state: "out-of-service", problems: ["CAMERA_DOWN:cam-1"] } })).cause?.vi).toBe("Camera không hoạt động");
    expect(laneView(input({ status: { lane: "A", state: "out-of-service", problems: [] } })).problems).toEqual(["OUT_OF_SERVICE"]);
  });

  it("a lane without a status yet is out of service, not idle", () => {
    expect(laneView(input({ status: undefined })).problems).toEqual(["LANE_STARTING"]);
  });
});
