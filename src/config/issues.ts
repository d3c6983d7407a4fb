import type { z } from "zod";
import { maskUrl } from "../core/mask.js";

/**
 * Turns validation issues into `path: problem (got 'value')` lines an operator can act on: list
 * items are named by their id (`cameras[t2-l1-a].fps`, not `cameras.0.fps`), unknown keys suggest
 * the nearest known key, and secrets are never echoed, even when they are the invalid value.
 */

/** Keys whose values are secrets wherever they appear in the config. */
const SECRET_KEY = /(password|token|secret|salt|passphrase|privatekey)$/i;

export function isSecretKey(key: PropertyKey): boolean {
  return typeof key === "string" && SECRET_KEY.test(key);
}

/** Every string under a secret-named key, found before validation so a bad secret is masked too. */
export function secretsIn(raw: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key: PropertyKey | undefined) => {
    if (typeof v === "string") {
      if (key !== undefined && isSecretKey(key)) out.push(v);
      return;
    }
    if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(raw, undefined);
  return out;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[k as string];
  }
  return v;
}

/** `["cameras", 0, "fps"]` -> `cameras[t2-l1-a].fps` when item 0 has a string id, else `cameras[0].fps`. */
export function displayPath(root: unknown, path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (let i = 0; i < path.length; i++) {
    const k = path[i]!;
    if (typeof k === "number") {
      const item = valueAt(root, path.slice(0, i + 1));
      const id = item && typeof item === "object" ? (item as { id?: unknown }).id : undefined;
      out += typeof id === "string" && id.length > 0 && id.length <= 64 ? `[${id}]` : `[${k}]`;
    } else {
      out += (out ? "." : "") + String(k);
    }
  }
  return out || "(root)";
}

export type Mask = (s: string) => string;

function show(v: unknown, secret: boolean, mask: Mask): string {
  if (v === undefined) return "nothing";
  if (secret) return "'(secret, not shown)'";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  // Problems go to the terminal and to logs: a bad camera URL must not print its password.
  const masked = mask(maskUrl(s));
  return `'${masked.length > 60 ? masked.slice(0, 57) + "..." : masked}'`;
}

/** Levenshtein distance, small inputs only (config keys). */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The known key closest to `key`, if it is close enough to be a likely typo. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(key, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  allOf?: JsonSchemaNode[];
}

/** Property names the JSON Schema allows at `path` (array indexes step into `items`). */
export function knownKeys(schema: unknown, path: ReadonlyArray<PropertyKey>): string[] {
  let nodes: JsonSchemaNode[] = [schema as JsonSchemaNode];
  const expand = (ns: JsonSchemaNode[]): JsonSchemaNode[] =>
    ns.flatMap((n) => [n, ...expand([...(n.anyOf ?? []), ...(n.oneOf ?? []), ...(n.allOf ?? [])])]);
  for (const k of path) {
    nodes = expand(nodes).flatMap((n) => {
      if (typeof k === "number") return n.items ? [n.items] : [];
      const p = n.properties?.[String(k)];
      return p ? [p] : [];
    });
  }
  return [...new Set(expand(nodes).flatMap((n) => Object.keys(n.properties ?? {})))];
}

/** Every problem at once, as `path: problem (got 'value')`. */
export function formatIssues(issues: z.core.$ZodIssue[], input: unknown, schema: unknown, mask: Mask): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(schema, issue.path);
      for (const key of issue.keys) {
        const p = [...issue.path, key];
        const hint = nearest(key, known);
        out.push(`${displayPath(input, p)}: unknown key${hint ? `, did you mean '${hint}'?` : ""} (got ${show(valueAt(input, p), isSecretKey(key), mask)})`);
      }
      continue;
    }
    const last = issue.path[issue.path.length - 1];
    out.push(`${displayPath(input, issue.path)}: ${issue.message} (got ${show(valueAt(input, issue.path), last !== undefined && isSecretKey(last), mask)})`);
  }
  return out;
}
