import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { GatewayErrorCodes } from "./errors.js";

describe("error catalogue", () => {
  it("docs/errors.md lists exactly the codes in errors.ts, with the same meaning", () => {
    const doc = readFileSync("docs/errors.md", "utf8");
    const rows = [...doc.matchAll(/^\| `(GW_[A-Z_]+)` \| (.+) \|$/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(Object.fromEntries(rows)).toEqual(GatewayErrorCodes);
  });
});
