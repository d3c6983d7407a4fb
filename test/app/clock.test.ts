/**
 * A gateway whose clock is wrong says so (docs/trust.md, "Clock"). Against the real gateway with a
 * trust list served over HTTP whose Date header is three hours behind this machine's clock (as if
 * the box ran three hours fast): every lane out of service with CLOCK_UNTRUSTED, /readyz and
 * /metrics say why; with clockAction flag the lane stays in service and /readyz still reports it.
 * Back in step (the server's Date right again, a refresh), the lane returns to service.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/core/logger.js";
import type { Gateway } from "../../src/app/gateway.js";
import { SYNTHETIC, startGateway } from "../support/gateway.js";
import { ListServer, makeKeyPair, passEntry, signedList, tempDir } from "../trust/helpers.js";
import { waitFor } from "../support/wait.js";

const HOUR = 3600_000;
const tmp = tempDir("clock");
const server = new ListServer();
let rootPath = "";

beforeAll(async () => {
  await server.start();
  const root = await makeKeyPair("root");
  rootPath = join(tmp.dir, "root.public.jwk.json");
  writeFileSync(rootPath, JSON.stringify(root.pub));
  server.body = await signedList(root.priv, 1, [(await passEntry("k-1")).entry]);
});
afterAll(async () => {
  await server.stop();
  tmp.cleanup();
});

const until = (cond: () => boolean | Promise<boolean>, what: string) => waitFor(cond, what, 30_000, 100);
const readyz = async (gw: Gateway) => (await (await fetch(`${gw.urls.public}/readyz`)).json()) as { ready: boolean; problems: Array<{ code: string; detail: string }> };
const metrics = async (gw: Gateway) => (await fetch(`${gw.urls.public}/metrics`)).text();
const display = async (gw: Gateway, lane: string) => (await (await fetch(`${gw.urls.public}/lanes/${lane}/state`)).json()) as { state: string; problems: string[] };

const config = (id: string, clockAction: "flag" | "out-of-service") =>
  parseConfig({
    gateway: { id, stateDir: join(tmp.dir, id) },
    server: { listen: { host: "127.0.0.1", port: 0 } },
    decode: { workers: 1 },
    cameras: [{ id: "c1", lane: "L1", ...SYNTHETIC, width: 320, height: 240, fps: 10 }],
    lanes: [{ id: "L1" }],
    trust: { lists: [{ source: server.url, rootKey: rootPath }], clockAction },
  });

describe("a gateway whose clock is wrong", () => {
  it("takes its lanes out of service (CLOCK_UNTRUSTED on the display, in /readyz and /metrics), and back once the clock agrees", async () => {
    server.dateMs = Date.now() - 3 * HOUR;
    const gw = await startGateway(config("gw-clock-oos", "out-of-service"), { logger: silentLogger });
    try {
      const lane = gw.lanes.get("L1")!;
      await until(() => lane.status().problems.includes("CLOCK_UNTRUSTED"), "CLOCK_UNTRUSTED");
      expect(lane.status().state).toBe("out-of-service");
      const r = await readyz(gw);
      expect(r.ready).toBe(false);
      const clock = r.problems.find((p) => p.code === "CLOCK_UNTRUSTED");
      expect(clock?.detail).toMatch(/^local clock is 108\d\d s ahead of a trust server's Date header$/);
      const m = await metrics(gw);
      expect(m).toMatch(/^checkpoint_gateway_trust_clock_untrusted 1$/m);
      expect(m).toMatch(/^checkpoint_gateway_lane_problem\{lane="L1",problem="CLOCK_UNTRUSTED"\} 1$/m);
      expect(await display(gw, "L1")).toMatchObject({ state: "out-of-service", problems: expect.arrayContaining(["CLOCK_UNTRUSTED"]) });

      server.dateMs = undefined; // the server's own Date: this machine's clock
      await gw.trust.refreshNow();
      await until(() => lane.status().state === "idle", "back in service");
      expect((await readyz(gw)).problems.map((p) => p.code)).not.toContain("CLOCK_UNTRUSTED");
      expect(await metrics(gw)).toMatch(/^checkpoint_gateway_trust_clock_untrusted 0$/m);
    } finally {
      await gw.close();
    }
  }, 90_000);

  it("with clockAction flag keeps the lane in service (verdicts are flagged instead), and /readyz still says the clock is wrong", async () => {
    server.dateMs = Date.now() - 3 * HOUR;
    const gw = await startGateway(config("gw-clock-flag", "flag"), { logger: silentLogger });
    try {
      const lane = gw.lanes.get("L1")!;
      await until(() => lane.status().state === "idle", "idle");
      await until(async () => (await readyz(gw)).problems.some((p) => p.code === "CLOCK_UNTRUSTED"), "readyz CLOCK_UNTRUSTED");
      expect(lane.status().problems).toEqual([]);
      expect(gw.trust.status().clockUntrusted).toMatchObject({ basis: "server-date" });
    } finally {
      server.dateMs = undefined;
      await gw.close();
    }
  }, 90_000);
});
