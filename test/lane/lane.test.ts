import { describe, expect, it } from "vitest";
import { rig, result, STARTUP_GRACE_MS } from "./helpers.js";
import type { AssembledCard, ChunkAssemblerPort } from "../../src/lane/chunks.js";

/** Feeds frames at 15 fps from camera `cam` for `ms`, each holding `texts`. */
async function show(r: ReturnType<typeof rig>, lane: string, cam: string, texts: string[], ms: number): Promise<void> {
  const l = r.lanes.get(lane)!;
  for (let t = 0; t < ms; t += 66) {
    await l.onDecode(result(cam, Math.round(r.clock.monotonic() / 66), r.clock.monotonic(), texts));
    r.clock.advance(66);
  }
}

describe("lane: one verdict per presentation", () => {
  it("a code held in view for seconds gives one verdict, with per-lane seq and hashed keys", async () => {
    const r = rig();
    r.lane("A", ["a1"]);
    await show(r, "A", "a1", ["VALID:alice"], 3000);
    expect(r.verdicts).toHaveLength(1);
    const v = r.verdicts[0]!;
    expect(v).toMatchObject({ verdict: "PASS", reason: "OK", lane: "A", cameraId: "a1", seq: 1, id: "gw-t:A:1", gatewayId: "gw-t" });
    expect(v.payloadHash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(v)).not.toContain("VALID:alice");
    expect(v.firstSeenToVerdictMs).toBe(0);
  });

  it("two cameras of the same lane seeing the same code give one verdict", async () => {
    const r = rig();
    const l = r.lane("A", ["a1", "a2"]);
    for (let i = 0; i < 20; i++) {
      await l.onDecode(result("a1", i, r.clock.monotonic(), ["EXPIRED:bob"]));
      await l.onDecode(result("a2", i, r.clock.monotonic() - 10, ["EXPIRED:bob"]));
      r.clock.advance(66);
    }
    expect(r.verdicts.map((v) => v.reason)).toEqual(["EXPIRED"]);
  });

  it("a short gap (< leaveMs) is the same presentation; a longer one is a new presentation", async () => {
    const r = rig();
    r.lane("A", ["a1"]);
    await show(r, "A", "a1", ["EXPIRED:bob"], 500);
    await show(r, "A", "a1", [], 900); // out of view < leaveMs (1000)
    await show(r, "A", "a1", ["EXPIRED:bob"], 500);
    expect(r.verdicts).toHaveLength(1);
    await show(r, "A", "a1", [], 1200); // left
    await show(r, "A", "a1", ["EXPIRED:bob"], 300);
    expect(r.verdicts.map((v) => [v.reason, v.seq])).toEqual([["EXPIRED", 1], ["EXPIRED", 2]]);
    expect(r.lanes.get("A")!.stats().missedReads).toBeGreaterThan(10);
  });

  it("two codes in the same frame are two presentations", async () => {
    const r = rig();
    r.lane("A", ["a1"]);
    await show(r, "A", "a1", ["VALID:x", "TAMPERED:y"], 300);
    expect(r.verdicts.map((v) => v.reason).sort()).toEqual(["OK", "TAMPERED"]);
    expect(r.verdicts.map((v) => v.seq).sort()).toEqual([1, 2]);
  });

  it("decode errors count as read failures and never give a verdict", async () => {
    const r = rig();
    const l = r.lane("A", ["a1"]);
    await l.onDecode(result("a1", 1, 0, [], { code: "GW_DECODE_TIMEOUT", message: "deadline" }));
    expect(r.verdicts).toHaveLength(0);
    expect(l.stats()).toMatchObject({ readFailures: 1, framesDecoded: 1 });
  });

  it("a verifier that throws gives ERROR INTERNAL_ERROR, never PASS", async () => {
    const r = rig();
    r.lane("A", ["a1"], {}, {
      verify: () => {
        throw new Error("boom");
      },
    });
    await show(r, "A", "a1", ["VALID:z"], 100);
    expect(r.verdicts.map((v) => [v.verdict, v.reason])).toEqual([["ERROR", "INTERNAL_ERROR"]]);
    expect(r.lanes.get("A")!.status().state).toBe("flag");
  });

  it("frameToVerdictMs counts from the frame's receive time; firstSeenToVerdictMs from the first sighting", async () => {
    const r = rig();
    let release: () => void = () => {};
    const gate = new Promise<void>((res) => (release = res));
    const l = r.lane("A", ["a1"], {}, {
      verify: async () => {
        await gate;
        return { verdict: "PASS", reason: "OK", format: "pass" };
      },
    });
    const p = l.onDecode(result("a1", 1, r.clock.monotonic(), ["VALID:slow"]));
    r.clock.advance(40);
    await l.onDecode(result("a1", 2, r.clock.monotonic(), ["VALID:slow"]));
    r.clock.advance(10);
    release();
    await p;
    expect(r.verdicts).toHaveLength(1);
    expect(r.verdicts[0]).toMatchObject({ frameToVerdictMs: 50, firstSeenToVerdictMs: 50 });
    expect(l.stats().last?.framesTried).toBe(2);
  });
});

