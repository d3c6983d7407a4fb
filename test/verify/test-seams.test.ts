/**
 * What the daemon and the CLI run never imports a test seam (src/**\/testing/, eslint.config.js
 * `layerRules`): the `verify` command gets its trust view from the trust store's loader, and the
 * lint rule that says so covers src/cli too (audit 3 #7).
 */
import { readFileSync } from "node:fs";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// Typed lint builds a TypeScript program: a minute on a 2-core machine shared with other jobs.
const restricted = (r: ESLint.LintResult) => r.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);

describe("test seams stay out of production code", () => {
  it("importing src/verify/testing/ from a CLI command is a lint error", { timeout: 180_000 }, async () => {
    const code = 'import { MemoryTrust } from "../../verify/testing/memory-trust.js";\nexport const trust = new MemoryTrust();\n';
    const [r] = await new ESLint().lintText(code, { filePath: "src/cli/commands/verify.ts" });
    expect(restricted(r!)).toEqual([expect.stringContaining("production code does not import test seams")]);
  });

  it("the verify command imports none", { timeout: 180_000 }, async () => {
    const [r] = await new ESLint().lintFiles(["src/cli/commands/verify.ts"]);
    expect(restricted(r!)).toEqual([]);
    expect(readFileSync("src/cli/commands/verify.ts", "utf8")).not.toMatch(/\/testing\//);
  });
});
