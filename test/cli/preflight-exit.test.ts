import { describe, expect, it } from "vitest";
import { GatewayError } from "../../src/core/errors.js";
import { preflightFailure, startFailureExit } from "../../src/cli/commands/preflight-exit.js";

const disk = (errno: string) => `gateway.stateDir: GW_STATE_DIR_UNWRITABLE: cannot write: ${errno} (words) at /var/lib/x/.cpgw-probe-1 (got '/var/lib/x')`;
const config = "lanes[0].cameras: unknown camera cam-9";
const errnoError = (code: string) => Object.assign(new Error(code), { code });

describe("preflight exit status", () => {
  it("a disk that cannot write right now is temporary (75, restarted by the unit)", () => {
    for (const errno of ["ENOSPC", "EDQUOT", "EROFS", "EIO"]) expect(preflightFailure([disk(errno)]), errno).toEqual({ code: "GW_STATE_DIR_UNWRITABLE", exit: 75 });
    expect(preflightFailure([disk("ENOSPC"), disk("EROFS")])).toEqual({ code: "GW_STATE_DIR_UNWRITABLE", exit: 75 });
  });

  it("permissions, a path through a file, or any config problem next to it are permanent (2): a restart loop fixes none", () => {
    for (const errno of ["EACCES", "EPERM", "ENOTDIR"]) expect(preflightFailure([disk(errno)]), errno).toEqual({ code: "GW_CONFIG_INVALID", exit: 2 });
    expect(preflightFailure([disk("ENOSPC"), config])).toEqual({ code: "GW_CONFIG_INVALID", exit: 2 });
    expect(preflightFailure([config])).toEqual({ code: "GW_CONFIG_INVALID", exit: 2 });
    // The code named inside an echoed path is not the preflight's own disk problem.
    expect(preflightFailure(["gateway.stateDir: not a directory (got '/srv/GW_STATE_DIR_UNWRITABLE: cannot write: ENOSPC /f')"])).toEqual({ code: "GW_CONFIG_INVALID", exit: 2 });
  });

  it("a start that fails past the preflight: a full or read-only disk 75, permissions 2, config or a live lock 2, anything else 1", () => {
    const unwritable = (errno: string) => new GatewayError("GW_STATE_DIR_UNWRITABLE", "cannot be written", { cause: errnoError(errno) });
    expect(startFailureExit(unwritable("ENOSPC"))).toBe(75);
    expect(startFailureExit(unwritable("EROFS"))).toBe(75);
    expect(startFailureExit(unwritable("EACCES"))).toBe(2);
    expect(startFailureExit(new GatewayError("GW_STATE_DIR_LOCKED", "in use"))).toBe(2);
    expect(startFailureExit(new GatewayError("GW_CONFIG_INVALID", "bad"))).toBe(2);
    expect(startFailureExit(new GatewayError("GW_WASM_MISSING", "not installed"))).toBe(1);
    expect(startFailureExit(new Error("boom"))).toBe(1);
    expect(startFailureExit(undefined)).toBe(1);
  });
});
