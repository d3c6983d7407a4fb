import { describe, expect, it } from "vitest";
import { recordFault, type FaultKind } from "../../src/core/faults.js";
import { createLogger } from "../../src/core/logger.js";
import { faultCode, logFaults } from "../../src/app/fault-log.js";

const collecting = () => {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: createLogger({ level: "debug", destination: { write: (s: string) => void lines.push(JSON.parse(s)) } }) };
};

describe("fault log", () => {
  it("gives each fault kind its own code", () => {
    const kinds: FaultKind[] = ["timer", "unhandled_rejection", "uncaught_exception", "callback"];
    expect(kinds.map(faultCode)).toEqual(["GW_TIMER_FAULT", "GW_UNHANDLED_REJECTION", "GW_UNCAUGHT_EXCEPTION", "GW_INTERNAL_FAULT"]);
  });

  it("logs a contained fault with its code and place until unsubscribed", () => {
    const { lines, logger } = collecting();
    const off = logFaults(logger);
    try {
      recordFault("timer", "app.health", new Error("boom"));
      recordFault("callback", "lane.decide", "plain reason");
    } finally {
      off();
    }
    expect(lines.map((l) => [l.code, l.where, l.err, l.level])).toEqual([
      ["GW_TIMER_FAULT", "app.health", "boom", "error"],
      ["GW_INTERNAL_FAULT", "lane.decide", "plain reason", "error"],
    ]);
    const other = logFaults(createLogger({ level: "silent" })); // keeps the fault off stderr
    try {
      recordFault("timer", "after", new Error("later"));
    } finally {
      other();
    }
    expect(lines).toHaveLength(2);
  });
});
