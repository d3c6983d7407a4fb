import { createPrivateKey, randomBytes, type JsonWebKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import QRCode from "qrcode";
import { parse, UsageError } from "../args.js";
import { claimsFromJson, issuePass } from "../../verify/pass/issue-pass.js";
import { VerifyFailure } from "../../verify/reasons.js";

const USAGE = "usage: checkpoint-gateway pass issue --key KID.private.jwk.json --in PASS.json [--png OUT.png]";

/**
 * `pass issue`: signs a checkpoint pass (docs/checkpoint-pass.md) and prints the QR text; `--png`
 * also writes the QR image (ECC level M). A missing `passId` is generated. Exit 0 ok, 2 bad key or
 * pass JSON, 64 usage. The pass content is never echoed except as the signed QR text.
 */
export default async function passCommand(args: string[]): Promise<number> {
  let key: string, input: string, png: string | undefined;
  try {
    const p = parse(args, { key: { type: "string" }, in: { type: "string" }, png: { type: "string" } });
    if (p.positionals.length !== 1 || p.positionals[0] !== "issue") throw new UsageError("expected the subcommand: issue");
    if (!p.values.key || !p.values.in) throw new UsageError("missing --key or --in");
    key = p.values.key;
    input = p.values.in;
    png = p.values.png;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n${USAGE}\n`);
    return 64;
  }
  let text: string;
  try {
    const jwk = JSON.parse(await readFile(key, "utf8")) as JsonWebKey & { kid?: string };
    if (!jwk.d || jwk.kty !== "EC" || jwk.crv !== "P-256") throw new Error(`${key}: not an EC P-256 private JWK`);
    if (!jwk.kid) throw new Error(`${key}: the JWK has no kid`);
    const privateKey = createPrivateKey({ key: jwk, format: "jwk" });
    const json = JSON.parse(await readFile(input, "utf8")) as Record<string, unknown>;
    json.passId ??= randomBytes(9).toString("base64url");
    text = issuePass(claimsFromJson(json), jwk.kid, privateKey);
  } catch (e) {
    const msg = e instanceof VerifyFailure ? `pass JSON invalid: ${e.detail ?? e.reason}` : (e as Error).message;
    process.stderr.write(`${msg}\n`);
    return 2;
  }
  if (png) {
    try {
      await QRCode.toFile(png, text, { errorCorrectionLevel: "M", margin: 4, scale: 6 });
    } catch (e) {
      process.stderr.write(`cannot write ${png}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  process.stdout.write(text + "\n");
  return 0;
}
