/**
 * A verdict dropped because the lane left service while its replay claim (Redis SET NX PX) was in
 * flight: the claim is given back, and the code's next sighting is decided afresh.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/core/logger.js";
import { LocalReplayGuard } from "../../src/lane/replay-guard.js";
import { RedisReplayGuard, type RedisLike } from "../../src/lane/replay-redis.js";
import { rig, result } from "./helpers.js";

/** An in-memory Redis whose SET can be held at a gate, and whose EVAL does what the release script does. */
class GatedRedis implements RedisLike {
  readonly store = new Map<string, string>();
  gate: Promise<void> | undefined;
  /** Called when a SET arrives (before it is held). */
  onSet: () => void = () => {};
  evalFails = false;
  async set(key: string, value: string): Promise<"OK" | null> {
    this.onSet();
    if (this.gate) await this.gate;
    if (this.store.has(key)) return null;
    this.store.set(key, value);
    return "OK";
  }
  get(key: string): Promise<string | null> {
    return Promise.resolve(this.store.get(key) ?? null);
  }
  eval(_script: string, _n: number, key: string, value: string): Promise<unknown> {
    if (this.evalFails) return Promise.reject(new Error("ECONNREFUSED"));
    if (this.store.get(key) !== value) return Promise.resolve(0);
    this.store.delete(key);
    return Promise.resolve(1);
  }
}

function setup() {
  const redis = new GatedRedis();
  const r = rig(600_000, { replay: (clock) => new RedisReplayGuard({ redis, keyPrefix: "t:", windowMs: 600_000, local: new LocalReplayGuard(clock, 600_000), logger: silentLogger }) });
  const l1 = r.lane("L1", ["c1"]);
  const l2 = r.lane("L2", ["c2"]);
  let n = 0;
  const frame = (lane: typeof l1, cam: string, codes: string[]) => lane.onDecode(result(cam, ++n, r.clock.monotonic(), codes));
  /** The first frame's claim is held until the lane's only camera is down, then answered. */
  const claimWhileCameraDrops = async () => {
    let open: () => void = () => {};
    redis.gate = new Promise<void>((res) => (open = res));
    redis.onSet = () => queueMicrotask(() => {
      l1.setCameraUp("c1", false);
      open();
    });
    await frame(l1, "c1", ["VALID:alice"]);
    redis.gate = undefined;
    redis.onSet = () => {};
  };
  const verdicts = () => r.verdicts.map((v) => `${v.lane} ${v.verdict} ${v.reason}`);
  return { r, redis, l1, l2, frame, claimWhileCameraDrops, verdicts };
}

describe("lane: a verdict dropped after its replay claim", () => {
  it("gives the claim back: the code held in view when the lane is back gets PASS OK, and so does another lane after", async () => {
    const t = setup();
    await t.claimWhileCameraDrops();
    expect([t.verdicts(), t.l1.stats().verdictsDropped, t.l1.status().state]).toEqual([[], 1, "out-of-service"]);
    expect(t.redis.store.size).toBe(0);
    // The camera is back 200 ms later and the traveller still holds the code.
    t.r.clock.advance(200);
    t.l1.setCameraUp("c1", true);
    for (let i = 0; i < 30; i++) {
      await t.frame(t.l1, "c1", ["VALID:alice"]);
      t.r.clock.advance(66);
    }
    expect(t.verdicts()).toEqual(["L1 PASS OK"]);
    expect(t.l1.codesInView()).toBe("decided");
  });

  it("the traveller sent to another lane gets PASS OK there", async () => {
    const t = setup();
    await t.claimWhileCameraDrops();
    t.r.clock.advance(5000);
    await t.frame(t.l2, "c2", ["VALID:alice"]);
    expect(t.verdicts()).toEqual(["L2 PASS OK"]);
    expect([...t.redis.store.values()].map((v) => v.split(":")[0])).toEqual(["L2"]);
  });

  it("a claim that cannot be given back (Redis down) stands: counted, and the credential is REPLAYED, never a second PASS", async () => {
    const t = setup();
    t.redis.evalFails = true;
    await t.claimWhileCameraDrops();
    expect(t.l1.stats().replayReleaseFailures).toBe(1);
    t.redis.evalFails = false;
    await t.frame(t.l2, "c2", ["VALID:alice"]);
    expect(t.verdicts()).toEqual(["L2 FLAG REPLAYED"]);
  });

  it("a verdict dropped while it was verified (no claim made yet) is decided afresh at the next sighting", async () => {
    const r = rig();
    let open: () => void = () => {};
    const gate = new Promise<void>((res) => (open = res));
    let calls = 0;
    const l = r.lane("A", ["a1"], {}, {
      verify: async () => {
        if (calls++ === 0) await gate;
        return { verdict: "FLAG", reason: "EXPIRED", format: "pass" };
      },
    });
    const p = l.onDecode(result("a1", 1, r.clock.monotonic(), ["EXPIRED:eve"]));
    l.setProblem("CAMERAS_DOWN", true);
    open();
    await p;
    l.setProblem("CAMERAS_DOWN", false);
    r.clock.advance(100);
    await l.onDecode(result("a1", 2, r.clock.monotonic(), ["EXPIRED:eve"]));
    expect(r.verdicts.map((v) => v.reason)).toEqual(["EXPIRED"]);
  });
});
