import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** Every failure reason the trust code can emit is documented in docs/trust.md, and nothing else is. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") && !p.endsWith(".test.ts") ? [p] : [];
  });
}

describe("docs/trust.md reason table", () => {
  it("lists exactly the reasons used in src/verify/trust", () => {
    const code = sources("src/verify/trust").map((f) => readFileSync(f, "utf8")).join("\n");
    const used = new Set<string>();
    for (const m of code.matchAll(/(?:SourceError\("GW_[A-Z_]+", |TrustListError\(|reason: )"([a-z-]+)"/g)) used.add(m[1]!);
    const doc = readFileSync("docs/trust.md", "utf8");
    const documented = new Set([...doc.matchAll(/^\| `([a-z-]+)` \| GW_/gm)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(8);
    expect([...used].sort()).toEqual([...documented].sort());
  });
});
