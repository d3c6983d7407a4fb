import { readFile, rename, writeFile } from "node:fs/promises";
import type { JWK } from "jose";
import { parse, UsageError } from "../args.js";
import { parseRootKey, TrustKeyError } from "../../verify/trust/keys.js";
import { signTrustList, TrustListError, verifyTrustList, listContent } from "../../verify/trust/signed-list.js";
import { signRevocationDelta } from "../../verify/trust/signed-delta.js";
import { RevocationDeltaError, type RevocationDelta } from "../../verify/trust/revocations.js";

const USAGE = `usage: checkpoint-gateway trust-list sign --root ROOT.private.jwk.json --in LIST.json --out LIST.jws
       checkpoint-gateway trust-list verify --root ROOT.public.jwk.json --in LIST.jws [--json]
       checkpoint-gateway trust-list sign-delta --key SIGNER.private.jwk.json --in DELTA.json --out DELTA.jws`;

/**
 * `trust-list sign`: validates the payload (every key and certificate is imported) and writes a
 * compact JWS ES256. `trust-list verify`: checks a signed list as a gateway would and prints a summary.
 * `trust-list sign-delta`: signs a revocation delta `{ add?, remove?, shc? }` with a key the list
 * names in `revocationSigners` (the gateways refuse any other); append the output to the site's
 * stream (`XADD PREFIX revocations * d JWS`). Exit 0 ok, 2 invalid list, delta or key, 64 usage.
 */
export default async function trustListCommand(args: string[]): Promise<number> {
  let values: { root?: string; key?: string; in?: string; out?: string; json?: boolean };
  let sub: string | undefined;
  try {
    const p = parse(args, { root: { type: "string" }, key: { type: "string" }, in: { type: "string" }, out: { type: "string" }, json: { type: "boolean" } });
    values = p.values;
    sub = p.positionals[0];
    if (p.positionals.length !== 1 || (sub !== "sign" && sub !== "verify" && sub !== "sign-delta")) throw new UsageError("expected one subcommand: sign, verify or sign-delta");
    if (sub === "sign-delta" ? !values.key || !values.in || !values.out : !values.root || !values.in || (sub === "sign" && !values.out)) throw new UsageError("missing --root/--key, --in or --out");
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n${USAGE}\n`);
    return 64;
  }
  try {
    if (sub === "sign-delta") {
      let key: JWK;
      let delta: RevocationDelta;
      try {
        key = JSON.parse(await readText(values.key!, "signer key")) as JWK;
      } catch (e) {
        if (e instanceof FileError) throw e;
        throw new TrustKeyError("signer key file is not a JWK (JSON)");
      }
      try {
        delta = JSON.parse(await readText(values.in!, "delta")) as RevocationDelta;
      } catch (e) {
        if (e instanceof FileError) throw e;
        throw new TrustListError("schema", "delta file is not valid JSON");
      }
      let jws: string;
      try {
        jws = await signRevocationDelta(delta, key);
      } catch (e) {
        if (e instanceof RevocationDeltaError) throw new TrustListError("schema", e.message);
        throw e;
      }
      const tmp = `${values.out!}.tmp`;
      await writeFile(tmp, jws + "\n");
      await rename(tmp, values.out!);
      process.stdout.write(`${values.out}: signed revocation delta (kid ${String(key.kid)})\n`);
      return 0;
    }
    if (sub === "sign") {
      const rootText = await readText(values.root!, "root key");
      let root: JWK;
      try {
        root = JSON.parse(rootText) as JWK;
      } catch {
        throw new TrustKeyError("root key file is not a JWK (JSON)");
      }
      let payload: unknown;
      try {
        payload = JSON.parse(await readText(values.in!, "list"));
      } catch (e) {
        if (e instanceof TrustKeyError) throw e;
        throw new TrustListError("schema", "list file is not valid JSON");
      }
      const jws = await signTrustList(payload, root);
      const tmp = `${values.out!}.tmp`;
      await writeFile(tmp, jws + "\n");
      await rename(tmp, values.out!);
      const p = payload as { version: number; entries: unknown[] };
      process.stdout.write(`${values.out}: signed trust list version ${p.version} (${p.entries.length} entries, ${jws.length} bytes)\n`);
      return 0;
    }
    const root = parseRootKey(await readText(values.root!, "root key"));
    const { payload, digest } = await verifyTrustList((await readText(values.in!, "list")).trim(), root);
    const content = await listContent(payload, values.in!);
    const summary = {
      ok: true,
      version: payload.version,
      issuedAt: payload.issuedAt,
      expiresAt: payload.expiresAt ?? null,
      keys: content.keys.length,
      revokedHashes: content.hashes.size,
      digest: digest.slice(0, 16),
    };
    process.stdout.write(values.json ? JSON.stringify(summary) + "\n" : `${values.in}: ok, version ${summary.version}, ${summary.keys} keys, ${summary.revokedHashes} revoked hashes\n`);
    return 0;
  } catch (e) {
    if (e instanceof TrustListError || e instanceof TrustKeyError) {
      const code = e instanceof TrustListError ? "GW_TRUST_SIGNATURE" : "GW_USAGE";
      process.stderr.write(`${code}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof FileError) {
      process.stderr.write(`GW_USAGE: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

class FileError extends Error {}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new FileError(`cannot read ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  }
}
