import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { configSchema, configJsonSchema, type GatewayConfig } from "./schema.js";
import { formatIssues, secretsIn } from "./issues.js";
import { substituteEnv } from "./env.js";
import { secretMasker } from "../core/mask.js";
import { GatewayError } from "../core/errors.js";

export class ConfigError extends GatewayError {
  constructor(
    readonly problems: string[],
    code: "GW_CONFIG_INVALID" | "GW_CONFIG_UNREADABLE" | "GW_CONFIG_ENV_MISSING" = "GW_CONFIG_INVALID",
  ) {
    super(code, `invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

/** Validates an already-parsed object (after env substitution). Secrets are registered with the log masker first. */
export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  if (raw === null || raw === undefined) {
    // An empty file parses as null: almost always a wrong path or a truncated copy, never intended.
    throw new ConfigError(["(root): the file is empty; an empty config would run nothing (write `{}` for all defaults)"], "GW_CONFIG_INVALID");
  }
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError([`(root): expected a mapping of sections (got ${Array.isArray(raw) ? "a list" : typeof raw})`], "GW_CONFIG_INVALID");
  }
  const sub = substituteEnv(raw, env);
  // Secrets are registered before validation: a token that is too short is still a token, and
  // the problem text that says so must not print it.
  secretMasker.add(...sub.substituted, ...secretsIn(sub.value));
  const result = configSchema.safeParse(sub.value);
  const problems = [...sub.problems, ...(result.success ? [] : formatIssues(result.error.issues, sub.value, configJsonSchema(), (s) => secretMasker.mask(s)))];
  if (problems.length > 0) throw new ConfigError(problems, sub.problems.length && result.success ? "GW_CONFIG_ENV_MISSING" : "GW_CONFIG_INVALID");
  return result.data!;
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
