/**
 * EU Digital COVID Certificate: HC1: base45 -> zlib (only when it starts with 0x78) -> COSE_Sign1
 * -> CWT {1: iss, 4: exp, 5: nbf (optional), 6: iat, -260: {1: hcert}}. Keys by kid = base64(first 8 bytes of SHA-256(DSC)).
 */
import { base45Decode } from "../codec/base45.js";
import { inflateZlib } from "../codec/inflate.js";
import { parseCoseSign1, verifyCose, type CoseSign1 } from "../codec/cose.js";
import { decodeCbor } from "../codec/cbor.js";
import { fail, labelled } from "../reasons.js";
import { firstVerifying, isRecord, plain, type FormatInput, type Verified } from "../verified.js";
import { keyUsageAllows } from "./key-usage.js";

const CWT_ISS = 1;
const CWT_EXP = 4;
const CWT_NBF = 5;
const CWT_IAT = 6;
const CWT_HCERT = -260;
const COUNTRY = /^[A-Z]{2}$/;

function epochMs(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) fail("STRUCTURE_INVALID", "CWT time is not a number");
  return v * 1000;
}

/** The only health facts policy may read: type and the medical fields, never name, birth date or UVCI. */
function healthFacts(type: "v" | "t" | "r", entry: Record<string, unknown>): Record<string, unknown> {
  const { ci: _ci, is: _is, ...rest } = entry;
  return { type, [type]: rest };
}

function countryCode(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const c = v.trim().toUpperCase();
  return COUNTRY.test(c) ? c : undefined;
}

export const DCC_PREFIX = "HC1:";

export function verifyDcc(input: FormatInput): Verified {
  const { text } = input;
  let bytes = base45Decode(text.slice(DCC_PREFIX.length));
  if (bytes[0] === 0x78) bytes = inflateZlib(bytes);
  // Uncompressed input is tolerated, but only if it looks like COSE (tag 18, tag 61, or a 4-array);
  // anything else is a broken compression stream rather than a CBOR problem.
  else if (bytes[0] !== 0xd2 && bytes[0] !== 0xd8 && bytes[0] !== 0x84) fail("DECOMPRESS_FAILED", "not zlib");
  const cose = parseCoseSign1(bytes, ["ES256", "PS256"]);
  const kid = Buffer.from(cose.kid).toString("base64");
  return labelled(kid, undefined, () => afterKid(input, cose, kid));
}

function afterKid({ trust }: FormatInput, cose: CoseSign1, kid: string): Verified {
  const candidates = trust.keysFor(kid, "dcc");
  if (candidates.length === 0) fail("KEY_UNKNOWN");
  const key = firstVerifying(candidates, (k) => verifyCose(cose, k.key));

  const cwt = decodeCbor(cose.payload);
  if (!(cwt instanceof Map)) fail("STRUCTURE_INVALID", "CWT is not a map");
  const hcertWrap = cwt.get(CWT_HCERT);
  const hcert = hcertWrap instanceof Map ? plain(hcertWrap.get(1)) : undefined;
  if (!isRecord(hcert)) fail("STRUCTURE_INVALID", "no hcert claim");
  // Some issuers write the unused groups as null (BG test files): treat null as absent.
  const types = (["v", "t", "r"] as const).filter((t) => hcert[t] !== undefined && hcert[t] !== null);
  if (types.length !== 1) fail("STRUCTURE_INVALID", "exactly one of v/t/r required");
  const type = types[0]!;
  const entries = hcert[type];
  if (!Array.isArray(entries) || entries.length !== 1 || !isRecord(entries[0])) fail("STRUCTURE_INVALID", "one entry required");
  const entry = entries[0];
  const uvci = entry.ci;
  if (typeof uvci !== "string" || uvci.length === 0 || uvci.length > 128) fail("STRUCTURE_INVALID", "UVCI");
  if (typeof hcert.ver !== "string" || !isRecord(hcert.nam) || typeof hcert.dob !== "string") fail("STRUCTURE_INVALID", "hcert ver/nam/dob");

  if (!keyUsageAllows(key.certificate, type)) fail("KEY_USAGE_MISMATCH");

  // Both are mandatory in hcert: a DCC without exp would never expire.
  if (typeof cwt.get(CWT_EXP) !== "number" || typeof cwt.get(CWT_IAT) !== "number") fail("STRUCTURE_INVALID", "CWT exp/iat missing");
  const iss = cwt.get(CWT_ISS);
  // A DSC is bound to its country; a DCC naming another country is not vouched for by it. Compared
  // when both are country codes after trimming and upper-casing ("fr " is France as much as "FR");
  // some issuers write a ministry name in iss, which names no country to compare.
  const claimed = countryCode(iss);
  const bound = countryCode(key.issuer);
  if (claimed !== undefined && bound !== undefined && claimed !== bound) fail("ISSUER_UNTRUSTED");
  const issuedAtMs = epochMs(cwt.get(CWT_IAT))!;
  // nbf is optional in hcert; when there, the credential is not valid before it (NOT_YET_VALID).
  const nbfMs = epochMs(cwt.get(CWT_NBF));
  return {
    format: "dcc",
    kid,
    issuer: key.issuer || (typeof iss === "string" ? iss : ""),
    key,
    credentialId: uvci,
    issuedAtMs,
    validFromMs: nbfMs === undefined ? issuedAtMs : Math.max(issuedAtMs, nbfMs),
    validUntilMs: epochMs(cwt.get(CWT_EXP)),
    facts: healthFacts(type, entry),
  };
}