describe("lane: replay guard", () => {
  it("the same credential at the other lane within the window is FLAG REPLAYED", async () => {
    const r = rig();
    r.lane("A", ["a1"]);
    r.lane("B", ["b1"]);
    await show(r, "A", "a1", ["VALID:alice"], 500);
    await show(r, "B", "b1", ["VALID:alice"], 500);
    expect(r.verdicts.map((v) => [v.lane, v.verdict, v.reason])).toEqual([
      ["A", "PASS", "OK"],
      ["B", "FLAG", "REPLAYED"],
    ]);
    expect(r.verdicts[1]!.credentialHash).toBe("cred-alice");
  });

  it("a PASS dropped because the lane left service while it was verified claims nothing: the traveller's next presentation passes", async () => {
    const r = rig();
    let release: () => void = () => {};
    let gate = new Promise<void>((res) => (release = res));
    const l = r.lane("A", ["a1"], {}, {
      verify: async () => {
        await gate;
        return { verdict: "PASS", reason: "OK", format: "pass", credentialHash: "cred-carol" };
      },
    });
    const p = l.onDecode(result("a1", 1, r.clock.monotonic(), ["VALID:carol"]));
    l.setProblem("CAMERAS_DOWN", true);
    release();
    await p;
    l.setProblem("CAMERAS_DOWN", false);
    expect([r.verdicts.length, l.stats().verdictsDropped]).toEqual([0, 1]);
    gate = Promise.resolve();
    r.clock.advance(5000);
    await l.onDecode(result("a1", 2, r.clock.monotonic(), ["VALID:carol"]));
    expect(r.verdicts.map((v) => [v.verdict, v.reason])).toEqual([["PASS", "OK"]]);
    expect(l.stats().replays).toBe(0);
  });

  it("again at the same lane after leaving is REPLAYED; after the window it passes again", async () => {
    const r = rig(10_000);
    r.lane("A", ["a1"]);
    await show(r, "A", "a1", ["VALID:alice"], 300);
    await show(r, "A", "a1", [], 2000);
    await show(r, "A", "a1", ["VALID:alice"], 300);
    r.clock.advance(10_000);
    await show(r, "A", "a1", ["VALID:alice"], 300);
    expect(r.verdicts.map((v) => v.reason)).toEqual(["OK", "REPLAYED", "OK"]);
  });

  it("FLAG verdicts do not claim the credential", async () => {
    const r = rig();
    r.lane("A", ["a1"]);
    r.lane("B", ["b1"]);
    await show(r, "A", "a1", ["EXPIRED:carol"], 300);
    await show(r, "B", "b1", ["EXPIRED:carol"], 300);
    expect(r.verdicts.map((v) => v.reason)).toEqual(["EXPIRED", "EXPIRED"]);
  });
});

