import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Every production .ts file under a folder, test files excluded. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

describe("tests run what ships (issue 11, finding 13)", () => {
  it("dist/ holds a compiled twin, newer than its source, for every file under src/ (workers and the CLI run dist/)", () => {
    const stale: string[] = [];
    for (const src of sources("src")) {
      const js = join("dist", src.replace(/\.ts$/, ".js"));
      let jsTime: number;
      try {
        jsTime = statSync(js).mtimeMs;
      } catch {
        stale.push(`${js} missing`);
        continue;
      }
      if (jsTime < statSync(src).mtimeMs) stale.push(`${js} older than ${src}`);
    }
    expect(stale).toEqual([]);
  });

  it("CI runs the README's test command and the type check and lint (finding 17)", () => {
    const ci = readFileSync(".ci/run", "utf8").split("\n").map((l) => l.trim());
    expect(ci).toContain("npm test");
    expect(ci).toContain("npm run check");
    expect(readFileSync("vitest.config.ts", "utf8")).toMatch(/globalSetup: \["test\/global-setup\.ts"\]/);
  });
});
