import { generateKeyPairSync } from "node:crypto";
import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parse, UsageError } from "../args.js";
import { jwkThumbprint } from "../../verify/trust/keys.js";

const USAGE = "usage: checkpoint-gateway keys generate --out DIR [--kid KID] [--issuer ID]";
const KID = /^[A-Za-z0-9._-]{1,40}$/;

/**
 * `keys generate`: an EC P-256 (ES256) key pair as JWKs with a kid, for signing passes (or a trust
 * list root). The private file is written 0600 and never overwritten; the public one goes into
 * trust lists as `{ kid, issuer, formats: ["pass"], jwk }`. Exit 0 ok, 2 file exists/unwritable, 64 usage.
 */
export default async function keysCommand(args: string[]): Promise<number> {
  let out: string, kid: string | undefined, issuer: string | undefined;
  try {
    const p = parse(args, { out: { type: "string" }, kid: { type: "string" }, issuer: { type: "string" } });
    if (p.positionals.length !== 1 || p.positionals[0] !== "generate") throw new UsageError("expected the subcommand: generate");
    if (!p.values.out) throw new UsageError("missing --out DIR");
    out = p.values.out;
    kid = p.values.kid;
    issuer = p.values.issuer;
    if (kid !== undefined && !KID.test(kid)) throw new UsageError("--kid: 1-40 characters of A-Z a-z 0-9 . _ -");
    if (issuer !== undefined && !/^[A-Za-z0-9._:-]{1,40}$/.test(issuer)) throw new UsageError("--issuer: 1-40 characters of A-Z a-z 0-9 . _ : -");
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n${USAGE}\n`);
    return 64;
  }
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pub = publicKey.export({ format: "jwk" });
  // Default kid: short and derived from the key, so two operators cannot collide by accident.
  const id = kid ?? "k-" + jwkThumbprint(pub).slice(0, 10);
  const meta = { kid: id, alg: "ES256", use: "sig", ...(issuer ? { issuer } : {}) };
  const privPath = join(out, `${id}.private.jwk.json`);
  const pubPath = join(out, `${id}.public.jwk.json`);
  try {
    await mkdir(out, { recursive: true });
    await writeFile(privPath, JSON.stringify({ ...privateKey.export({ format: "jwk" }), ...meta }, null, 2) + "\n", { mode: 0o600, flag: "wx" });
    await writeFile(pubPath, JSON.stringify({ ...pub, ...meta }, null, 2) + "\n", { flag: "wx" });
  } catch (e) {
    process.stderr.write(`cannot write key files: ${(e as Error).message}\n`);
    return 2;
  }
  process.stdout.write(`${pubPath}\n${privPath}\n`);
  return 0;
}