describe("lane: state on screen", () => {
  it("idle -> pass (held passHoldMs) -> idle; flag held flagHoldMs", async () => {
    const r = rig();
    const l = r.lane("A", ["a1"]);
    expect(l.status().state).toBe("idle");
    await l.onDecode(result("a1", 1, 0, ["VALID:d"]));
    expect(l.status()).toMatchObject({ state: "pass", until: r.clock.now() + 3000 });
    r.clock.advance(2999);
    expect(l.status().state).toBe("pass");
    r.clock.advance(1);
    expect(l.status().state).toBe("idle");
    await l.onDecode(result("a1", 2, r.clock.monotonic(), ["TAMPERED:e"]));
    r.clock.advance(4999);
    expect(l.status().state).toBe("flag");
    r.clock.advance(1);
    expect(l.status().state).toBe("idle");
    expect(r.statuses.map((s) => s.state)).toEqual(["out-of-service", "idle", "pass", "idle", "flag", "idle"]);
  });

  it("out of service while every camera is down; verdicts are not made then", async () => {
    const r = rig();
    const l = r.lane("A", ["a1", "a2"]);
    await l.onDecode(result("a1", 1, 0, ["VALID:f"]));
    l.setCameraUp("a1", false);
    expect(l.status().state).toBe("pass");
    l.setCameraUp("a2", false);
    expect(l.status()).toMatchObject({ state: "out-of-service", problems: ["CAMERAS_DOWN"] });
    expect(l.status().verdict).toBeUndefined();
    await l.onDecode(result("a1", 2, 100, ["VALID:g"]));
    expect(r.verdicts).toHaveLength(1);
    expect(l.stats().framesIgnored).toBe(1);
    l.setCameraUp("a2", true);
    expect(l.status().state).toBe("idle");
  });

  it("a lane with no cameras is out of service", () => {
    const r = rig();
    const l = r.lane("A", []);
    expect(l.status()).toMatchObject({ state: "out-of-service", problems: ["CAMERAS_DOWN"] });
  });

  it("shutting down clears a green screen at once; paused wins over everything", async () => {
    const r = rig();
    const l = r.lane("A", ["a1"]);
    await l.onDecode(result("a1", 1, 0, ["VALID:h"]));
    l.setPaused(true);
    expect(l.status().state).toBe("paused");
    l.setProblem("SHUTTING_DOWN", true);
    expect(l.status().state).toBe("paused");
    l.setPaused(false);
    expect(l.status()).toMatchObject({ state: "out-of-service", problems: ["SHUTTING_DOWN"] });
  });

  it("a verdict decided while the lane left service is dropped, not shown", async () => {
    const r = rig();
    let release: () => void = () => {};
    const gate = new Promise<void>((res) => (release = res));
    const l = r.lane("A", ["a1"], {}, {
      verify: async () => {
        await gate;
        return { verdict: "PASS", reason: "OK", format: "pass" };
      },
    });
    const p = l.onDecode(result("a1", 1, 0, ["VALID:i"]));
    l.setProblem("SHUTTING_DOWN", true);
    release();
    await p;
    expect(r.verdicts).toHaveLength(0);
    expect(l.stats().verdictsDropped).toBe(1);
  });
});

