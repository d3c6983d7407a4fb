import { describe, expect, it } from "vitest";
import { preflightFailure, startFailureExit } from "../../src/cli/commands/preflight-exit.js";

const disk = "gateway.stateDir: GW_STATE_DIR_UNWRITABLE: cannot write: ENOSPC (no space left on device) at /var/lib/x";
const config = "lanes[0].cameras: unknown camera cam-9";

describe("preflight exit status", () => {
  it("a disk that cannot write is temporary (75, restarted by the unit); anything else in the config is 2", () => {
    expect(preflightFailure([disk])).toEqual({ code: "GW_STATE_DIR_UNWRITABLE", exit: 75 });
    expect(preflightFailure([disk, disk.replace("stateDir", "ledger")])).toEqual({ code: "GW_STATE_DIR_UNWRITABLE", exit: 75 });
    // A config problem next to the disk one is still a config to fix: restarting cannot.
    expect(preflightFailure([disk, config])).toEqual({ code: "GW_CONFIG_INVALID", exit: 2 });
    expect(preflightFailure([config])).toEqual({ code: "GW_CONFIG_INVALID", exit: 2 });
  });

  it("a start that fails past the preflight: disk 75, config or a live lock 2, anything else 1", () => {
    expect(startFailureExit("GW_STATE_DIR_UNWRITABLE")).toBe(75);
    expect(startFailureExit("GW_STATE_DIR_LOCKED")).toBe(2);
    expect(startFailureExit("GW_CONFIG_INVALID")).toBe(2);
    expect(startFailureExit("GW_TRUST_FETCH")).toBe(1);
    expect(startFailureExit(undefined)).toBe(1);
  });
});
