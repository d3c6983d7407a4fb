import { z } from "zod";

/**
 * A file path or an http(s) URL to fetch. fetch refuses a URL that carries `user:password@`, so
 * such a source would fail every refresh (lanes TRUST_STALE) after `config check` said ok.
 */
const location = (what: string) =>
  z
    .string()
    .min(1)
    .refine((v) => !/^https?:\/\/[^/?#]*@/i.test(v), { message: "a URL with user:password@ cannot be fetched; serve the file without credentials in the URL" })
    .describe(what);

export const trustSection = z
  .strictObject({
    lists: z
      .array(
        z.strictObject({
          source: location("File path or http(s) URL of a signed trust list."),
          rootKey: z.string().min(1).describe("Path to the pinned root public key (PEM or JWK) the list must be signed with."),
        }),
      )
      .default([])
      .describe("Our signed trust lists."),
    certificates: z.array(z.string()).default([]).describe("X.509 DSC certificates (PEM/DER files or directories) for EU DCC."),
    jwks: z
      .array(
        z.strictObject({
          issuer: z.string().url().describe("SHC issuer (iss)."),
          source: location("JWKS file or URL; default is iss + /.well-known/jwks.json.").optional(),
          allowInsecureHttp: z.boolean().default(false).describe("Allow plain http:// for this JWKS and its CRLs (unsigned: anyone on the path could swap keys). Default: https only."),
        }),
      )
      .default([])
      .describe("SMART Health Card issuers and their keys."),
    revocations: z
      .array(
        z.union([
          location("Deny-list file or URL."),
          z.strictObject({
            source: location("Deny-list file or URL."),
            allowInsecureHttp: z.boolean().default(false).describe("Allow plain http:// for this deny list (unsigned). Default: https only."),
          }),
        ]),
      )
      .default([])
      .describe("Deny-list files (one hash per line) or https URLs; { source, allowInsecureHttp } to allow plain http for one."),
    refreshIntervalS: z.number().int().min(10).default(3600).describe("How often remote trust sources are refreshed."),
    maxAgeS: z.number().int().min(60).default(86400 * 2).describe("Trust data older than this makes verdicts FLAG TRUST_STALE (or per staleAction)."),
    staleAction: z.enum(["flag", "out-of-service"]).default("flag").describe("What stale trust data does to verdicts."),
    clockSkewS: z.number().int().min(0).max(600).default(120).describe("Tolerance for iat/nbf in the future (never applied to exp)."),
    maxClockDriftS: z
      .number()
      .int()
      .min(1)
      .default(7200)
      .describe(
        "The local clock is untrusted when it differs from a trust server's Date header (plus Age) by more than this, or runs this much behind a signed trust list's issuedAt: verdicts are then CLOCK_UNTRUSTED (see clockAction), never PASS.",
      ),
    clockAction: z
      .enum(["flag", "out-of-service"])
      .default("out-of-service")
      .describe("What an untrusted local clock does: out-of-service (default) takes every lane out of service and makes verdicts ERROR CLOCK_UNTRUSTED; flag keeps lanes in service and flags every verdict CLOCK_UNTRUSTED."),
    // Optional without a default so the section's default object in schema.ts stays valid.
    denyListMaxDropPct: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("A downloaded deny list with more than this percentage of the held entries gone at once is refused and the held list kept (whatever it lost would be un-revoked); default 50, 100 = off. Lists under 20 entries are not checked."),
    fetchTimeoutS: z.number().int().min(1).max(600).optional().describe("Timeout for one trust source download (default 30)."),
    maxListBytes: z.number().int().min(1024).optional().describe("Size cap for one signed trust list or deny list document (default 64 MiB). A JWKS has its own cap of 1 MiB (this one if lower), an SHC CRL 4 MiB."),
    sharedPollS: z.number().int().min(1).max(3600).optional().describe("With Redis: how often the site's revocation stream is polled between refreshes (default 30)."),
  })
  .describe("Issuer keys, trust lists and revocation.");

/** The validated `trust:` section of the gateway config. */
export type TrustConfig = z.output<typeof trustSection>;
