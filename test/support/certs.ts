import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Throw-away P-256 certificates made by openssl at test time (nothing committed). Files are
 * `<dir>/<name>.pem` and `<dir>/<name>.key`.
 */
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A self-signed certificate (a CA, or a server certificate with `san`, e.g. "DNS:localhost,IP:127.0.0.1"). */
export function selfSigned(dir: string, name: string, opts: { cn?: string; days?: number; san?: string } = {}): { cert: string; key: string } {
  openssl(dir, ["req", "-x509", ...EC, "-days", String(opts.days ?? 2), "-subj", `/CN=${opts.cn ?? name}`, ...(opts.san ? ["-addext", `subjectAltName=${opts.san}`] : []), "-keyout", `${name}.key`, "-out", `${name}.pem`]);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

/** A leaf signed by the CA `<dir>/<ca>.pem`, with the given x509v3 extension lines. */
export function signedBy(dir: string, name: string, ca: string, ext: string, days = 2): { cert: string; key: string } {
  openssl(dir, ["req", ...EC, "-subj", `/CN=${name}`, "-keyout", `${name}.key`, "-out", `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-days", String(days), "-extfile", `${name}.ext`, "-out", `${name}.pem`]);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}
