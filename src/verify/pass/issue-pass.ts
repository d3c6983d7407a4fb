/** Signing side of the checkpoint pass (used by `pass issue`, the demo and tests). */
import { Encoder, Tag } from "cbor-x";
import { sign, type KeyObject } from "node:crypto";
import { deflateSync } from "node:zlib";
import { base45Encode } from "../codec/base45.js";
import { sigStructure } from "../codec/cose.js";
import { claimsFromMap, claimsToMap, HEALTH, PASS_PREFIX, PASS_VERSION, type PassClaims } from "./claims.js";

const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false, variableMapSize: true } as ConstructorParameters<typeof Encoder>[0]);

export function encodeCbor(v: unknown): Uint8Array {
  return encoder.encode(v);
}

/** Signs claims into QR text. Compression is used only when it makes the text shorter. */
export function issuePass(claims: PassClaims, kid: string, privateKey: KeyObject): string {
  const map = claimsToMap(claims);
  claimsFromMap(map); // refuse to sign what the verifier would reject
  const payload = encodeCbor(map);
  const prot = encodeCbor(new Map<number, unknown>([[1, -7], [4, Buffer.from(kid, "utf8")]]));
  const signature = sign("sha256", sigStructure(prot, payload), { key: privateKey, dsaEncoding: "ieee-p1363" });
  const cose = encodeCbor(new Tag([prot, new Map(), payload, signature], 18));
  const packed = deflateSync(cose, { level: 9 });
  return PASS_PREFIX + base45Encode(packed.length < cose.length ? packed : cose);
}

function toSeconds(v: unknown, what: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return Math.floor(ms / 1000);
  }
  throw new Error(`${what}: expected an ISO time or epoch seconds`);
}

/** The JSON an issuer writes (times as ISO strings or epoch seconds). Throws a plain Error naming the field. */
export function claimsFromJson(j: unknown): PassClaims {
  if (typeof j !== "object" || j === null) throw new Error("pass JSON must be an object");
  const o = j as Record<string, unknown>;
  const health = o.health;
  if (typeof health !== "string" || !(HEALTH as readonly string[]).includes(health)) throw new Error(`health: one of ${HEALTH.join(", ")}`);
  return {
    version: PASS_VERSION,
    passId: o.passId as string,
    subjectRef: o.subjectRef as string,
    origin: o.origin as string,
    destination: (Array.isArray(o.destination) ? o.destination : [o.destination]) as string[],
    declaredAt: toSeconds(o.declaredAt, "declaredAt"),
    health: health as PassClaims["health"],
    validFrom: toSeconds(o.validFrom, "validFrom"),
    validUntil: toSeconds(o.validUntil, "validUntil"),
    issuer: o.issuer as string,
  };
}
