import { dirname, join } from "node:path";
import { z } from "zod";
import { addRid, ridKey, type RidMap } from "../revocations.js";
import { DiskCopy } from "./disk-copy.js";
import { SourceError } from "./errors.js";
import { fetchDoc, isUrl, readDoc } from "./fetch-doc.js";
import { FUTURE_TOLERANCE_MS, type SourceEnv } from "./base.js";

/**
 * Cap on one SHC CRL, downloaded, read from a file or from its disk copy. A CRL is a list of rids
 * (about 11 base64url characters, plus `.TIMESTAMP` when revoked from a date: 15-30 bytes each as
 * JSON), so 4 MiB holds well over 100,000 revocations for one key, far past what an issuer revokes;
 * a JSON parse of 4 MiB costs a few ms on the event loop, up to 16 of them per issuer.
 */
export const MAX_CRL_BYTES = 4 * 1024 * 1024;
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

export function parseCrl(body: Buffer, kid: string, crlVersion: number): { rids: Map<string, number>; ctr: number; behind: boolean } {
  let doc;
  try {
    doc = crlShape.parse(JSON.parse(body.toString("utf8")));
  } catch {
    throw new SourceError("GW_TRUST_FETCH", "content", "SHC revocation list is malformed");
  }
  if (doc.kid !== kid) throw new SourceError("GW_TRUST_FETCH", "content", "SHC revocation list is for another kid");
  const rids = new Map<string, number>();
  try {
    for (const r of doc.rids) addRid(rids, r);
  } catch {
    throw new SourceError("GW_TRUST_FETCH", "content", "SHC revocation list has a bad rid entry");
  }
  return { rids, ctr: doc.ctr, behind: doc.ctr < crlVersion };
}

/** One kid's revocation list in use, its issuer's counter (`ctr`), and when it was last had from the issuer (epoch ms). */
export interface CrlCopy {
  rids: RidMap;
  ctr: number;
  fetchedAt: number;
}

/** The CRLs of one issuer's keys: those in use (by `ridKey`), and what went wrong this time. */
export interface CrlLoad {
  copies: Map<string, CrlCopy>;
  /** `GW_TRUST_FETCH:<reason>` of the first CRL that could not be had or is behind its key. */
  error?: string;
}

export type CrlEnv = Pick<SourceEnv, "fetch" | "timeoutMs" | "stateDir" | "logger" | "signal" | "clock"> & { allowHttp?: boolean };

/**
 * Most CRLs loaded per issuer. An issuer has a few keys (rotation); each CRL is a download of up to
 * 4 MiB, all of them at once. The keys past it are warned about and their CRLs never loaded, so
 * their cards are TRUST_STALE (fail safe), not judged on revocations nobody read.
 */
export const MAX_CRLS_PER_ISSUER = 16;

/**
 * Loads the CRLs of one issuer's keys. A CRL that cannot be had keeps the previous one for that
 * kid (or the disk copy); it never takes the keys down with it. But it is not fresh either: a copy
 * keeps the time it was last had from the issuer, so a card signed by that key is judged on
 * revocations of known age (TRUST_STALE past maxAge: view.ts `revocationsStale`). A CRL behind its key's `crlVersion` (a CDN lag)
 * is used, but does not count as fresh when an earlier copy's time is known. A CRL with a lower
 * `ctr` than the copy held (in memory, or on disk at a start) never replaces it: the counter is the
 * issuer's own order, and an older list served by a lagging mirror would un-revoke what the newer
 * one added; its rids are added to the held ones instead. A disk copy claiming a time in the
 * future is refused, as for every unsigned cached document (base.ts).
 *
 * All of them are fetched at once under one deadline (`timeoutMs`): one host that never answers
 * costs a refresh that long, not that long per key. `held` reads no network: the copies in memory,
 * else on disk, for data that must apply before its CRLs are fetched again.
 */
export async function loadShcCrls(
  issuer: string,
  jwksLocation: string,
  crls: ReadonlyArray<{ kid: string; crlVersion: number }>,
  env: CrlEnv,
  previous: ReadonlyMap<string, CrlCopy> | undefined,
  mode: "fetch" | "held" = "fetch",
): Promise<CrlLoad> {
  let capError: string | undefined;
  if (crls.length > MAX_CRLS_PER_ISSUER) {
    env.logger.warn({ code: "GW_TRUST_FETCH", issuer, reason: "content", crls: crls.length, max: MAX_CRLS_PER_ISSUER }, "SHC issuer announces more revocation lists than are loaded: the cards of the keys past the limit are TRUST_STALE");
    capError = "GW_TRUST_FETCH:crl-content";
  }
  const loaded = crls.slice(0, MAX_CRLS_PER_ISSUER);
  let results: OneCrl[];
  if (mode === "held") {
    results = await Promise.all(loaded.map(({ kid, crlVersion }) => heldCrl(issuer, jwksLocation, kid, crlVersion, env, previous)));
  } else {
    const deadline = AbortSignal.timeout(env.timeoutMs);
    const signal = env.signal ? AbortSignal.any([env.signal, deadline]) : deadline;
    results = await Promise.all(loaded.map(({ kid, crlVersion }) => fetchCrl(issuer, jwksLocation, kid, crlVersion, { ...env, signal }, previous)));
  }
  const copies = new Map<string, CrlCopy>();
  let error = capError;
  for (const [i, r] of results.entries()) {
    if (r.copy) copies.set(ridKey(issuer, crls[i]!.kid), r.copy);
    error ??= r.error;
  }
  return { copies, ...(error ? { error } : {}) };
}

