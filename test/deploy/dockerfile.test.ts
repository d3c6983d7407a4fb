import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";

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
});
