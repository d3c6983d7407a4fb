import { createHash, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { CompactSign, importJWK, type JWK } from "jose";
import { trustListPayload, type TrustListPayload } from "./list-schema.js";
import { dccKeyFromCertificate, importEcJwk, parseCertificate, passKey, shcKeysFromJwks, TrustKeyError } from "./keys.js";
import { RevocationIndex, RevocationIndexError } from "./revocation-index.js";
import { addRid, ridKey, type RidMap } from "./revocations.js";
import type { RevocationSigner } from "./signed-delta.js";
import type { TrustKey } from "./types.js";

/** JOSE `typ` of our lists: a root key's signature over some other JWS is never taken for a trust list. */
export const TRUST_LIST_TYP = "cpgw-trust-list+jws";
export const DEFAULT_MAX_LIST_BYTES = 64 * 1024 * 1024;

export type TrustListProblem = "size" | "signature" | "schema" | "content" | "rollback" | "expired";

/** Every rejection of a list carries a short machine reason; messages never include list content. */
export class TrustListError extends Error {
  constructor(
    readonly reason: TrustListProblem,
    message: string,
  ) {
    super(message);
    this.name = "TrustListError";
  }
}

export interface VerifiedList {
  payload: TrustListPayload;
  /** SHA-256 of the signed payload bytes: same version with another digest is a lying server. */
  digest: string;
}

/**
 * Verifies our compact JWS. Signing uses jose; verification is done here with node:crypto because
 * jose's pure-JS base64url path took ~5 s on a 45 MB list (a million revocations) where the
 * native decode + one ECDSA verify take a fraction of that. The checks are the JWS ones we need:
 * three parts, protected header alg ES256 with our typ, no `crit`/`b64`, 64-byte P1363 signature.
 */
export async function verifyTrustList(jws: string, root: { key: KeyObject; kid?: string }, maxBytes = DEFAULT_MAX_LIST_BYTES): Promise<VerifiedList> {
  if (jws.length > maxBytes) throw new TrustListError("size", `trust list exceeds ${maxBytes} bytes`);
  const text = jws.trim();
  const d1 = text.indexOf(".");
  const d2 = d1 < 0 ? -1 : text.indexOf(".", d1 + 1);
  if (d1 <= 0 || d2 < 0 || text.indexOf(".", d2 + 1) >= 0 || !B64URL.test(text.slice(0, d1)) || !B64URL.test(text.slice(d2 + 1))) {
    throw new TrustListError("signature", "trust list is not a compact JWS");
  }
  let header: { alg?: unknown; typ?: unknown; kid?: unknown; crit?: unknown; b64?: unknown };
  try {
    header = JSON.parse(Buffer.from(text.slice(0, d1), "base64url").toString("utf8")) as typeof header;
  } catch {
    throw new TrustListError("signature", "trust list JWS header is not JSON");
  }
  if (header.alg !== "ES256") throw new TrustListError("signature", "trust list JWS alg is not ES256");
  if (header.typ !== TRUST_LIST_TYP) throw new TrustListError("signature", `JWS typ is not ${TRUST_LIST_TYP}`);
  if (header.crit !== undefined || header.b64 !== undefined) throw new TrustListError("signature", "trust list JWS uses unsupported header parameters");
  if (root.kid && header.kid !== undefined && header.kid !== root.kid) throw new TrustListError("signature", "JWS kid is not the pinned root's kid");
  const sig = Buffer.from(text.slice(d2 + 1), "base64url");
  const ok =
    sig.length === 64 &&
    cryptoVerify("sha256", Buffer.from(text.slice(0, d2), "ascii"), { key: root.key, dsaEncoding: "ieee-p1363" }, sig);
  if (!ok) throw new TrustListError("signature", "trust list signature does not verify against the pinned root key");
  const payloadBytes = Buffer.from(text.slice(d1 + 1, d2), "base64url");
  let json: unknown;
  try {
    json = JSON.parse(payloadBytes.toString("utf8"));
  } catch {
    throw new TrustListError("schema", "trust list payload is not JSON");
  }
  const parsed = trustListPayload.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new TrustListError("schema", `trust list payload invalid at ${first?.path.join(".") || "(root)"}: ${first?.message ?? "?"}`);
  }
  return { payload: parsed.data, digest: createHash("sha256").update(payloadBytes).digest("hex") };
}

const B64URL = /^[A-Za-z0-9_-]+$/;