type OneCrl = { copy?: CrlCopy; error?: string };

function diskFor(env: CrlEnv, loc: string): DiskCopy | undefined {
  return isUrl(loc) ? new DiskCopy(`${env.stateDir}/trust`, "crl", loc) : undefined;
}

async function heldCrl(issuer: string, jwksLocation: string, kid: string, crlVersion: number, env: CrlEnv, previous: ReadonlyMap<string, CrlCopy> | undefined): Promise<OneCrl> {
  const prev = previous?.get(ridKey(issuer, kid));
  if (prev) return { copy: prev };
  const disk = diskFor(env, crlLocation(issuer, jwksLocation, kid));
  const copy = disk ? await fromDisk(disk, kid, crlVersion, env.clock.now(), env.logger) : undefined;
  return copy ? { copy } : {};
}

async function fetchCrl(issuer: string, jwksLocation: string, kid: string, crlVersion: number, env: CrlEnv, previous: ReadonlyMap<string, CrlCopy> | undefined): Promise<OneCrl> {
  const loc = crlLocation(issuer, jwksLocation, kid);
  const disk = diskFor(env, loc);
  const prev = previous?.get(ridKey(issuer, kid));
  let error: string | undefined;
  try {
    let body: Buffer;
    if (disk) {
      const doc = await fetchDoc(loc, { fetch: env.fetch, timeoutMs: env.timeoutMs, maxBytes: MAX_CRL_BYTES, what: "SHC revocation list", allowHttp: env.allowHttp === true, ...(env.signal ? { signal: env.signal } : {}) });
      body = doc.body ?? Buffer.alloc(0);
    } else {
      body = await readDoc(loc, MAX_CRL_BYTES, "SHC revocation list");
    }
    const { rids, ctr, behind } = parseCrl(body, kid, crlVersion);
    const now = env.clock.now();
    // After a restart the disk copy is what is held: it may be newer than what the server serves now.
    const held = prev ?? (disk ? await fromDisk(disk, kid, crlVersion, now, env.logger) : undefined);
    if (held && ctr < held.ctr) {
      env.logger.warn({ code: "GW_TRUST_FETCH", issuer, kid, reason: "crl-behind", ctr, heldCtr: held.ctr }, "SHC revocation list is older than the copy held; the held copy stays");
      // The older list's rids are kept too: a disk copy given a made-up higher ctr then cannot hide
      // what the issuer serves. The held copy's time stays, so it still ages towards TRUST_STALE.
      const union = new Map(held.rids);
      for (const [rid, before] of rids) union.set(rid, Math.max(before, union.get(rid) ?? -Infinity));
      return { copy: { rids: union, ctr: held.ctr, fetchedAt: held.fetchedAt }, error: "GW_TRUST_FETCH:crl-behind" };
    }
    if (behind) {
      env.logger.warn({ code: "GW_TRUST_FETCH", issuer, kid, reason: "crl-behind" }, "SHC revocation list is older than the key's crlVersion");
      error = "GW_TRUST_FETCH:crl-behind";
    }
    const copy = { rids, ctr, fetchedAt: behind && held ? held.fetchedAt : now };
    // The disk is a cache: a copy that cannot be written (a read-only disk) costs the next offline
    // start its CRL, not this one. Saved with the time it counts as had (a copy behind its key
    // keeps the held copy's), and only ever a copy at least as new as the one held.
    if (disk)
      await disk.save(body, { fetchedAt: copy.fetchedAt }).catch((e: NodeJS.ErrnoException) => env.logger.warn({ code: "GW_TRUST_FETCH", issuer, kid, reason: "disk", err: e.code ?? "error" }, "SHC revocation list not saved to disk"));
    return { copy, ...(error ? { error } : {}) };
  } catch (e) {
    const err = e instanceof SourceError ? e : new SourceError("GW_TRUST_FETCH", "internal", (e as Error).message);
    const kept = prev ?? (disk ? await fromDisk(disk, kid, crlVersion, env.clock.now(), env.logger) : undefined);
    env.logger.warn({ code: err.code, issuer, kid, reason: err.reason, err: err.message, copyKept: kept !== undefined }, kept ? "SHC revocation list not loaded; previous copy kept" : "SHC revocation list not loaded; no copy of it is held");
    return { ...(kept ? { copy: kept } : {}), error: `${err.code}:crl-${err.reason}` };
  }
}

/** The disk copy of a CRL with the time it was fetched, unless that time is in the future or the copy is bad. */
async function fromDisk(disk: DiskCopy, kid: string, crlVersion: number, now: number, log: CrlEnv["logger"]): Promise<CrlCopy | undefined> {
  // A copy torn or altered on disk (its digest does not match) is as good as none, but said so.
  const copy = await disk.load(MAX_CRL_BYTES).catch((e: unknown) => {
    log.warn({ code: "GW_TRUST_FETCH", kid, reason: (e as SourceError).reason ?? "disk", err: (e as Error).message }, "disk copy of SHC revocation list not used");
    return undefined;
  });
  if (!copy || !Number.isFinite(copy.meta.fetchedAt) || copy.meta.fetchedAt > now + FUTURE_TOLERANCE_MS) return undefined;
  try {
    const { rids, ctr } = parseCrl(copy.body, kid, crlVersion);
    return { rids, ctr, fetchedAt: copy.meta.fetchedAt };
  } catch {
    return undefined; // a bad disk copy is as good as none
  }
}
