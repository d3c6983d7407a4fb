/**
 * Checkpoint pass claims (docs/checkpoint-pass.md): a CBOR map with small integer keys, so a
 * typical pass stays near 160 bytes signed and fits QR version 10 at ECC level M.
 */
import { fail } from "../reasons.js";

export const PASS_PREFIX = "VN1:";
export const PASS_VERSION = 1;

export const KEYS = {
  version: 1,
  passId: 2,
  subjectRef: 3,
  origin: 4,
  destination: 5,
  declaredAt: 6,
  health: 7,
  validFrom: 8,
  validUntil: 9,
  issuer: 10,
} as const;

export const HEALTH = ["cleared", "monitor", "isolate"] as const;
export type HealthStatus = (typeof HEALTH)[number];

/** The pass as issuers write it (JSON input of `pass issue`) and as policy sees it (minus subjectRef). */
export interface PassClaims {
  version: number;
  passId: string;
  subjectRef: string;
  origin: string;
  destination: string[];
  /** Epoch seconds. */
  declaredAt: number;
  health: HealthStatus;
  validFrom: number;
  validUntil: number;
  issuer: string;
}

const AREA = /^[A-Z0-9]{2,3}(-[A-Z0-9]{1,6})?$/;
const ID = /^[A-Za-z0-9._:-]{1,40}$/;

function str(v: unknown, re: RegExp, what: string): string {
  if (typeof v !== "string" || !re.test(v)) fail("STRUCTURE_INVALID", what);
  return v;
}

function secs(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 2 ** 40) fail("STRUCTURE_INVALID", what);
  return v;
}

/** Validates a decoded claim map; every field is required and strictly typed. */
export function claimsFromMap(m: unknown): PassClaims {
  if (!(m instanceof Map)) fail("STRUCTURE_INVALID", "claims are not a map");
  const known = new Set<unknown>(Object.values(KEYS));
  for (const k of m.keys()) if (!known.has(k)) fail("STRUCTURE_INVALID", "unknown claim key");
  const g = (k: keyof typeof KEYS) => m.get(KEYS[k]);
  if (g("version") !== PASS_VERSION) fail("STRUCTURE_INVALID", "version");
  const dest = g("destination");
  if (!Array.isArray(dest) || dest.length < 1 || dest.length > 8) fail("STRUCTURE_INVALID", "destination");
  const h = g("health");
  if (typeof h !== "number" || !Number.isInteger(h) || h < 0 || h >= HEALTH.length) fail("STRUCTURE_INVALID", "health");
  const c: PassClaims = {
    version: PASS_VERSION,
    passId: str(g("passId"), ID, "passId"),
    subjectRef: str(g("subjectRef"), ID, "subjectRef"),
    origin: str(g("origin"), AREA, "origin"),
    destination: dest.map((d) => str(d, AREA, "destination")),
    declaredAt: secs(g("declaredAt"), "declaredAt"),
    health: HEALTH[h]!,
    validFrom: secs(g("validFrom"), "validFrom"),
    validUntil: secs(g("validUntil"), "validUntil"),
    issuer: str(g("issuer"), ID, "issuer"),
  };
  if (c.validUntil <= c.validFrom) fail("STRUCTURE_INVALID", "validity window");
  return c;
}

export function claimsToMap(c: PassClaims): Map<number, unknown> {
  return new Map<number, unknown>([
    [KEYS.version, PASS_VERSION],
    [KEYS.passId, c.passId],
    [KEYS.subjectRef, c.subjectRef],
    [KEYS.origin, c.origin],
    [KEYS.destination, c.destination],
    [KEYS.declaredAt, c.declaredAt],
    [KEYS.health, HEALTH.indexOf(c.health)],
    [KEYS.validFrom, c.validFrom],
    [KEYS.validUntil, c.validUntil],
    [KEYS.issuer, c.issuer],
  ]);
}
