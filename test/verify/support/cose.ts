/** Hand-built COSE_Sign1 messages for header and claim edge cases (any headers, raw CBOR payloads). */
import { constants, sign, type KeyObject } from "node:crypto";
import { deflateSync } from "node:zlib";
import { Tag } from "cbor-x";
import { base45Encode } from "../../../src/verify/codec/base45.js";
import { sigStructure } from "../../../src/verify/codec/cose.js";
import { encodeCbor } from "../../../src/verify/pass/issue-pass.js";

export interface CoseOpts {
  /** A Map is encoded; bytes are used as they are (duplicate keys, odd encodings); an empty Map is a zero-length bstr. */
  prot?: Map<number, unknown> | Uint8Array;
  unprot?: Map<number, unknown>;
  payload: Uint8Array;
  key: KeyObject;
  alg?: "ES256" | "PS256";
  /** COSE tag (default 18); null: untagged; [61, 18]: a CWT tag around the COSE tag. */
  tag?: number | null | [number, number];
  compress?: boolean;
}

export function signCose(o: CoseOpts): Uint8Array {
  const prot = o.prot instanceof Uint8Array ? o.prot : (o.prot ?? new Map()).size === 0 ? new Uint8Array(0) : encodeCbor(o.prot!);
  const data = sigStructure(prot, o.payload);
  const sig = o.alg === "PS256"
    ? sign("sha256", data, { key: o.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    : sign("sha256", data, { key: o.key, dsaEncoding: "ieee-p1363" });
  const arr = [prot, o.unprot ?? new Map(), o.payload, sig];
  const tag = o.tag === undefined ? 18 : o.tag;
  const msg = encodeCbor(tag === null ? arr : Array.isArray(tag) ? new Tag(new Tag(arr, tag[1]), tag[0]) : new Tag(arr, tag));
  return o.compress === false ? msg : deflateSync(msg);
}

export const hc1 = (o: CoseOpts) => "HC1:" + base45Encode(signCose(o));
export const vn1 = (o: CoseOpts) => "VN1:" + base45Encode(signCose({ compress: false, ...o }));
