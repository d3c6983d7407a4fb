/** Checkpoint pass: VN1: base45 -> zlib (only when it starts with 0x78) -> COSE_Sign1 ES256 -> claim map. */
import { base45Decode } from "../codec/base45.js";
import { inflateZlib } from "../codec/inflate.js";
import { parseCoseSign1, verifyCose } from "../codec/cose.js";
import { decodeCbor } from "../codec/cbor.js";
import { utf8Strict } from "../codec/json.js";
import { fail, labelled } from "../reasons.js";
import { firstVerifying, type FormatInput, type Verified } from "../verified.js";
import { claimsFromMap, PASS_PREFIX } from "./claims.js";

export function verifyPass({ text, trust }: FormatInput): Verified {
  let bytes = base45Decode(text.slice(PASS_PREFIX.length));
  if (bytes[0] === 0x78) bytes = inflateZlib(bytes);
  // Strict: the layout docs/checkpoint-pass.md fixes, none of the DCC leniencies.
  const cose = parseCoseSign1(bytes, ["ES256"], { strict: true });
  const kid = utf8Strict(cose.kid);
  const [key, c] = labelled(kid, undefined, () => {
    const candidates = trust.keysFor(kid, "pass");
    if (candidates.length === 0) fail("KEY_UNKNOWN");
    return [firstVerifying(candidates, (k) => verifyCose(cose, k.key)), claimsFromMap(decodeCbor(cose.payload))] as const;
  });
  // The key is trusted for one issuer; a pass naming another issuer is not vouched for.
  if (key.issuer !== c.issuer) labelled(kid, c.issuer, () => fail("ISSUER_UNTRUSTED"));
  return {
    format: "pass",
    kid,
    issuer: c.issuer,
    key,
    credentialId: c.passId,
    validFromMs: c.validFrom * 1000,
    validUntilMs: c.validUntil * 1000,
    facts: { origin: c.origin, destination: c.destination, declaredAt: c.declaredAt, health: c.health, validFrom: c.validFrom, validUntil: c.validUntil },
  };
}
