/**
 * The built CLI end to end (`npm test` builds dist/ first): keys generate -> pass issue (+PNG) ->
 * trust-list sign -> verify (text, @FILE, --image), and a sample of the DCC and SHC vectors.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import verifyCommand from "../../src/cli/commands/verify.js";
import { loadDccVectors, DCC_DIR, type DccVector } from "./support/dcc-vectors.js";
import { agrees, DCC_DISAGREEMENTS } from "./support/dcc-agreement.js";
import { SHC_DIR, SHC_ISSUER } from "./support/shc.js";

const run = promisify(execFile);
const BIN = "bin/checkpoint-gateway.js";
let dir: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, stdout: x.stdout ?? "", stderr: x.stderr ?? "" };
  }
}
/** Runs the CLI in-process, collecting what it writes to stdout. */
async function captured(fn: () => Promise<number>): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await fn(), out: chunks.join("") };
  } finally {
    process.stdout.write = orig;
  }
}
const jsonLines = (s: string) => s.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(() => {
  if (!existsSync("dist/src/cli/commands/verify.js")) throw new Error("dist/ is missing: run `npm run build` (npm test does)");
  dir = mkdtempSync(join(tmpdir(), "cg-verify-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("issuer tools and verify CLI: our pass", () => {
  const pass = {
    subjectRef: "q3N0Zk1xV2JvYXJkX0E4Yg",
    passId: "P26-CLI-0001",
    origin: "VN-HN",
    destination: ["VN-SG"],
    declaredAt: "2026-03-09T20:15:00Z",
    health: "cleared",
    validFrom: "2026-03-09T20:15:00Z",
    validUntil: "2026-03-16T20:15:00Z",
    issuer: "VN-MOH",
  };

  it("keys generate writes a private (0600) and a public JWK with the kid; never overwrites", { timeout: 120_000 }, async () => {
    const r = await cli("keys", "generate", "--out", dir, "--kid", "moh-01", "--issuer", "VN-MOH");
    expect(r.code).toBe(0);
    const pub = JSON.parse(readFileSync(join(dir, "moh-01.public.jwk.json"), "utf8")) as Record<string, string>;
    expect(pub).toMatchObject({ kty: "EC", crv: "P-256", kid: "moh-01", alg: "ES256", issuer: "VN-MOH" });
    expect(pub.d).toBeUndefined();
    expect(statSync(join(dir, "moh-01.private.jwk.json")).mode & 0o077).toBe(0);
    expect((await cli("keys", "generate", "--out", dir, "--kid", "moh-01")).code).toBe(2);
    expect((await cli("keys", "generate", "--kid", "x")).code).toBe(64);
    expect((await cli("keys", "generate", "--out", dir, "--kid", "../evil")).code).toBe(64);
    expect((await cli("keys", "generate", "--out", dir, "--kid", "root")).code).toBe(0);
  });

  it("pass issue prints VN1: text and writes a PNG; a signed trust list makes it PASS, a deny list REVOKED", { timeout: 120_000 }, async () => {
    writeFileSync(join(dir, "pass.json"), JSON.stringify(pass));
    const r = await cli("pass", "issue", "--key", join(dir, "moh-01.private.jwk.json"), "--in", join(dir, "pass.json"), "--png", join(dir, "pass.png"));
    expect(r.code, r.stderr).toBe(0);
    const text = r.stdout.trim();
    expect(text).toMatch(/^VN1:[0-9A-Z $%*+\-./:]+$/);
    expect(readFileSync(join(dir, "pass.png")).subarray(1, 4).toString()).toBe("PNG");
    writeFileSync(join(dir, "pass.txt"), text + "\n");

    const pub = JSON.parse(readFileSync(join(dir, "moh-01.public.jwk.json"), "utf8")) as Record<string, unknown>;
    const list = { version: 7, issuedAt: "2026-03-01T00:00:00Z", entries: [{ kid: "moh-01", issuer: "VN-MOH", formats: ["pass"], jwk: pub }] };
    writeFileSync(join(dir, "list.json"), JSON.stringify(list));
    const signed = await cli("trust-list", "sign", "--root", join(dir, "root.private.jwk.json"), "--in", join(dir, "list.json"), "--out", join(dir, "list.jws"));
    expect(signed.code, signed.stderr).toBe(0);

    const at = "2026-03-10T08:00:00Z";
    const trust = ["--trust", join(dir, "list.jws"), "--root", join(dir, "root.public.jwk.json")];
    const v = await cli("verify", ...trust, "--at", at, "--json", text, `@${join(dir, "pass.txt")}`, "VN1:BROKEN!");
    expect(v.code, v.stderr).toBe(0);
    expect(jsonLines(v.stdout)).toEqual([
      { verdict: "PASS", reason: "OK", format: "pass", kid: "moh-01", issuer: "VN-MOH" },
      { verdict: "PASS", reason: "OK", format: "pass", kid: "moh-01", issuer: "VN-MOH" },
      { verdict: "FLAG", reason: "BASE45_INVALID", format: "pass" },
    ]);
    expect(v.stdout + v.stderr).not.toContain("P26-CLI-0001");

    writeFileSync(join(dir, "deny.txt"), credentialIdHashHex("P26-CLI-0001") + "\n");
    const rev = await cli("verify", ...trust, "--trust", join(dir, "deny.txt"), "--at", at, "--json", text);
    expect(jsonLines(rev.stdout)[0]).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
    const late = await cli("verify", ...trust, "--at", "2026-04-01T00:00:00Z", "--json", text);
    expect(jsonLines(late.stdout)[0]).toMatchObject({ verdict: "FLAG", reason: "EXPIRED" });
    const untrusted = await cli("verify", "--at", at, "--json", text);
    expect(jsonLines(untrusted.stdout)[0]).toMatchObject({ verdict: "FLAG", reason: "KEY_UNKNOWN" });
  });

  it("--image reads the QR from the PNG that pass issue wrote", { timeout: 120_000 }, async () => {
    const v = await cli("verify", "--trust", join(dir, "list.jws"), "--root", join(dir, "root.public.jwk.json"), "--at", "2026-03-10T08:00:00Z", "--json", "--image", join(dir, "pass.png"));
    expect(v.code, v.stderr).toBe(0);
    expect(jsonLines(v.stdout)).toEqual([{ verdict: "PASS", reason: "OK", format: "pass", kid: "moh-01", issuer: "VN-MOH" }]);
  });

  it("usage errors exit non-zero; FLAG verdicts do not", { timeout: 120_000 }, async () => {
    expect((await cli("verify")).code).toBe(64);
    expect((await cli("verify", "--at", "not-a-time", "x")).code).toBe(64);
    expect((await cli("verify", "--bogus", "x")).code).toBe(64);
    expect((await cli("verify", "--trust", join(dir, "missing.pem"), "x")).code).toBe(2);
    expect((await cli("pass", "issue", "--key", join(dir, "moh-01.public.jwk.json"), "--in", join(dir, "pass.json"))).code).toBe(2);
    const r = await cli("verify", "--json", "hello");
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)[0]).toEqual({ verdict: "FLAG", reason: "PREFIX_UNKNOWN", format: "unknown" });
  });
});

