import { createHash, randomBytes } from "node:crypto";

/**
 * Payloads and credential ids are never logged or stored; a short salted hash lets ops
 * correlate events without being able to recover (or dictionary-attack) the value.
 */
export function shortHash(value: string | Uint8Array, salt: string, hexChars = 16): string {
  const h = createHash("sha256");
  h.update(salt);
  h.update("\0");
  h.update(value);
  return h.digest("hex").slice(0, hexChars);
}

/** A per-process salt for when none is configured: hashes then correlate within one run only. */
export const ephemeralSalt = randomBytes(16).toString("hex");
