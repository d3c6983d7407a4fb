import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";

/**
 * Deny list of credential-id hashes: 16-byte (128-bit) truncated SHA-256 digests, the same
 * truncation the EU DCC revocation lists use. A million entries as a JS Set of hex strings costs
 * ~100 MB and seconds of GC; here they sit in one Uint32Array sorted by bucket, plus a bucket
 * directory indexed by the top bits of the hash. SHA-256 output is uniform, so buckets hold ~1
 * entry each and a lookup is O(1): one directory read and a compare of a few words.
 */
export const ID_HASH_BYTES = 16;
const WORDS = ID_HASH_BYTES / 4;
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) HEX[97 + c] = HEX[65 + c] = 10 + c;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;


/** The credential-id hash: the first 16 bytes of SHA-256 over the UTF-8 id, exactly as carried. */
export function credentialIdHash(id: string): Buffer {
  return createHash("sha256").update(id, "utf8").digest().subarray(0, ID_HASH_BYTES);
}

export function credentialIdHashHex(id: string): string {
  return credentialIdHash(id).toString("hex");
}

export class RevocationIndexError extends Error {}

function bucketBitsFor(n: number): number {
  let b = 4;
  while (b < 24 && 1 << b < n) b++;
  return b;
}

export class RevocationIndex {
  private constructor(
    /** WORDS words per entry, grouped by bucket, each bucket sorted and deduplicated. */
    private readonly keys: Uint32Array,
    /** Entries of bucket i are [dir[i], dir[i+1]) (in entries, not words). */
    private readonly dir: Uint32Array,
    private readonly bits: number,
  ) {}

  static readonly empty = RevocationIndex.fromWords(new Uint32Array(0));

  get size(): number {
    return this.keys.length / WORDS;
  }

  /** Bytes held by the typed arrays (what the structure costs, apart from a few object headers). */
  get byteLength(): number {
    return this.keys.byteLength + this.dir.byteLength;
  }

  /** Builds from raw words (WORDS big-endian words per hash); duplicates are dropped. */
  static fromWords(raw: Uint32Array): RevocationIndex {
    if (raw.length % WORDS !== 0) throw new RevocationIndexError("hash buffer length is not a multiple of 16 bytes");
    const n = raw.length / WORDS;
    const bits = bucketBitsFor(n);
    const shift = 32 - bits;
    const buckets = 1 << bits;
    const counts = new Uint32Array(buckets + 1);
    for (let i = 0; i < n; i++) counts[(raw[i * WORDS]! >>> shift) + 1]!++;
    for (let i = 1; i <= buckets; i++) counts[i]! += counts[i - 1]!;
    const fill = counts.slice(0, buckets);
    const scattered = new Uint32Array(raw.length);
    for (let i = 0; i < n; i++) {
      const b = raw[i * WORDS]! >>> shift;
      const at = fill[b]!++ * WORDS;
      for (let w = 0; w < WORDS; w++) scattered[at + w] = raw[i * WORDS + w]!;
    }
    // Sort and dedupe inside each bucket (insertion sort: buckets hold ~1 entry), compacting as we go.
    const dir = new Uint32Array(buckets + 1);
    const tmp = new Uint32Array(WORDS);
    let out = 0;
    for (let b = 0; b < buckets; b++) {
      dir[b] = out;
      const start = out;
      const from = counts[b]!;
      const to = counts[b + 1]!;
      if (to - from === 1) {
        // The common case with uniform hashes: one entry, nothing to sort.
        const s0 = from * WORDS;
        const d0 = out * WORDS;
        scattered[d0] = scattered[s0]!;
        scattered[d0 + 1] = scattered[s0 + 1]!;
        scattered[d0 + 2] = scattered[s0 + 2]!;
        scattered[d0 + 3] = scattered[s0 + 3]!;
        out++;
        continue;
      }
      for (let e = from; e < to; e++) {
        // Copied out first: shifting the sorted prefix may overwrite slot e when nothing was dropped yet.
        for (let w = 0; w < WORDS; w++) tmp[w] = scattered[e * WORDS + w]!;
        let pos = out;
        while (pos > start && cmp(scattered, (pos - 1) * WORDS, tmp, 0) > 0) pos--;
        if (pos > start && cmp(scattered, (pos - 1) * WORDS, tmp, 0) === 0) continue;
        scattered.copyWithin((pos + 1) * WORDS, pos * WORDS, out * WORDS);
        scattered.set(tmp, pos * WORDS);
        out++;
      }
    }
    dir[buckets] = out;
    const keys = out * WORDS === scattered.length ? scattered : scattered.slice(0, out * WORDS);
    return new RevocationIndex(keys, dir, bits);
  }

  /** From 16-byte hashes concatenated (the binary persistence format). */
  static fromBytes(bytes: Uint8Array): RevocationIndex {
    if (bytes.length % ID_HASH_BYTES !== 0) throw new RevocationIndexError("hash buffer length is not a multiple of 16 bytes");
    // Native copy + byte swap (big-endian records to host words) instead of a DataView call per word.
    const buf = Buffer.allocUnsafeSlow(bytes.length);
    buf.set(bytes);
    if (LITTLE_ENDIAN) buf.swap32();
    return RevocationIndex.fromWords(new Uint32Array(buf.buffer, buf.byteOffset, bytes.length / 4));
  }

