/** Raw signature checks with node:crypto; the key must fit the algorithm (curve, type). */
import { constants, verify, type KeyObject } from "node:crypto";
import { fail } from "../reasons.js";

export type SigAlg = "ES256" | "PS256";

/** Throws ALG_KEY_MISMATCH when the key cannot be used with `alg`; otherwise true/false. */
export function verifyWithAlg(alg: SigAlg, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  checkKeyFits(alg, key);
  try {
    if (alg === "ES256") {
      if (signature.length !== 64) return false;
      return verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, signature);
    }
    return verify("sha256", data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
  } catch {
    return false;
  }
}

export function checkKeyFits(alg: SigAlg, key: KeyObject): void {
  if (key.type !== "public") fail("ALG_KEY_MISMATCH", "not a public key");
  const t = key.asymmetricKeyType;
  if (alg === "ES256") {
    if (t !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") fail("ALG_KEY_MISMATCH", "ES256 needs a P-256 key");
  } else if (t !== "rsa" && t !== "rsa-pss") {
    fail("ALG_KEY_MISMATCH", "PS256 needs an RSA key");
  }
}
