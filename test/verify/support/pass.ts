/** Keys, claims and trust for checkpoint pass tests. */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { passKey, type PassClaims } from "../../../src/verify/index.js";
import { MemoryTrust } from "../../../src/verify/testing/memory-trust.js";

export const NOW = Date.parse("2026-03-10T08:00:00Z");
const s = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export function typicalPass(over: Partial<PassClaims> = {}): PassClaims {
  return {
    version: 1,
    passId: "P26-0000123456",
    // 128-bit opaque reference (base64url): the registry maps it to a person, the pass never does.
    subjectRef: "q3N0Zk1xV2JvYXJkX0E4Yg",
    origin: "VN-HN",
    destination: ["VN-SG", "VN-DN"],
    declaredAt: s("2026-03-09T20:15:00Z"),
    health: "cleared",
    validFrom: s("2026-03-09T20:15:00Z"),
    validUntil: s("2026-03-16T20:15:00Z"),
    issuer: "VN-MOH",
    ...over,
  };
}

export interface PassKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

export function makeKey(kid: string): PassKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { kid, privateKey, publicJwk: { ...publicKey.export({ format: "jwk" }), kid } };
}

export function passTrust(keys: Array<{ key: PassKey; issuer: string }>): MemoryTrust {
  return new MemoryTrust(keys.map(({ key, issuer }) => passKey(key.publicJwk as never, issuer, "test", key.kid)));
}
