import { z } from "zod";
import { MAX_JWKS_KEYS } from "./keys.js";

/** The signed trust list payload (docs/trust.md). Unknown fields are dropped, so newer lists stay readable. */
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "not an ISO 8601 time");
const jwkShape = z.looseObject({ kty: z.string(), crv: z.string().optional(), x: z.string().optional(), y: z.string().optional(), kid: z.string().optional() });

const passEntry = z.object({
  kid: z.string().min(1).max(128),
  issuer: z.string().min(1).max(256),
  formats: z.tuple([z.literal("pass")]),
  jwk: jwkShape,
  notBefore: isoTime.optional(),
  notAfter: isoTime.optional(),
});
const dccEntry = z.object({
  kid: z.string().min(1).max(128).optional(),
  issuer: z.string().min(1).max(256),
  formats: z.tuple([z.literal("dcc")]),
  certificate: z.string().min(16).regex(/^[A-Za-z0-9+/=\s]+$/, "not base64"),
});
const shcEntry = z.object({
  issuer: z.string().url().max(512),
  formats: z.tuple([z.literal("shc")]),
  jwks: z.object({ keys: z.array(jwkShape).max(MAX_JWKS_KEYS) }),
});

// Elements are checked by RevocationIndex.fromHex (32 hex digits): a per-element zod check cost ~0.4 s per million.
const hashRevocations = z.object({ type: z.literal("id-hash"), hashes: z.custom<string[]>((v) => Array.isArray(v), "hashes must be an array") });
const ridRevocations = z.object({ type: z.literal("shc-rid"), issuer: z.string().url(), kid: z.string().min(1), rids: z.array(z.string().min(1).max(128)) });

// Keys allowed to sign revocation deltas shared through Redis (and nothing else: they never verify credentials).
const revocationSigner = z.object({ kid: z.string().min(1).max(128), jwk: jwkShape });

export const trustListPayload = z.object({
  version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  issuedAt: isoTime,
  expiresAt: isoTime.optional(),
  entries: z.array(z.union([passEntry, dccEntry, shcEntry])).max(100_000),
  revocations: z.array(z.discriminatedUnion("type", [hashRevocations, ridRevocations])).optional(),
  revocationSigners: z.array(revocationSigner).max(100).optional(),
});

export type TrustListPayload = z.output<typeof trustListPayload>;
export type TrustListEntry = TrustListPayload["entries"][number];
