/** How a verdict is compared with a DCC vector's EXPECTED flags (shared by the in-process and CLI tests). */
import { createVerifier, dccKeyFromCertificate, parseCertificate } from "../../../src/verify/index.js";
import { MemoryTrust } from "../../../src/verify/testing/memory-trust.js";
import type { DccVector } from "./dcc-vectors.js";

/** Which EXPECTED flag(s) a reason code answers. */
const STAGE: Record<string, string[]> = {
  PREFIX_UNKNOWN: ["EXPECTEDUNPREFIX"],
  BASE45_INVALID: ["EXPECTEDB45DECODE"],
  DECOMPRESS_FAILED: ["EXPECTEDCOMPRESSION"],
  SIZE_LIMIT: ["EXPECTEDCOMPRESSION", "EXPECTEDDECODE"],
  STRUCTURE_INVALID: ["EXPECTEDDECODE", "EXPECTEDSCHEMAVALIDATION"],
  KID_MISSING: ["EXPECTEDVERIFY"],
  KEY_UNKNOWN: ["EXPECTEDVERIFY"],
  ALG_UNSUPPORTED: ["EXPECTEDVERIFY"],
  ALG_KEY_MISMATCH: ["EXPECTEDVERIFY"],
  SIGNATURE_INVALID: ["EXPECTEDVERIFY"],
  KEY_USAGE_MISMATCH: ["EXPECTEDKEYUSAGE"],
  NOT_YET_VALID: ["EXPECTEDEXPIRATIONCHECK"],
  EXPIRED: ["EXPECTEDEXPIRATIONCHECK"],
  KEY_EXPIRED: ["EXPECTEDEXPIRATIONCHECK"],
};
const CHECKED = [...new Set(Object.values(STAGE).flat())];

/** Knowing disagreements (docs/verify.md explains each). */
export const DCC_DISAGREEMENTS: Record<string, string> = {
  "common/2DCode/raw/Z2.json": "uncompressed COSE is accepted (zlib only when the data starts with 0x78)",
  "RO/2DCode/raw/2.json": "two vaccination entries: hcert allows exactly one (upstream known issue #356)",
};

export function agrees(v: DccVector, reason: string): boolean {
  const e = v.expected;
  const expectPass = CHECKED.every((f) => e[f] !== false);
  if (reason === "OK") return expectPass;
  const flags = STAGE[reason];
  if (!flags) return false;
  // A failure agrees when the file does not claim that this step succeeds.
  return flags.every((f) => e[f] !== true) && (flags.some((f) => e[f] === false) || !expectPass || flags.every((f) => e[f] === undefined));
}

export function verifyVector(v: DccVector) {
  const trust = new MemoryTrust();
  if (v.certificate) trust.add(dccKeyFromCertificate(parseCertificate(v.certificate), "vector"));
  const verifier = createVerifier({ trust: () => trust, salt: "test", clockSkewS: 120 });
  return verifier.verify(v.prefix ?? "", { nowMs: v.clockMs ?? Date.now() });
}

