/**
 * Bounded decompression. `maxOutputLength` makes zlib stop (and throw) as soon as the output
 * would pass the cap, so a compression bomb costs at most the cap in memory and time.
 */
import { inflateSync, inflateRawSync } from "node:zlib";
import { fail } from "../reasons.js";
import { LIMITS } from "../limits.js";

function bounded(fn: typeof inflateSync, data: Uint8Array, cap: number): Uint8Array {
  try {
    return fn(data, { maxOutputLength: cap });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) fail("SIZE_LIMIT", "decompressed size");
    return fail("DECOMPRESS_FAILED");
  }
}

/** zlib stream (RFC 1950), as DCC and our pass use. */
export function inflateZlib(data: Uint8Array, cap: number = LIMITS.maxInflatedBytes): Uint8Array {
  return bounded(inflateSync, data, cap);
}

/** Raw DEFLATE (RFC 1951), as SHC `zip: "DEF"` uses. */
export function inflateRaw(data: Uint8Array, cap: number = LIMITS.maxInflatedBytes): Uint8Array {
  return bounded(inflateRawSync, data, cap);
}