export interface ListContent {
  keys: TrustKey[];
  hashes: RevocationIndex;
  shc: Map<string, RidMap>;
  revocationSigners: RevocationSigner[];
  skipped: Array<{ entry: number; reason: string }>;
  /** SHC keys of the list that announce a revocation list (`crlVersion`): the issuer's CRL decides their cards, not the list. */
  crls: Array<{ issuer: string; kid: string; crlVersion: number }>;
}

/**
 * Turns a verified payload into keys and revocations. A bad entry in a signed list is a signing
 * mistake, not an attack, but half a list is still the wrong list: any bad entry rejects it.
 */
export async function listContent(payload: TrustListPayload, source: string): Promise<ListContent> {
  const keys: TrustKey[] = [];
  const skipped: ListContent["skipped"] = [];
  const crls: ListContent["crls"] = [];
  for (const [i, e] of payload.entries.entries()) {
    try {
      if (e.formats[0] === "pass") {
        const pe = e as Extract<typeof e, { jwk: unknown }>;
        keys.push(passKey(pe.jwk as JWK, pe.issuer, source, pe.kid, {
          ...(pe.notBefore ? { notBefore: Date.parse(pe.notBefore) } : {}),
          ...(pe.notAfter ? { notAfter: Date.parse(pe.notAfter) } : {}),
        }));
      } else if (e.formats[0] === "dcc") {
        const de = e as Extract<typeof e, { certificate: string }>;
        const cert = parseCertificate(Buffer.from(de.certificate, "base64"));
        keys.push(dccKeyFromCertificate(cert, source, { issuer: de.issuer, ...(de.kid ? { kid: de.kid } : {}) }));
      } else {
        const se = e as Extract<typeof e, { jwks: unknown }>;
        const imp = shcKeysFromJwks(se.jwks, se.issuer, source);
        keys.push(...imp.keys);
        for (const c of imp.crls) crls.push({ issuer: se.issuer, ...c });
        for (const s of imp.skipped) skipped.push({ entry: i, reason: `jwks key ${s.index}: ${s.reason}` });
      }
    } catch (err) {
      throw new TrustListError("content", `entry ${i}: ${err instanceof TrustKeyError ? err.message : "unreadable"}`);
    }
  }
  const hashLists: string[][] = [];
  const shc = new Map<string, Map<string, number>>();
  for (const [i, r] of (payload.revocations ?? []).entries()) {
    if (r.type === "id-hash") {
      hashLists.push(r.hashes);
    } else {
      const m = shc.get(ridKey(r.issuer, r.kid)) ?? new Map<string, number>();
      try {
        for (const entry of r.rids) addRid(m, entry);
      } catch {
        throw new TrustListError("content", `revocations ${i}: bad rid entry`);
      }
      shc.set(ridKey(r.issuer, r.kid), m);
    }
  }
  let hashes: RevocationIndex;
  try {
    // Hex case is handled by the parser; a single list (the usual case) is not copied.
    hashes = RevocationIndex.fromHex(hashLists.length === 1 ? hashLists[0]! : hashLists.flat());
  } catch (e) {
    throw new TrustListError("content", e instanceof RevocationIndexError ? e.message : "bad revocation hash");
  }
  const revocationSigners: RevocationSigner[] = [];
  for (const [i, r] of (payload.revocationSigners ?? []).entries()) {
    try {
      revocationSigners.push(Object.freeze({ kid: r.kid, key: importEcJwk(r.jwk as JWK) }));
    } catch (err) {
      throw new TrustListError("content", `revocationSigners ${i}: ${err instanceof TrustKeyError ? err.message : "unreadable"}`);
    }
  }
  return { keys, hashes, shc, revocationSigners, skipped, crls };
}

/** Signs a list payload with the root's private JWK; the payload is validated (and its entries imported) first. */
export async function signTrustList(payload: unknown, rootPrivate: JWK): Promise<string> {
  const parsed = trustListPayload.safeParse(payload);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new TrustListError("schema", `${first?.path.join(".") || "(root)"}: ${first?.message ?? "invalid"}`);
  }
  await listContent(parsed.data, "sign");
  if (!rootPrivate.d) throw new TrustKeyError("root key file holds no private key (d)");
  const key = await importJWK({ ...rootPrivate, alg: "ES256" }, "ES256");
  const bytes = Buffer.from(JSON.stringify(payload), "utf8");
  return new CompactSign(bytes)
    .setProtectedHeader({ alg: "ES256", typ: TRUST_LIST_TYP, ...(rootPrivate.kid ? { kid: rootPrivate.kid } : {}) })
    .sign(key);
}
