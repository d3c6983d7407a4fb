import { verify as cryptoVerify, type KeyObject } from "node:crypto";
import { CompactSign, importJWK, type JWK } from "jose";
import { z } from "zod";
import { RevocationDeltaError, RevocationSet, type RevocationDelta } from "./revocations.js";

/**
 * Revocation deltas shared through Redis are signed: anyone who can write the site's Redis could
 * otherwise revoke or un-revoke at will. A delta is a compact JWS (ES256) by a key that the signed
 * trust list names in `revocationSigners`; the signed `issuedAt` orders deltas, so replaying an
 * old delta into the stream cannot undo a newer one.
 */
export const REVOCATION_DELTA_TYP = "cpgw-revocation-delta+jws";

/** A key the signed trust list authorises to sign revocation deltas (and nothing else). */
export interface RevocationSigner {
  kid: string;
  key: KeyObject;
}

export interface VerifiedDelta {
  delta: RevocationDelta;
  /** Epoch ms, signed: the order in which deltas apply. */
  issuedAt: number;
  kid: string;
}

export type DeltaProblem = "unsigned" | "signature" | "unknown-signer" | "schema";

export class DeltaRefused extends Error {
  constructor(
    readonly reason: DeltaProblem,
    message: string,
  ) {
    super(message);
    this.name = "DeltaRefused";
  }
}

const hexList = z.array(z.string().max(64)).max(100_000);
const deltaPayload = z.object({
  issuedAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  delta: z.object({
    add: hexList.optional(),
    remove: hexList.optional(),
    shc: z
      .array(z.object({ issuer: z.string().min(1).max(512), kid: z.string().min(1).max(128), add: z.array(z.string().min(1).max(160)).max(100_000).optional(), remove: z.array(z.string().min(1).max(160)).max(100_000).optional() }))
      .max(1000)
      .optional(),
  }),
});

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Signs a delta with a revocation signer's private JWK (which must carry its kid). The delta is validated first. */
export async function signRevocationDelta(delta: RevocationDelta, signer: JWK, issuedAt = Date.now()): Promise<string> {
  if (!deltaPayload.shape.delta.safeParse(delta).success) throw new RevocationDeltaError("delta must be { add?, remove?, shc? } with string entries");
  RevocationSet.empty.withDelta(delta); // throws RevocationDeltaError on a malformed entry: never signed
  if (!signer?.d) throw new RevocationDeltaError("signer key holds no private key (d)");
  if (!signer.kid) throw new RevocationDeltaError("signer key has no kid");
  let key;
  try {
    key = await importJWK({ ...signer, alg: "ES256" }, "ES256");
  } catch {
    throw new RevocationDeltaError("signer key is not an EC P-256 private JWK");
  }
  return new CompactSign(Buffer.from(JSON.stringify({ issuedAt, delta }), "utf8"))
    .setProtectedHeader({ alg: "ES256", typ: REVOCATION_DELTA_TYP, kid: signer.kid })
    .sign(key);
}

/**
 * Checks a delta as read from Redis or handed to publishRevocations: a compact JWS with our typ,
 * signed by one of `signers` (by kid), with a well-formed payload. Anything else throws DeltaRefused.
 */
export function verifyRevocationDelta(jws: string, signers: readonly RevocationSigner[]): VerifiedDelta {
  const text = typeof jws === "string" ? jws.trim() : "";
  const parts = text.split(".");
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) throw new DeltaRefused("unsigned", "revocation delta is not a compact JWS");
  const [h, p, s] = parts as [string, string, string];
  let header: { alg?: unknown; typ?: unknown; kid?: unknown; crit?: unknown; b64?: unknown };
  try {
    header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as typeof header;
  } catch {
    throw new DeltaRefused("unsigned", "revocation delta JWS header is not JSON");
  }
  if (typeof header !== "object" || header === null) throw new DeltaRefused("unsigned", "revocation delta JWS header is not an object");
  if (header.alg !== "ES256" || header.typ !== REVOCATION_DELTA_TYP || header.crit !== undefined || header.b64 !== undefined) {
    throw new DeltaRefused("signature", `revocation delta JWS must be ES256 with typ ${REVOCATION_DELTA_TYP}`);
  }
  const kid = header.kid;
  if (typeof kid !== "string") throw new DeltaRefused("unknown-signer", "revocation delta JWS has no kid");
  const candidates = signers.filter((x) => x.kid === kid);
  if (candidates.length === 0) throw new DeltaRefused("unknown-signer", "revocation delta signed by a key the trust list does not name as a revocation signer");
  const sig = Buffer.from(s, "base64url");
  const input = Buffer.from(`${h}.${p}`, "ascii");
  const ok = sig.length === 64 && candidates.some((c) => cryptoVerify("sha256", input, { key: c.key, dsaEncoding: "ieee-p1363" }, sig));
  if (!ok) throw new DeltaRefused("signature", "revocation delta signature does not verify");
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(p, "base64url").toString("utf8"));
  } catch {
    throw new DeltaRefused("schema", "revocation delta payload is not JSON");
  }
  const parsed = deltaPayload.safeParse(json);
  if (!parsed.success) throw new DeltaRefused("schema", "revocation delta payload is not a delta");
  const delta = parsed.data.delta as RevocationDelta;
  try {
    RevocationSet.empty.withDelta(delta);
  } catch (e) {
    throw new DeltaRefused("schema", e instanceof RevocationDeltaError ? e.message : "bad delta");
  }
  return { delta, issuedAt: parsed.data.issuedAt, kid };
}
