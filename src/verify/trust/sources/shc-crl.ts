import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { parseRid, ridKey, type RidMap } from "../revocations.js";
import { DiskCopy } from "./disk-copy.js";
import { SourceError } from "./errors.js";
import { fetchDoc, isUrl } from "./fetch-doc.js";
import type { SourceEnv } from "./base.js";

const MAX_CRL_BYTES = 4 * 1024 * 1024;
const crlShape = z.object({ kid: z.string(), method: z.literal("rid"), ctr: z.number().int().min(0), rids: z.array(z.string().min(1).max(128)).max(1_000_000) });

/**
 * SMART Health Cards revocation lists: a key with `crlVersion` has its list at
 * ISSUER/.well-known/crl/KID.json. For a JWKS read from a file, the same layout next to it
 * (DIR/crl/KID.json) is used, so an offline copy of an issuer's .well-known works as is.
 */
export function crlLocation(issuer: string, jwksLocation: string, kid: string): string {
  if (isUrl(jwksLocation)) return `${issuer.replace(/\/+$/, "")}/.well-known/crl/${encodeURIComponent(kid)}.json`;
  return join(dirname(jwksLocation), "crl", `${kid}.json`);
}

export function parseCrl(body: Buffer, kid: string, crlVersion: number): { rids: Map<string, number>; behind: boolean } {
  let doc;
  try {
    doc = crlShape.parse(JSON.parse(body.toString("utf8")));
  } catch {
    throw new SourceError("GW_TRUST_FETCH", "content", "SHC revocation list is malformed");
  }
  if (doc.kid !== kid) throw new SourceError("GW_TRUST_FETCH", "content", "SHC revocation list is for another kid");
  const rids = new Map<string, number>();
  try {
    for (const r of doc.rids) {
      const { rid, before } = parseRid(r);
      rids.set(rid, Math.max(before, rids.get(rid) ?? -Infinity));
    }
  } catch {
    throw new SourceError("GW_TRUST_FETCH", "content", "SHC revocation list has a bad rid entry");
  }
  return { rids, behind: doc.ctr < crlVersion };
}

/**
 * Loads the CRLs of one issuer's keys. A CRL that cannot be had keeps the previous one for that
 * kid (or the disk copy); it never takes the keys down with it.
 */
export async function loadShcCrls(
  issuer: string,
  jwksLocation: string,
  crls: ReadonlyArray<{ kid: string; crlVersion: number }>,
  env: Pick<SourceEnv, "fetch" | "timeoutMs" | "stateDir" | "logger" | "signal"> & { allowHttp?: boolean },
  previous: ReadonlyMap<string, RidMap> | undefined,
): Promise<Map<string, RidMap>> {
  const out = new Map<string, RidMap>();
  for (const { kid, crlVersion } of crls) {
    const loc = crlLocation(issuer, jwksLocation, kid);
    const remote = isUrl(loc);
    const disk = remote ? new DiskCopy(`${env.stateDir}/trust`, "crl", loc) : undefined;
    try {
      let body: Buffer;
      if (remote) {
        const doc = await fetchDoc(loc, { fetch: env.fetch, timeoutMs: env.timeoutMs, maxBytes: MAX_CRL_BYTES, allowHttp: env.allowHttp === true, ...(env.signal ? { signal: env.signal } : {}) });
        body = doc.body ?? Buffer.alloc(0);
      } else {
        body = await readFile(loc).catch((e: NodeJS.ErrnoException) => {
          throw new SourceError("GW_TRUST_FETCH", "file", `cannot read SHC revocation list: ${e.code ?? "error"}`);
        });
      }
      const { rids, behind } = parseCrl(body, kid, crlVersion);
      if (behind) env.logger.warn({ code: "GW_TRUST_FETCH", issuer, kid, reason: "crl-behind" }, "SHC revocation list is older than the key's crlVersion");
      out.set(ridKey(issuer, kid), rids);
      if (disk) await disk.save(body, { fetchedAt: Date.now() });
    } catch (e) {
      const err = e instanceof SourceError ? e : new SourceError("GW_TRUST_FETCH", "internal", (e as Error).message);
      env.logger.warn({ code: err.code, issuer, kid, reason: err.reason, err: err.message }, "SHC revocation list not loaded; previous copy kept");
      const prev = previous?.get(ridKey(issuer, kid));
      if (prev) out.set(ridKey(issuer, kid), prev);
      else if (disk) {
        const copy = await disk.load();
        if (copy) {
          try {
            out.set(ridKey(issuer, kid), parseCrl(copy.body, kid, crlVersion).rids);
          } catch {
            /* a bad disk copy is as good as none */
          }
        }
      }
    }
  }
  return out;
}
