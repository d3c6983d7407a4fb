import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../bench/lib/net.js";

/** Debian's prometheus package ships both binaries (scripts/system-deps.sh). */
export function promBinary(name: "promtool" | "prometheus"): string {
  const found = [`/usr/bin/${name}`, `/usr/local/bin/${name}`].find((p) => existsSync(p));
  // Not a skip: the rules and the dashboard ship, so CI must be able to check them.
  if (!found) throw new Error(`${name} not found: run scripts/system-deps.sh (Debian package prometheus)`);
  return found;
}

/** The scrape job as an operator would write it; a bearer token when /metrics needs one. */
export function scrapeConfig(target: string, tokenFile?: string): string {
  return [
    "global:",
    "  scrape_interval: 1s",
    "  evaluation_interval: 1s",
    "scrape_configs:",
    "  - job_name: checkpoint-gateway",
    "    metrics_path: /metrics",
    ...(tokenFile ? ["    authorization:", "      type: Bearer", `      credentials_file: ${tokenFile}`] : []),
    "    static_configs:",
    `      - targets: ["${target}"]`,
    "",
  ].join("\n");
}

/** A real Prometheus on loopback with its own config and data dir. */
export class PrometheusChild {
  private proc: ChildProcess | undefined;
  private log: string[] = [];
  url = "";

  constructor(private readonly dir: string) {}

  async start(config: string): Promise<void> {
    const port = await freePort();
    const cfg = join(this.dir, "prometheus.yml");
    writeFileSync(cfg, config);
    this.url = `http://127.0.0.1:${port}`;
    this.proc = spawn(promBinary("prometheus"), [`--config.file=${cfg}`, `--storage.tsdb.path=${join(this.dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"], { stdio: ["ignore", "ignore", "pipe"] });
    this.proc.stderr!.on("data", (b: Buffer) => this.log.push(b.toString()));
    const end = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${this.url}/-/ready`).then((r) => r.ok, () => false);
      if (ok) return;
      if (this.proc.exitCode !== null || Date.now() > end) throw new Error(`prometheus did not become ready: ${this.log.join("")}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async query(expr: string): Promise<{ status: string; error?: string; data?: { resultType: string; result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> } }> {
    const r = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await r.json()) as never;
  }

  async queryRange(expr: string, startS: number, endS: number, stepS: number) {
    const r = await fetch(`${this.url}/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${startS}&end=${endS}&step=${stepS}`);
    return (await r.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> } };
  }

  stop(): void {
    this.proc?.kill("SIGTERM");
  }
}