describe("verify CLI: shared test vectors", () => {
  function writeVector(v: DccVector): { cert: string; input: string; at: string } {
    const base = join(dir, v.name.replace(/\W/g, "_"));
    writeFileSync(`${base}.pem`, `-----BEGIN CERTIFICATE-----\n${v.certificate!.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`);
    writeFileSync(`${base}.txt`, v.prefix);
    return { cert: `${base}.pem`, input: `@${base}.txt`, at: new Date(v.clockMs!).toISOString() };
  }

  it("every DCC vector through the verify command (in-process, same module the binary runs) agrees with its EXPECTED flags", { timeout: 120_000 }, async () => {
    const disagreements: string[] = [];
    const vectors = loadDccVectors();
    for (const v of vectors) {
      const f = writeVector(v);
      const { code, out } = await captured(() => verifyCommand(["--trust", f.cert, "--at", f.at, "--json", f.input]));
      expect(code).toBe(0);
      const o = JSON.parse(out) as { reason: string; format: string };
      if (!agrees(v, o.reason)) disagreements.push(v.name);
    }
    expect(disagreements.sort()).toEqual(Object.keys(DCC_DISAGREEMENTS).sort());
    expect(vectors.length).toBe(439);
  });

  it("a sample of DCC vectors through the real binary (node bin/checkpoint-gateway.js verify --json)", { timeout: 120_000 }, async () => {
    const pick = ["DE/2DCode/raw/1.json", "common/2DCode/raw/CO5.json", "common/2DCode/raw/CO6.json", "common/2DCode/raw/CO17.json", "common/2DCode/raw/Z1.json"];
    const vectors = loadDccVectors().filter((v) => pick.includes(v.name));
    expect(vectors).toHaveLength(pick.length);
    const results = await Promise.all(vectors.map((v) => {
      const f = writeVector(v);
      return cli("verify", "--trust", f.cert, "--at", f.at, "--json", f.input);
    }));
    expect(results.map((r) => (jsonLines(r.stdout)[0]!).reason)).toEqual(vectors.map((v) => ({
      "DE/2DCode/raw/1.json": "OK", "common/2DCode/raw/CO5.json": "SIGNATURE_INVALID", "common/2DCode/raw/CO6.json": "KEY_USAGE_MISMATCH",
      "common/2DCode/raw/CO17.json": "EXPIRED", "common/2DCode/raw/Z1.json": "DECOMPRESS_FAILED",
    })[v.name]));
    expect(results.every((r) => r.code === 0)).toBe(true);
    expect(existsSync(join(DCC_DIR, "LICENSE"))).toBe(true);
  });

  it("SHC examples: PASS, chunks assembled across inputs, revoked via the issuer's rid list", { timeout: 120_000 }, async () => {
    const ex = (f: string) => `@${join(SHC_DIR, "examples", f)}`;
    const crl = JSON.parse(readFileSync(join(SHC_DIR, "examples/issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json"), "utf8")) as { kid: string; rids: string[] };
    writeFileSync(join(dir, "shc-deny.json"), JSON.stringify({ shc: [{ issuer: SHC_ISSUER, kid: crl.kid, rids: crl.rids }] }));
    const r = await cli(
      "verify",
      "--trust", `${SHC_ISSUER}=${join(SHC_DIR, "examples/issuer/.well-known/jwks.json")}`,
      "--trust", join(dir, "shc-deny.json"),
      "--at", "2023-07-01T00:00:00Z",
      "--json",
      ex("example-00-f-qr-code-numeric-value-0.txt"),
      ex("example-01-f-qr-code-numeric-value-0.txt"),
      ex("example-02-f-qr-code-numeric-value-0.txt"),
      ex("example-02-f-qr-code-numeric-value-1.txt"),
      ex("example-02-f-qr-code-numeric-value-2.txt"),
      ex("example-03-f-qr-code-numeric-value-0.txt"),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).map((o) => o.reason)).toEqual(["OK", "OK", "SHC_CHUNKS_INCOMPLETE", "SHC_CHUNKS_INCOMPLETE", "OK", "REVOKED"]);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ verdict: "PASS", format: "shc", issuer: SHC_ISSUER });
  });
});
