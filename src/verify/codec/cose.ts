/**
 * COSE_Sign1 (RFC 9052) parsing and verification for DCC and our pass: tagged (18) or untagged,
 * kid from the protected header first, then the unprotected one (DCC rule; not for the pass, see
 * `strict`), ES256 or PS256. A label in both headers, and crit, are refused.
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
const HDR_CRIT = 2;
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

export interface CoseParseOptions {
  /**
   * Our own format (docs/checkpoint-pass.md): alg and kid in the protected header only, an empty
   * unprotected header, tag 18 or none. The DCC leniencies (kid or alg unprotected, an empty
   * protected header, a CWT tag 61 wrapper) exist for other issuers' credentials; a pass needs none.
   */
  strict?: boolean;
}

/** Parses the COSE_Sign1 structure; `allowedAlgs` limits what the format accepts. */
export function parseCoseSign1(bytes: Uint8Array, allowedAlgs: readonly SigAlg[], opts: CoseParseOptions = {}): CoseSign1 {
  const strict = opts.strict === true;
  let msg = decodeCbor(bytes);
  // A CWT tag (61) around the COSE tag is allowed by RFC 8392 (DCC test CO28).
  if (!strict && msg instanceof Tag && msg.tag === 61) msg = msg.value;
  if (msg instanceof Tag) {
    if (msg.tag !== 18) fail("STRUCTURE_INVALID", "COSE tag is not COSE_Sign1");
    msg = msg.value;
  }
  if (!Array.isArray(msg) || msg.length !== 4) fail("STRUCTURE_INVALID", "COSE_Sign1 is not a 4-array");
  const [prot, unprot, payload, signature] = msg as unknown[];
  if (!isBytes(prot) || !isBytes(payload) || !isBytes(signature)) fail("STRUCTURE_INVALID", "COSE_Sign1 members");
  if (strict && prot.length === 0) fail("STRUCTURE_INVALID", "protected header is empty");
  const protMap = prot.length === 0 ? new Map() : headerMap(decodeCbor(prot));
  const unprotMap = headerMap(unprot);
  if (strict && unprotMap.size > 0) fail("STRUCTURE_INVALID", "unprotected header is not empty");
  // RFC 9052 3: a label in both buckets is an error (an unsigned alg contradicting the signed one
  // reads two ways). Except kid: the DCC rules say the protected kid takes precedence, and the EU
  // test data expects a DCC with a correct protected kid and a wrong unprotected one to verify
  // (common CO21; CO22, the reverse, to fail). The unprotected kid is then never read.
  for (const label of unprotMap.keys()) if (protMap.has(label) && label !== HDR_KID) fail("STRUCTURE_INVALID", "header label in both buckets");
  // crit (2) names headers the signer requires a verifier to understand; this verifier
  // understands none beyond alg and kid, so it refuses rather than ignore them (as for SHC).
  if (protMap.has(HDR_CRIT) || unprotMap.has(HDR_CRIT)) fail("STRUCTURE_INVALID", "crit not supported");

  let kid = protMap.get(HDR_KID);
  if (kid === undefined && !strict) kid = unprotMap.get(HDR_KID);
  if (kid === undefined) fail("KID_MISSING");
  if (!isBytes(kid) || kid.length === 0 || kid.length > 64) fail("KID_MISSING", "kid is not a byte string");

  // Protected alg first. Some issuers put it only in the unprotected header (DCC test CO20 expects
  // that to verify); that is safe here because only ES256 and PS256 are accepted and each needs its
  // own key type (checkKeyFits), so swapping the unprotected alg cannot downgrade anything.
  let algId = protMap.get(HDR_ALG);
  if (algId === undefined && !strict) algId = unprotMap.get(HDR_ALG);
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
