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

describe("error codes used in the source", () => {
  it("are all in the catalogue", async () => {
    const { readdirSync, statSync } = await import("node:fs");
    const { join } = await import("node:path");
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) for (const m of readFileSync(p, "utf8").matchAll(/\bGW_[A-Z_]+\b/g)) used.add(m[0]);
      }
    };
    walk("src");
    const unknown = [...used].filter((c) => !(c in GatewayErrorCodes));
    expect(unknown).toEqual([]);
  });
});
