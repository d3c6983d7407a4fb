/**
 * Bounds for every parser. A QR code holds at most 4,296 alphanumeric characters (version 40, ECC L)
 * or 7,089 digits, so real credentials stay far below these; anything bigger is refused before work.
 */
export const LIMITS = {
  /** Longest QR text accepted at all (numeric shc:/ payloads are the longest per byte). */
  maxTextChars: 8_192,
  /** Assembled chunked SHC text (the spec allows a few chunks). */
  maxShcAssembledChars: 32_768,
  /** Decompressed CWT / JWS payload. Real DCCs are < 2 KB, the largest spec SHC example ~30 KB. */
  maxInflatedBytes: 64 * 1024,
  /** CBOR: nesting depth and total number of data items, checked before cbor-x runs. */
  maxCborDepth: 16,
  maxCborItems: 4_096,
  /** Largest single CBOR byte/text string or array/map length. */
  maxCborLength: 64 * 1024,
  /** JSON (SHC header/payload) text size and nesting depth, checked before and after JSON.parse. */
  maxJsonChars: 64 * 1024,
  maxJsonDepth: 32,
  /** Chunked SHC. */
  maxShcChunks: 8,
} as const;
