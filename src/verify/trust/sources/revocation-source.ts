import { z } from "zod";
import { RevocationIndex, RevocationIndexError } from "../revocation-index.js";
import { addRid, ridKey, RevocationDeltaError } from "../revocations.js";
import { DocSource, digest, type Parsed, type SourceEnv } from "./base.js";
import { SourceError } from "./errors.js";

// Strict: a JSON file that is something else (an unsigned trust list, a JWKS) must not load as an empty deny list.
const jsonList = z.strictObject({
  version: z.union([z.number(), z.string()]).optional(),
  hashes: z.array(z.string()).optional(),
  shc: z.array(z.object({ issuer: z.string().url(), kid: z.string().min(1), rids: z.array(z.string().min(1).max(128)) })).optional(),
});

/** trust.denyListMaxDropPct's default. */
export const DEFAULT_DENY_LIST_MAX_DROP_PCT = 50;
/** Below this many entries held, any drop is taken: a small list's swings are not evidence of anything. */
export const SHRINK_GUARD_MIN_ENTRIES = 20;

/** Hashes plus SHC rids: what a deny list revokes. */
export const denyEntries = (p: Pick<Parsed, "hashes" | "shc">): number => (p.hashes?.size ?? 0) + [...(p.shc?.values() ?? [])].reduce((a, m) => a + m.size, 0);

/**
 * A deny list (docs/trust.md): text with one 32-hex-digit hash per line, or JSON
 * `{ version?, hashes?: [...], shc?: [{ issuer, kid, rids }] }`. Unsigned, so any malformed line
 * rejects the whole document (it is likely truncated or not a deny list) and the old one stays.
 * For the same reason a download that drops more than `maxDropPct` of the entries held at once
 * (a CDN serving an empty or a stub file, a generator that failed half-way) is refused and the
 * held list stays: whatever it lost would be un-revoked. A real purge that large needs the held
 * copy removed by hand (docs/trust.md); meanwhile the list goes stale, which the lanes show.
 */
export class RevocationSource extends DocSource {
  constructor(
    location: string,
    env: SourceEnv,
    allowInsecureHttp = false,
    private readonly maxDropPct = DEFAULT_DENY_LIST_MAX_DROP_PCT,
  ) {
    super("revocations", location, env);
    this.allowHttp = allowInsecureHttp;
    // The cap stays trust.maxListBytes: a deny list of millions of hashes is what RevocationIndex is for.
    this.what = "deny list";
  }

  protected async parse(body: Buffer, origin: "fetch" | "disk" | "shared"): Promise<Parsed> {
    const parsed = parseRevocationBody(body);
    const held = denyEntries(this.snapshot);
    const got = denyEntries(parsed);
    if (origin === "fetch" && held >= SHRINK_GUARD_MIN_ENTRIES && this.maxDropPct < 100 && got < held * (1 - this.maxDropPct / 100)) {
      throw new SourceError("GW_TRUST_FETCH", "shrunk", `deny list fell from ${held} to ${got} entries in one download (more than ${this.maxDropPct}% gone): the held list is kept`);
    }
    return parsed;
  }
}

export function parseRevocationBody(body: Buffer): Parsed {
  const first = body.subarray(0, 64).toString("latin1").trimStart();
  const version = digest(body).slice(0, 12);
  if (!first.startsWith("{")) {
    const { index, badLines } = RevocationIndex.fromText(body);
    if (badLines.length > 0) throw new SourceError("GW_TRUST_FETCH", "content", `deny list has ${badLines.length} malformed line(s), first at line ${badLines[0]}`);
    return { keys: [], hashes: index, version };
  }
  let parsed;
  try {
    parsed = jsonList.parse(JSON.parse(body.toString("utf8")));
  } catch {
    throw new SourceError("GW_TRUST_FETCH", "content", "deny list JSON is malformed");
  }
  try {
    const hashes = RevocationIndex.fromHex((parsed.hashes ?? []).map((h) => h.toLowerCase()));
    const shc = new Map<string, Map<string, number>>();
    for (const e of parsed.shc ?? []) {
      const m = shc.get(ridKey(e.issuer, e.kid)) ?? new Map<string, number>();
      for (const r of e.rids) addRid(m, r);
      shc.set(ridKey(e.issuer, e.kid), m);
    }
    return { keys: [], hashes, shc, version: parsed.version !== undefined ? String(parsed.version) : version };
  } catch (e) {
    if (e instanceof RevocationIndexError || e instanceof RevocationDeltaError) throw new SourceError("GW_TRUST_FETCH", "content", e.message);
    throw e;
  }
}
