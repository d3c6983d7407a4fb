import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { usage } from "../../src/cli/main.js";

const root = new URL("../../", import.meta.url);

/**
 * Every command line the README and docs show: `[npx] checkpoint-gateway CMD [SUB]` at a line's
 * start (the gateway's own start-up log line, `checkpoint-gateway ID running`, is not one).
 */
function documented(): { cmd: string; sub?: string; where: string }[] {
  const docs = readdirSync(new URL("docs/", root)).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`);
  const out: { cmd: string; sub?: string; where: string }[] = [];
  for (const f of ["README.md", ...docs]) {
    const text = readFileSync(new URL(f, root), "utf8");
    for (const m of text.matchAll(/^\s*(?:npx )?checkpoint-gateway (?!\S+ running\b)([a-z][a-z-]*)(?: ([a-z][a-z-]*)\b)?/gm)) {
      out.push({ cmd: m[1]!, ...(m[2] ? { sub: m[2] } : {}), where: f });
    }
  }
  return out;
}

describe("checkpoint-gateway --help", () => {
  const lines = usage().split("\n").slice(1).map((l) => l.trim()).filter(Boolean);

  it("names every command and subcommand the README and docs show", () => {
    const shown = documented();
    expect(shown.length).toBeGreaterThan(10);
    const missing = shown.filter(({ cmd, sub }) => {
      const own = lines.filter((l) => l.split(" ")[0] === cmd);
      if (own.length === 0) return true;
      // A command with subcommands has lines "CMD SUB ..."; one without takes options and files.
      const subs = own.map((l) => l.split(" ")[1]!).filter((w) => /^[a-z][a-z-]*$/.test(w));
      return subs.length > 0 && (sub === undefined || !subs.includes(sub));
    });
    expect(missing).toEqual([]);
  });
});
