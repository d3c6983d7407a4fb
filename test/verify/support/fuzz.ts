/** Deterministic input generators for the verifier fuzz test (seeded, no I/O). */
import { sign, type KeyObject } from "node:crypto";
import { deflateRawSync, deflateSync } from "node:zlib";
import { Tag } from "cbor-x";
import { base45Encode } from "../../../src/verify/codec/base45.js";
import { sigStructure } from "../../../src/verify/codec/cose.js";
import { encodeCbor } from "../../../src/verify/pass/issue-pass.js";
import { jwsToNumeric } from "../../../src/verify/shc/numeric.js";

export { rng } from "../../../scripts/frames-render.js";

export type Rand = () => number;
export const int = (r: Rand, n: number) => Math.floor(r() * n);

/** Interesting CBOR heads: huge lengths, indefinite items, tags, breaks, floats. */
const CBOR_SPICE = [0x9b, 0x9a, 0xbb, 0x5b, 0x7b, 0x9f, 0xbf, 0x5f, 0x7f, 0xff, 0xd2, 0xd8, 0xc0, 0xc1, 0xf9, 0xfb, 0x1f, 0x3f, 0x18, 0x19, 0x1a, 0x1b];

export function mutateBytes(r: Rand, src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  const n = 1 + int(r, 4);
  for (let k = 0; k < n; k++) {
    const op = int(r, 7);
    const i = b.length ? int(r, b.length) : 0;
    if (op === 0 && b.length) b[i] = b[i]! ^ (1 << int(r, 8));
    else if (op === 1 && b.length) b[i] = int(r, 256);
    else if (op === 2) b.splice(i, 0, CBOR_SPICE[int(r, CBOR_SPICE.length)]!);
    else if (op === 3) b.splice(i, 1 + int(r, 8));
    else if (op === 4) b.length = Math.max(0, i);
    else if (op === 5 && b.length) b.splice(i, 0, ...b.slice(int(r, b.length), int(r, b.length) + 16));
    else b.splice(i, 0, ...Array.from({ length: 1 + int(r, 8) }, () => int(r, 256)));
  }
  return Uint8Array.from(b);
}

export function mutateText(r: Rand, s: string, alphabet: string): string {
  let t = s;
  const n = 1 + int(r, 4);
  for (let k = 0; k < n; k++) {
    const i = int(r, t.length + 1);
    const c = alphabet[int(r, alphabet.length)]!;
    const op = int(r, 4);
    if (op === 0) t = t.slice(0, i) + c + t.slice(i + 1);
    else if (op === 1) t = t.slice(0, i) + c + t.slice(i);
    else if (op === 2) t = t.slice(0, i) + t.slice(i + 1 + int(r, 10));
    else t = t.slice(0, i);
  }
  return t;
}

export function randomText(r: Rand, prefix: string, alphabet: string, maxLen = 700): string {
  let s = prefix;
  const n = int(r, maxLen);
  for (let i = 0; i < n; i++) s += alphabet[int(r, alphabet.length)]!;
  return s;
}

export const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
export const DIGITS = "0123456789";

/** COSE_Sign1 ES256 over arbitrary payload bytes, base45(zlib or raw). */
export function signedCoseText(prefix: string, payload: Uint8Array, kid: Uint8Array, key: KeyObject, compress: boolean): string {
  const prot = encodeCbor(new Map<number, unknown>([[1, -7], [4, kid]]));
  const sig = sign("sha256", sigStructure(prot, payload), { key, dsaEncoding: "ieee-p1363" });
  const cose = encodeCbor(new Tag([prot, new Map(), payload, sig], 18));
  return prefix + base45Encode(compress ? deflateSync(cose) : cose);
}

/** An SHC JWS over arbitrary payload text (raw DEFLATE), signed: reaches the claim checks. */
export function signedShcText(header: string, payloadJson: string, key: KeyObject): string {
  const input = `${Buffer.from(header).toString("base64url")}.${deflateRawSync(Buffer.from(payloadJson)).toString("base64url")}`;
  const sig = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  return "shc:/" + jwsToNumeric(`${input}.${sig.toString("base64url")}`);
}
