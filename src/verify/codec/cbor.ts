/**
 * Bounded CBOR decoding. A well-formedness walk checks nesting depth, item count, string and
 * container lengths and trailing bytes BEFORE cbor-x allocates anything, so hostile input cannot
 * make the decoder build huge or deep structures. Only then does cbor-x decode, with its record
 * and structured-clone extensions off.
 */
import { Decoder } from "cbor-x";
import { fail } from "../reasons.js";
import { LIMITS } from "../limits.js";

export interface CborLimits {
  maxDepth: number;
  maxItems: number;
  maxLength: number;
}

const DEFAULT: CborLimits = { maxDepth: LIMITS.maxCborDepth, maxItems: LIMITS.maxCborItems, maxLength: LIMITS.maxCborLength };
const BREAK = -1;
/**
 * Tags a credential may carry: 18 COSE_Sign1, 61 CWT, 0/1 date-time, 1004/100 dates. Everything else
 * is refused before cbor-x sees it: its extension tags build objects (2/3 BigInt is quadratic in
 * the string length, 27 calls constructors, 28/29 shared references, 51 packed tables, 258/259 sets).
 */
const ALLOWED_TAGS = new Set([0, 1, 18, 61, 100, 1004]);

class Walker {
  pos = 0;
  items = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly lim: CborLimits,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.b.length) fail("STRUCTURE_INVALID", "CBOR truncated");
  }

  /** Reads the argument of a head; returns -2 for indefinite length. */
  private arg(info: number): number {
    if (info < 24) return info;
    const b = this.b;
    switch (info) {
      case 24: this.need(1); return b[this.pos++]!;
      case 25: this.need(2); this.pos += 2; return (b[this.pos - 2]! << 8) | b[this.pos - 1]!;
      case 26: {
        this.need(4);
        const p = this.pos;
        this.pos += 4;
        return ((b[p]! << 24) >>> 0) + (b[p + 1]! << 16) + (b[p + 2]! << 8) + b[p + 3]!;
      }
      case 27: {
        this.need(8);
        const p = this.pos;
        this.pos += 8;
        const hi = ((b[p]! << 24) >>> 0) + (b[p + 1]! << 16) + (b[p + 2]! << 8) + b[p + 3]!;
        const lo = ((b[p + 4]! << 24) >>> 0) + (b[p + 5]! << 16) + (b[p + 6]! << 8) + b[p + 7]!;
        // Values above 2^53 are only legal as integers/tags here; lengths that big fail below anyway.
        return hi * 0x1_0000_0000 + lo;
      }
      case 31: return -2;
      default: return fail("STRUCTURE_INVALID", "CBOR reserved additional info");
    }
  }

  private length(n: number): number {
    if (n > this.lim.maxLength) fail("SIZE_LIMIT", "CBOR length");
    return n;
  }

  private uniqueKey(keys: KeySeen, start: number): void {
    keys.add(keyValue(this.b, start, this.pos));
  }

  /** Walks one data item; returns BREAK when it read a break code (only legal inside indefinite items). */
  item(depth: number): number {
    if (depth > this.lim.maxDepth) fail("SIZE_LIMIT", "CBOR nesting");
    if (++this.items > this.lim.maxItems) fail("SIZE_LIMIT", "CBOR item count");
    this.need(1);
    const head = this.b[this.pos++]!;
    const major = head >> 5;
    const info = head & 0x1f;
    if (head === 0xff) return BREAK;
    const n = this.arg(info);
    switch (major) {
      case 0:
      case 1:
        if (n === -2) fail("STRUCTURE_INVALID", "CBOR indefinite integer");
        return 0;
      case 2:
      case 3:
        if (n === -2) {
          // Indefinite strings are chunks of definite strings of the same major type.
          for (;;) {
            this.need(1);
            if (this.b[this.pos] === 0xff) { this.pos++; return 0; }
            if (this.b[this.pos]! >> 5 !== major || (this.b[this.pos]! & 0x1f) === 31) fail("STRUCTURE_INVALID", "CBOR string chunk");
            this.item(depth + 1);
          }
        }
        this.need(this.length(n));
        this.pos += n;
        return 0;
      case 4:
      case 5: {
        const per = major === 5 ? 2 : 1;
        // Map keys seen, by the value cbor-x would key its Map with: it keeps the last of two equal
        // keys, another verifier may keep the first, so a map with a duplicate key is refused.
        const keys = per === 2 ? new KeySeen() : undefined;
        if (n === -2) {
          for (let k = 0; ; k++) {
            const start = this.pos;
            if (this.item(depth + 1) === BREAK) {
              if (per === 2 && k % 2 === 1) fail("STRUCTURE_INVALID", "CBOR map odd");
              return 0;
            }
            if (keys && k % 2 === 0) this.uniqueKey(keys, start);
          }
        }
        const count = this.length(n) * per;
        // Each item takes at least one byte: a cheap early refusal of absurd counts.
        if (count > this.b.length - this.pos) fail("STRUCTURE_INVALID", "CBOR container longer than input");
        for (let k = 0; k < count; k++) {
          const start = this.pos;
          if (this.item(depth + 1) === BREAK) fail("STRUCTURE_INVALID", "CBOR unexpected break");
          if (keys && k % 2 === 0) this.uniqueKey(keys, start);
        }
        return 0;
      }
      case 6:
        if (n === -2) fail("STRUCTURE_INVALID", "CBOR indefinite tag");
        if (!ALLOWED_TAGS.has(n)) fail("STRUCTURE_INVALID", "CBOR tag not allowed");
        if (this.item(depth + 1) === BREAK) fail("STRUCTURE_INVALID", "CBOR unexpected break");
        return 0;
      default: // 7: simple values and floats
        if (n === -2) fail("STRUCTURE_INVALID", "CBOR stray break");
        return 0;
    }
  }
}

