import { describe, expect, it } from "vitest";
import { GatewayBus } from "../../src/core/bus.js";
import type { VerdictEvent } from "../../src/core/types.js";
import type { Outputs } from "../../src/app/outputs.js";
import { swapOutputs } from "../../src/app/outputs.js";

const verdict = (id: string) => ({ id }) as VerdictEvent;

/** Outputs whose ledger and spool only record what is appended to them directly. */
const recording = (onClose: () => void = () => {}) => {
  const ledger: string[] = [];
  const spool: string[] = [];
  const out = {
    ledger: { append: (ev: VerdictEvent) => void ledger.push(ev.id) },
    spool: { append: (ev: VerdictEvent) => void spool.push(ev.id) },
    close: async () => onClose(),
  } as unknown as Outputs;
  return { out, ledger, spool };
};

/** A real bus that counts its subscriptions, to see that the swap lets go of its own. */
const countingBus = () => {
  const bus = new GatewayBus();
  let listeners = 0;
  const on = bus.on.bind(bus);
  bus.on = ((event: "verdict", fn: (ev: VerdictEvent) => void) => {
    listeners++;
    const off = on(event, fn);
    return () => {
      listeners--;
      off();
    };
  }) as GatewayBus["on"];
  return { bus, listeners: () => listeners };
};

describe("swapOutputs", () => {
  it("verdicts decided while the old outputs close and the new ones start reach the new ledger and spool", async () => {
    const { bus, listeners } = countingBus();
    const old = recording(() => bus.emit("verdict", verdict("during-close")));
    const next = recording();
    const running = await swapOutputs(bus, old.out, async () => {
      bus.emit("verdict", verdict("during-start"));
      return next.out;
    });
    expect(running).toBe(next.out);
    expect(next.ledger).toEqual(["during-close", "during-start"]);
    expect(next.spool).toEqual(["during-close", "during-start"]);
    // After the swap nothing is held any more: the new outputs' own subscriptions take over.
    expect(listeners()).toBe(0);
  });

  it("outputs that fail to start reject the swap (the reload reports it) after the old ones closed", async () => {
    const { bus, listeners } = countingBus();
    let closed = false;
    await expect(swapOutputs(bus, recording(() => (closed = true)).out, () => Promise.reject(new Error("broker config")))).rejects.toThrow("broker config");
    expect(closed).toBe(true);
    expect(listeners()).toBe(0);
  });
});
