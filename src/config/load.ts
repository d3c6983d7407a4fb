import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { configSchema, type GatewayConfig } from "./schema.js";
import { substituteEnv } from "./env.js";
import { secretMasker, maskUrl } from "../core/mask.js";
import { GatewayError } from "../core/errors.js";

export class ConfigError extends GatewayError {
  constructor(
    readonly problems: string[],
    code: "GW_CONFIG_INVALID" | "GW_CONFIG_UNREADABLE" | "GW_CONFIG_ENV_MISSING" = "GW_CONFIG_INVALID",
  ) {
    super(code, `invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k as string];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  // Config errors go to the terminal and to logs: a bad camera URL must not print its password.
  const masked = maskUrl(s);
  return `'${masked.length > 60 ? masked.slice(0, 57) + "..." : masked}'`;
}

/** Every problem at once, as `path: problem (got 'value')`. */
export function formatIssues(issues: z.core.$ZodIssue[], input: unknown): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const p = [...issue.path, key];
        out.push(`${p.join(".")}: unknown key (got ${show(valueAt(input, p))})`);
      }
      continue;
    }
    const p = issue.path.join(".") || "(root)";
    out.push(`${p}: ${issue.message} (got ${show(valueAt(input, issue.path))})`);
  }
  return out;
}

/** Validates an already-parsed object (after env substitution). Secrets are registered with the log masker. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const sub = substituteEnv(raw ?? {}, env);
  const result = configSchema.safeParse(sub.value);
  const problems = [...sub.problems, ...(result.success ? [] : formatIssues(result.error.issues, sub.value))];
  if (problems.length > 0) throw new ConfigError(problems, sub.problems.length && result.success ? "GW_CONFIG_ENV_MISSING" : "GW_CONFIG_INVALID");
  secretMasker.add(...sub.substituted);
  const cfg = result.data!;
  secretMasker.add(cfg.gateway.hashSalt, cfg.server.admin.token, cfg.server.auth.token, cfg.mqtt?.password);
  for (const c of cfg.cameras) secretMasker.add(c.password);
  return cfg;
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError([`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`], "GW_CONFIG_UNREADABLE");
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new ConfigError([`${file}: not valid YAML (${(e as Error).message.split("\n")[0]})`], "GW_CONFIG_UNREADABLE");
  }
  return parseConfig(raw, env);
}
