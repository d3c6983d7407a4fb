/** Bounded JSON: size checked before parsing, nesting depth after (JSON.parse itself is not recursive-bomb prone below the size cap). */
import { fail } from "../reasons.js";
import { LIMITS } from "../limits.js";

function depth(v: unknown, d: number): void {
  if (d > LIMITS.maxJsonDepth) fail("SIZE_LIMIT", "JSON nesting");
  if (typeof v !== "object" || v === null) return;
  for (const x of Array.isArray(v) ? v : Object.values(v)) depth(x, d + 1);
}

export function parseJsonBounded(text: string): unknown {
  if (text.length > LIMITS.maxJsonChars) fail("SIZE_LIMIT", "JSON size");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return fail("STRUCTURE_INVALID", "JSON");
  }
  depth(v, 0);
  return v;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function utf8Strict(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return fail("STRUCTURE_INVALID", "not UTF-8");
  }
}
