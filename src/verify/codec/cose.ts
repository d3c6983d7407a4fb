/**
 * COSE_Sign1 (RFC 9052) parsing and verification for DCC and our pass: tagged (18) or untagged,
 * kid from the protected header first, then the unprotected one (DCC rule), ES256 or PS256.
 */
import { Tag } from "cbor-x";
import type { KeyObject } from "node:crypto";
import { decodeCbor } from "./cbor.js";
import { fail } from "../reasons.js";
import { verifyWithAlg, type SigAlg } from "./signature.js";

export interface CoseSign1 {
  protectedBytes: Uint8Array;
  alg: SigAlg;
  kid: Uint8Array;
  payload: Uint8Array;
  signature: Uint8Array;
}

const HDR_ALG = 1;
const HDR_KID = 4;
const ALGS = new Map<number, SigAlg>([
  [-7, "ES256"],
  [-37, "PS256"],
]);

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function headerMap(v: unknown): Map<unknown, unknown> {
  if (!(v instanceof Map)) fail("STRUCTURE_INVALID", "COSE header is not a map");
  return v;
}

/** Parses the COSE_Sign1 structure; `allowedAlgs` limits what the format accepts. */
export function parseCoseSign1(bytes: Uint8Array, allowedAlgs: readonly SigAlg[]): CoseSign1 {
  let msg = decodeCbor(bytes);
  // A CWT tag (61) around the COSE tag is allowed by RFC 8392 (DCC test CO28).
  if (msg instanceof Tag && msg.tag === 61) msg = msg.value;
  if (msg instanceof Tag) {
    if (msg.tag !== 18) fail("STRUCTURE_INVALID", "COSE tag is not COSE_Sign1");
    msg = msg.value;
  }
  if (!Array.isArray(msg) || msg.length !== 4) fail("STRUCTURE_INVALID", "COSE_Sign1 is not a 4-array");
  const [prot, unprot, payload, signature] = msg as unknown[];
  if (!isBytes(prot) || !isBytes(payload) || !isBytes(signature)) fail("STRUCTURE_INVALID", "COSE_Sign1 members");
  const protMap = prot.length === 0 ? new Map() : headerMap(decodeCbor(prot));
  const unprotMap = headerMap(unprot);

  let kid = protMap.get(HDR_KID);
  if (kid === undefined) kid = unprotMap.get(HDR_KID);
  if (kid === undefined) fail("KID_MISSING");
  if (!isBytes(kid) || kid.length === 0 || kid.length > 64) fail("KID_MISSING", "kid is not a byte string");

  // Protected alg first. Some issuers put it only in the unprotected header (DCC test CO20 expects
  // that to verify); that is safe here because only ES256 and PS256 are accepted and each needs its
  // own key type (checkKeyFits), so swapping the unprotected alg cannot downgrade anything.
  let algId = protMap.get(HDR_ALG);
  if (algId === undefined) algId = unprotMap.get(HDR_ALG);
  if (algId === undefined) fail("ALG_UNSUPPORTED", "no alg");
  const alg = typeof algId === "number" ? ALGS.get(algId) : undefined;
  if (!alg || !allowedAlgs.includes(alg)) fail("ALG_UNSUPPORTED");
  return { protectedBytes: prot, alg, kid, payload, signature };
}

function head(major: number, n: number): number[] {
  if (n < 24) return [(major << 5) | n];
  if (n < 0x100) return [(major << 5) | 24, n];
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
  return [(major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** Sig_structure = ["Signature1", protected, external_aad = h'', payload], encoded by hand (canonical). */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  const ctx = new TextEncoder().encode("Signature1");
  const parts = [
    Uint8Array.from([0x84, ...head(3, ctx.length)]), ctx,
    Uint8Array.from(head(2, protectedBytes.length)), protectedBytes,
    Uint8Array.from([0x40]),
    Uint8Array.from(head(2, payload.length)), payload,
  ];
  return Buffer.concat(parts);
}

export function verifyCose(msg: CoseSign1, key: KeyObject): boolean {
  return verifyWithAlg(msg.alg, key, sigStructure(msg.protectedBytes, msg.payload), msg.signature);
}
