import { describe, expect, it } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

// No Docker engine runs here: the Dockerfile is read, not built. These pin what a build relies on.
const lines = readFileSync("Dockerfile", "utf8").split("\n");
const at = (re: RegExp) => lines.findIndex((l) => re.test(l));

describe("Dockerfile", () => {
  it("installs dependencies in a layer before the source is copied", () => {
    const deps = at(/^COPY package\.json package-lock\.json \.\/$/);
    const ci = at(/^RUN npm ci\b/);
    const src = at(/^COPY src /);
    expect(deps).toBeGreaterThan(-1);
    expect(ci).toBeGreaterThan(deps);
    expect(src).toBeGreaterThan(ci);
    expect(lines.some((l) => /^COPY \. /.test(l))).toBe(false);
  });

  it("builds on the same pinned Node LTS as CI, never an end-of-life line", () => {
    const arg = /^ARG NODE_VERSION=(\d+)\.(\d+)\.(\d+)$/.exec(lines[at(/^ARG NODE_VERSION=/)] ?? "");
    expect(arg).not.toBeNull();
    expect(Number(arg![1])).toBeGreaterThanOrEqual(22);
    const pinned = /PINNED="\$\{CPGW_NODE_VERSION:-([\d.]+)\}"/.exec(readFileSync("scripts/node-lts.sh", "utf8"));
    expect(`${arg![1]}.${arg![2]}.${arg![3]}`).toBe(pinned![1]);
    expect(lines.filter((l) => l.startsWith("FROM ")).every((l) => l.includes("${NODE_VERSION}"))).toBe(true);
    const engines = (JSON.parse(readFileSync("package.json", "utf8")) as { engines: { node: string } }).engines.node;
    expect(engines).toBe(">=22");
  });

  it("ships no test seam: the image drops them, and nothing the CLI can load reaches one", () => {
    expect(lines.join("\n")).toMatch(/rm -rf dist\/test dist\/bench dist\/scripts dist\/src\/\*\/testing/);
    // Every module reachable from the CLI entry point in the compiled tree, so an import of a test
    // seam that the pruned image would miss fails here, before a deployment does.
    const seen = new Set<string>();
    const todo = [resolve("bin/checkpoint-gateway.js")];
    while (todo.length > 0) {
      const file = todo.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      // Any relative .js path in a string: imports, the CLI's lazily imported command table, worker files.
      const specs = [...text.matchAll(/"(\.{1,2}\/[^"]+\.js)"/g)].map((m) => m[1]!);
      for (const spec of specs) {
        const next = resolve(dirname(file), spec);
        if (existsSync(next)) todo.push(next);
      }
    }
    const shipped = [...seen].map((f) => f.slice(resolve(".").length + 1));
    expect(shipped.length).toBeGreaterThan(100);
    expect(shipped).toContain("dist/src/decode/worker.js");
    expect(shipped.filter((f) => /(^dist\/(test|bench|scripts)\/)|\/testing\//.test(f))).toEqual([]);
  });
});
