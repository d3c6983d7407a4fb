/** RFC 9285 base45, strict: any character outside the alphabet or any out-of-range group is an error. */
import { fail } from "../reasons.js";

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

function val(text: string, i: number): number {
  const c = text.charCodeAt(i);
  const v = c < 128 ? VALUE[c]! : -1;
  if (v < 0) fail("BASE45_INVALID", "character outside the alphabet");
  return v;
}

export function base45Decode(text: string): Uint8Array {
  if (text.length % 3 === 1) fail("BASE45_INVALID", "length");
  const out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 === 2 ? 1 : 0));
  let o = 0;
  let i = 0;
  for (; i + 3 <= text.length; i += 3) {
    const n = val(text, i) + val(text, i + 1) * 45 + val(text, i + 2) * 2025;
    if (n > 0xffff) fail("BASE45_INVALID", "group out of range");
    out[o++] = n >> 8;
    out[o++] = n & 0xff;
  }
  if (i < text.length) {
    const n = val(text, i) + val(text, i + 1) * 45;
    if (n > 0xff) fail("BASE45_INVALID", "group out of range");
    out[o++] = n;
  }
  return out;
}

export function base45Encode(bytes: Uint8Array): string {
  let s = "";
  let i = 0;
  for (; i + 2 <= bytes.length; i += 2) {
    let n = bytes[i]! * 256 + bytes[i + 1]!;
    const c = n % 45;
    n = (n - c) / 45;
    const d = n % 45;
    const e = (n - d) / 45;
    s += ALPHABET[c]! + ALPHABET[d]! + ALPHABET[e]!;
  }
  if (i < bytes.length) {
    const n = bytes[i]!;
    s += ALPHABET[n % 45]! + ALPHABET[Math.floor(n / 45)]!;
  }
  return s;
}