describe("lane: start-up", () => {
  const fresh = () => {
    const r = rig();
    const l = r.lane("A", ["a1", "a2"], {}, { camerasUp: false });
    return { r, l };
  };

  it("starts STARTING (out of service, not CAMERAS_DOWN) and makes no verdict then", async () => {
    const { r, l } = fresh();
    expect(l.status()).toEqual({ lane: "A", state: "out-of-service", problems: ["STARTING"] });
    await l.onDecode(result("a1", 1, 0, ["VALID:s"]));
    expect(r.verdicts).toEqual([]);
    expect(l.stats().framesIgnored).toBe(1);
    // Ingest reports a camera that is still opening its stream as not up: still starting, not down.
    l.setCameraUp("a1", false);
    r.clock.advance(STARTUP_GRACE_MS - 1);
    expect(l.status().problems).toEqual(["STARTING"]);
    expect(r.statuses.map((s) => [s.state, ...s.problems])).toEqual([["out-of-service", "STARTING"]]);
  });

  it("leaves STARTING when a camera comes up: in service, and the grace timer is gone", () => {
    const { r, l } = fresh();
    expect(r.clock.pendingCount).toBe(1);
    l.setCameraUp("a2", true);
    expect(l.status()).toEqual({ lane: "A", state: "idle", problems: [] });
    expect(r.clock.pendingCount).toBe(0);
    // From then on the normal rule: every camera down is CAMERAS_DOWN, never STARTING again.
    l.setCameraUp("a2", false);
    expect(l.status().problems).toEqual(["CAMERAS_DOWN"]);
    r.clock.advance(STARTUP_GRACE_MS);
    expect(l.status().problems).toEqual(["CAMERAS_DOWN"]);
  });

  it("a camera up does not bring a lane with another problem into service", () => {
    const { l } = fresh();
    l.setProblem("TRUST_STALE", true);
    l.setCameraUp("a1", true);
    expect(l.status()).toEqual({ lane: "A", state: "out-of-service", problems: ["TRUST_STALE"] });
  });

  it("no camera up when the grace ends: CAMERAS_DOWN, in one change (never in service in between)", () => {
    const { r, l } = fresh();
    r.clock.advance(STARTUP_GRACE_MS);
    expect(l.status()).toEqual({ lane: "A", state: "out-of-service", problems: ["CAMERAS_DOWN"] });
    expect(r.statuses.map((s) => [s.state, ...s.problems])).toEqual([
      ["out-of-service", "STARTING"],
      ["out-of-service", "CAMERAS_DOWN"],
    ]);
    l.setCameraUp("a1", true);
    expect(l.status().state).toBe("idle");
  });

  it("close clears the grace timer", () => {
    const { r, l } = fresh();
    l.close();
    expect(r.clock.pendingCount).toBe(0);
    r.clock.advance(STARTUP_GRACE_MS * 2);
    expect(l.status().problems).toEqual(["STARTING"]);
    expect(r.statuses).toHaveLength(1);
  });

  it("no grace, or no camera: CAMERAS_DOWN at once and no timer", () => {
    const r = rig();
    const none = r.lane("A", ["a1"], {}, { camerasUp: false, startupGraceMs: 0 });
    const empty = r.lane("B", [], {}, { startupGraceMs: 10_000 });
    expect([none.status().problems, empty.status().problems]).toEqual([["CAMERAS_DOWN"], ["CAMERAS_DOWN"]]);
    expect(r.clock.pendingCount).toBe(0);
  });
});

describe("lane: chunked SMART Health Cards", () => {
  /** Joins `shc:/i/n/body` chunks once all n are there. */
  class FakeAssembler implements ChunkAssemblerPort {
    private parts = new Map<number, string>();
    addFrame(texts: readonly string[]): AssembledCard[] {
      const out: AssembledCard[] = [];
      for (const text of texts) {
        const m = /^shc:\/(\d+)\/(\d+)\/(.*)$/.exec(text)!;
        this.parts.set(Number(m[1]), text);
        const n = Number(m[2]);
        if (this.parts.size < n) continue;
        const parts = [...Array(n).keys()].map((i) => this.parts.get(i + 1)!);
        out.push({ text: "shc:/" + parts.map((p) => p.split("/")[3]).join(""), parts, ambiguous: false });
        this.parts.clear();
      }
      return out;
    }
    reject(): void {}
  }

  it("chunks over several frames give one verdict on the assembled card, timed from the first chunk", async () => {
    const r = rig();
    const seen: string[] = [];
    const l = r.lane("A", ["a1"], {}, {
      chunkAssembler: new FakeAssembler(),
      verify: (text) => {
        seen.push(text);
        return { verdict: "PASS", reason: "OK", format: "shc", credentialHash: "shc-1" };
      },
    });
    await l.onDecode(result("a1", 1, r.clock.monotonic(), ["shc:/1/2/5656"]));
    r.clock.advance(66);
    await l.onDecode(result("a1", 2, r.clock.monotonic(), ["shc:/1/2/5656"]));
    r.clock.advance(66);
    await l.onDecode(result("a1", 3, r.clock.monotonic(), ["shc:/2/2/7777"]));
    r.clock.advance(66);
    // Both chunks keep being seen: still one presentation.
    for (let i = 4; i < 30; i++) {
      await l.onDecode(result("a1", i, r.clock.monotonic(), ["shc:/1/2/5656", "shc:/2/2/7777"]));
      r.clock.advance(66);
    }
    expect(seen).toEqual(["shc:/56567777"]);
    expect(r.verdicts).toHaveLength(1);
    expect(r.verdicts[0]!.firstSeenToVerdictMs).toBe(132);
    expect(r.verdicts[0]!.frameToVerdictMs).toBe(0);
  });
});