  /** From hex strings (32 hex digits each, case-insensitive). Throws on a malformed entry. */
  static fromHex(hexes: Iterable<string>): RevocationIndex {
    const list = Array.isArray(hexes) ? (hexes as string[]) : [...hexes];
    const words = new Uint32Array(list.length * WORDS);
    list.forEach((h, i) => {
      if (!parseHexInto(h, words, i * WORDS)) throw new RevocationIndexError(`revocation entry ${i} is not ${ID_HASH_BYTES * 2} hex digits`);
    });
    return RevocationIndex.fromWords(words);
  }

  /**
   * Parses a deny-list text body without making a string per line: one hash per line, `#` comments
   * and blank lines ignored, CRLF accepted. Returns the bad line numbers rather than throwing
   * so one corrupt line is reported, not fatal for a million good ones (the caller decides).
   */
  static fromText(body: Uint8Array): { index: RevocationIndex; badLines: number[] } {
    const words = new Uint32Array(Math.ceil(body.length / (ID_HASH_BYTES * 2 + 1) + 1) * WORDS);
    const badLines: number[] = [];
    let n = 0;
    let line = 0;
    let i = 0;
    while (i < body.length) {
      line++;
      let end = body.indexOf(10, i);
      if (end < 0) end = body.length;
      let s = i;
      let e = end;
      while (s < e && isSpace(body[s]!)) s++;
      while (e > s && isSpace(body[e - 1]!)) e--;
      if (e > s && body[s] !== 35 /* # */) {
        if (e - s !== ID_HASH_BYTES * 2 || !parseHexBytesInto(body, s, words, n * WORDS)) badLines.push(line);
        else n++;
      }
      i = end + 1;
    }
    return { index: RevocationIndex.fromWords(words.subarray(0, n * WORDS)), badLines };
  }

  /** The hashes as 16-byte records, sorted by bucket (stable for a given content). */
  toBytes(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.keys.byteLength);
    out.set(new Uint8Array(this.keys.buffer, this.keys.byteOffset, this.keys.byteLength));
    if (LITTLE_ENDIAN) out.swap32();
    return out;
  }

  /** Looks up a 16-byte hash (longer input: only the first 16 bytes count). */
  has(hash: Uint8Array): boolean {
    if (hash.length < ID_HASH_BYTES) return false;
    const w0 = ((hash[0]! << 24) | (hash[1]! << 16) | (hash[2]! << 8) | hash[3]!) >>> 0;
    const w1 = ((hash[4]! << 24) | (hash[5]! << 16) | (hash[6]! << 8) | hash[7]!) >>> 0;
    const w2 = ((hash[8]! << 24) | (hash[9]! << 16) | (hash[10]! << 8) | hash[11]!) >>> 0;
    const w3 = ((hash[12]! << 24) | (hash[13]! << 16) | (hash[14]! << 8) | hash[15]!) >>> 0;
    const b = w0 >>> (32 - this.bits);
    const keys = this.keys;
    for (let e = this.dir[b]!, end = this.dir[b + 1]!; e < end; e++) {
      const k = e * WORDS;
      if (keys[k] === w0 && keys[k + 1] === w1 && keys[k + 2] === w2 && keys[k + 3] === w3) return true;
    }
    return false;
  }

  hasHex(hex: string): boolean {
    const buf = Buffer.from(hex, "hex");
    return buf.length === ID_HASH_BYTES && this.has(buf);
  }
}

function cmp(a: Uint32Array, ai: number, b: Uint32Array, bi: number): number {
  for (let w = 0; w < WORDS; w++) {
    const d = a[ai + w]! - b[bi + w]!;
    if (d !== 0) return d;
  }
  return 0;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13;
}

function hexVal(c: number): number {
  return c < 256 ? HEX[c]! : -1;
}

function parseHexBytesInto(src: Uint8Array, at: number, out: Uint32Array, o: number): boolean {
  for (let w = 0; w < WORDS; w++) {
    let v = 0;
    for (let j = 0; j < 8; j++) {
      const d = hexVal(src[at + w * 8 + j]!);
      if (d < 0) return false;
      v = (v << 4) | d;
    }
    out[o + w] = v >>> 0;
  }
  return true;
}

function parseHexInto(h: string, out: Uint32Array, o: number): boolean {
  if (typeof h !== "string" || h.length !== ID_HASH_BYTES * 2) return false;
  for (let w = 0; w < WORDS; w++) {
    let v = 0;
    for (let j = 0; j < 8; j++) {
      const d = hexVal(h.charCodeAt(w * 8 + j));
      if (d < 0) return false;
      v = (v << 4) | d;
    }
    out[o + w] = v >>> 0;
  }
  return true;
}
