import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { configSchema } from "../../src/config/schema.js";
import { GatewayBus } from "../../src/core/bus.js";
import { startOutputs } from "../../src/app/outputs.js";
import { metricsCollectors, type Observed } from "../../src/app/observe.js";
import { GatewayMetrics } from "../../src/output/metrics/index.js";
import type { TrustStore } from "../../src/verify/trust/index.js";
import { captureLogger, makeEvent, makeReadOnly, rmDir, tmpDir } from "../events/helpers.js";

const p = "checkpoint_gateway_";
const dirs: string[] = [];
afterAll(() => dirs.forEach(rmDir));

const sample = (text: string, name: string) => text.match(new RegExp(`^${p}${name} (\\S+)$`, "m"))?.[1];

describe("stage stats reach /metrics through the gateway wiring", () => {
  it("a ledger whose disk refuses writes shows its write errors and degraded", async () => {
    const dir = tmpDir("observe-ledger");
    dirs.push(dir);
    const cfg = configSchema.parse({ gateway: { id: "gw-o", stateDir: dir }, cameras: [], lanes: [{ id: "L1" }] });
    const { logger, lines } = captureLogger();
    const bus = new GatewayBus();
    const out = await startOutputs(cfg, bus, logger, undefined);
    const metrics = new GatewayMetrics({ processMetrics: false });
    metrics.setCollectors({ ledger: () => out.ledgerStats?.() });

    bus.emit("verdict", makeEvent("gw-o", "L1", 1));
    const ok = await metrics.render();
    expect(sample(ok, "ledger_entries")).toBe("1");
    expect(sample(ok, "ledger_degraded")).toBe("0");
    expect(sample(ok, "ledger_write_errors_total")).toBe("0");
    expect(out.ledgerStats!().lastWriteAt).toBeGreaterThan(0);

    // The disk now refuses new files: the entry still goes to the open file, but the head file
    // cannot be replaced. The ledger contains the failure itself (it no longer throws, which is all
    // the old wiring counted), so /metrics must read the ledger's own counters.
    const undo = makeReadOnly(join(dir, "ledger"));
    try {
      bus.emit("verdict", makeEvent("gw-o", "L1", 2));
    } finally {
      undo();
    }
    const bad = await metrics.render();
    expect(Number(sample(bad, "ledger_write_errors_total"))).toBeGreaterThanOrEqual(1);
    expect(sample(bad, "ledger_degraded")).toBe("1");
    expect(sample(bad, "ledger_fsync_errors_total")).toBe("0");
    expect(lines.some((l) => l.includes("GW_LEDGER_FSYNC"))).toBe(true);
    await out.close();
  });

  it("the trust store's refused deltas and refused cache copies are exported", async () => {
    const trust = { stats: () => ({ revocationDeltasApplied: 2, revocationDeltasRefused: 5, cacheCopiesRefused: 3 }) } as unknown as TrustStore;
    const metrics = new GatewayMetrics({ processMetrics: false });
    const c = metricsCollectors({ trust } as Observed);
    metrics.setCollectors({ trustCounters: c.trustCounters! });
    const text = await metrics.render();
    expect(sample(text, "trust_revocation_deltas_applied")).toBe("2");
    expect(sample(text, "trust_revocation_deltas_refused_total")).toBe("5");
    expect(sample(text, "trust_cache_copies_refused_total")).toBe("3");
  });
});