/** Fatal: a text key that is not UTF-8 has no one decoded value to compare; ignoreBOM keeps a BOM in. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** A key cbor-x decodes to a fresh object (byte string, array, map, tag): never equal to another. */
const DISTINCT = Symbol("distinct");
const SIMPLE: readonly unknown[] = [false, true, null, undefined];

/**
 * The JS value cbor-x gives the well-formed key at `start..end`, for the keys it decodes to
 * primitives, which its Map then compares with SameValueZero: integers (BigInt past 2^53) and
 * floats as numbers (so 1, 0x18 0x01 and 1.0 are one key), text by its characters (chunked or
 * not), false / true / null / undefined.
 */
function keyValue(b: Uint8Array, start: number, end: number): unknown {
  const head = b[start]!;
  const major = head >> 5;
  const info = head & 0x1f;
  if (major === 0 || major === 1) {
    const v = uint(b, start + 1, info);
    if (major === 0) return v;
    return typeof v === "bigint" ? -1n - v : -1 - v;
  }
  if (major === 3) {
    if (info !== 31) return text(b, start + 1 + argBytes(info), end);
    let out = "";
    for (let p = start + 1; b[p] !== 0xff; ) {
      const ci = b[p]! & 0x1f;
      const from = p + 1 + argBytes(ci);
      const to = from + Number(uint(b, p + 1, ci));
      out += text(b, from, to);
      p = to;
    }
    return out;
  }
  if (major === 7) {
    if (info >= 20 && info <= 23) return SIMPLE[info - 20];
    if (info === 25) return half((b[start + 1]! << 8) | b[start + 2]!);
    if (info === 26 || info === 27) {
      const dv = new DataView(b.buffer, b.byteOffset + start + 1, end - start - 1);
      return info === 26 ? dv.getFloat32(0) : dv.getFloat64(0);
    }
  }
  // Other simple values fail in cbor-x anyway (STRUCTURE_INVALID there).
  return DISTINCT;
}

function argBytes(info: number): number {
  return info < 24 ? 0 : 1 << (info - 24);
}

/** The argument of a head (its additional info `info`), exact: a BigInt past 2^53, as cbor-x. */
function uint(b: Uint8Array, p: number, info: number): number | bigint {
  if (info < 24) return info;
  if (info === 24) return b[p]!;
  if (info === 25) return (b[p]! << 8) | b[p + 1]!;
  if (info === 26) return ((b[p]! << 24) >>> 0) + (b[p + 1]! << 16) + (b[p + 2]! << 8) + b[p + 3]!;
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(b[p + i]!);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function text(b: Uint8Array, from: number, to: number): string {
  // Map keys are short and nearly always ASCII: no decoder call for them.
  if (to - from <= 32) {
    let out = "";
    for (let i = from; i < to; i++) {
      const c = b[i]!;
      if (c >= 0x80) return utf8Text(b, from, to);
      out += String.fromCharCode(c);
    }
    return out;
  }
  return utf8Text(b, from, to);
}

function utf8Text(b: Uint8Array, from: number, to: number): string {
  try {
    return utf8.decode(b.subarray(from, to));
  } catch {
    return fail("STRUCTURE_INVALID", "CBOR map key is not UTF-8");
  }
}

function half(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (mant + 1024) * 2 ** (exp - 25);
}

/**
 * Keys seen in one map. A few keys (every credential map): an array scan, Array.includes being
 * SameValueZero like cbor-x's Map; past 16 a Set (same semantics), so a hostile 2,000-key map
 * costs no quadratic scan.
 */
class KeySeen {
  private few: unknown[] = [];
  private many?: Set<unknown>;

  add(v: unknown): void {
    if (v === DISTINCT) return;
    if (this.many) {
      if (this.many.has(v)) fail("STRUCTURE_INVALID", "CBOR map has a duplicate key");
      this.many.add(v);
      return;
    }
    if (this.few.includes(v)) fail("STRUCTURE_INVALID", "CBOR map has a duplicate key");
    this.few.push(v);
    if (this.few.length > 16) this.many = new Set(this.few);
  }
}

/** Throws STRUCTURE_INVALID / SIZE_LIMIT unless `bytes` is exactly one well-formed, bounded CBOR item. */
export function checkCbor(bytes: Uint8Array, limits: CborLimits = DEFAULT): void {
  const w = new Walker(bytes, limits);
  if (w.item(0) === BREAK) fail("STRUCTURE_INVALID", "CBOR stray break");
  if (w.pos !== bytes.length) fail("STRUCTURE_INVALID", "CBOR trailing bytes");
}

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false, structuredClone: false, bundleStrings: false } as ConstructorParameters<typeof Decoder>[0]);

/** Bounded decode: maps come back as `Map` (COSE and CWT use integer keys). */
export function decodeCbor(bytes: Uint8Array, limits: CborLimits = DEFAULT): unknown {
  checkCbor(bytes, limits);
  try {
    return decoder.decode(bytes);
  } catch {
    return fail("STRUCTURE_INVALID", "CBOR decode");
  }
}
