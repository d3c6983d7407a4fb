import { createPrivateKey, sign, type JsonWebKey } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import trustListCommand from "../../src/cli/commands/trust-list.js";
import { dccKid, importEcJwk, parseRootKey } from "../../src/verify/trust/keys.js";
import { listContent, signTrustList, TRUST_LIST_TYP, verifyTrustList, TrustListError } from "../../src/verify/trust/signed-list.js";
import { credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import { CompactSign, importJWK } from "jose";
import { makeCertificate, makeKeyPair, passEntry, signedList, tempDir } from "./helpers.js";

const tmp = tempDir("list");
afterAll(() => tmp.cleanup());

async function rejection(p: Promise<unknown>): Promise<TrustListError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(TrustListError);
  return e as TrustListError;
}

describe("signed trust list", () => {
  it("signs and verifies: pass keys, DCC certificates (kid computed), SHC JWKS and revocations", async () => {
    const root = await makeKeyPair("root-1");
    const pass = await passEntry("pk-1", "XA");
    const cert = makeCertificate(tmp.dir, "dsc1", "XA");
    const shcKey = await makeKeyPair("ignored");
    const { kid: _k, ...shcJwk } = shcKey.pub;
    const jws = await signedList(root.priv, 7, [
      pass.entry,
      { issuer: "XA", formats: ["dcc"], certificate: cert.der.toString("base64") },
      { issuer: "https://shc.example/issuer", formats: ["shc"], jwks: { keys: [shcJwk] } },
    ], { revocations: [{ type: "id-hash", hashes: [credentialIdHashHex("PASS-REVOKED")] }, { type: "shc-rid", issuer: "https://shc.example/issuer", kid: "k", rids: ["r1"] }] });
    const { payload, digest } = await verifyTrustList(jws, parseRootKey(JSON.stringify(root.pub)));
    expect(payload.version).toBe(7);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const c = await listContent(payload, "test");
    expect(c.keys.map((k) => [k.kid, k.issuer, k.formats.join()])).toEqual([
      ["pk-1", "XA", "pass"],
      [dccKid(cert.der), "XA", "dcc"],
      [expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), "https://shc.example/issuer", "shc"],
    ]);
    expect(c.keys[1]!.certificate).toBeDefined();
    expect(c.keys[1]!.notAfter).toBeGreaterThan(Date.now());
    expect(c.hashes.hasHex(credentialIdHashHex("PASS-REVOKED"))).toBe(true);
    expect(c.shc.size).toBe(1);
  });

  it("rejects a list signed by another key, a tampered payload, a wrong typ and a bad payload", async () => {
    const root = await makeKeyPair("root-1");
    const other = await makeKeyPair("root-1");
    const pinned = parseRootKey(JSON.stringify(root.pub));
    const good = await signedList(root.priv, 1, [(await passEntry("a")).entry]);
    expect((await rejection(verifyTrustList(await signedList(other.priv, 1, []), pinned))).reason).toBe("signature");
    const [h, p, s] = good.split(".");
    const tampered = JSON.parse(Buffer.from(p!, "base64url").toString());
    tampered.version = 99;
    expect((await rejection(verifyTrustList(`${h}.${Buffer.from(JSON.stringify(tampered)).toString("base64url")}.${s}`, pinned))).reason).toBe("signature");
    expect((await rejection(verifyTrustList(good.slice(0, good.length - 10), pinned))).reason).toBe("signature");
    const key = await importJWK(root.priv, "ES256");
    const wrongTyp = await new CompactSign(Buffer.from(JSON.stringify({ version: 1, issuedAt: new Date().toISOString(), entries: [] }))).setProtectedHeader({ alg: "ES256", typ: "JWT" }).sign(key);
    expect((await rejection(verifyTrustList(wrongTyp, pinned))).reason).toBe("signature");
    const badPayload = await new CompactSign(Buffer.from(JSON.stringify({ version: "one", entries: [] }))).setProtectedHeader({ alg: "ES256", typ: TRUST_LIST_TYP }).sign(key);
    const e = await rejection(verifyTrustList(badPayload, pinned));
    expect(e.reason).toBe("schema");
    expect(e.message).toMatch(/version/);
    expect((await rejection(verifyTrustList("x".repeat(2000), pinned, 1000))).reason).toBe("size");
    expect((await rejection(verifyTrustList(`${h}.${p}`, pinned))).message).toMatch(/not a compact JWS/);
    expect((await rejection(verifyTrustList(`${h}.${p}.${s}.x`, pinned))).message).toMatch(/not a compact JWS/);
    expect((await rejection(verifyTrustList(`${h}.${p}.${s!.slice(0, -4)}`, pinned))).message).toMatch(/does not verify/);
    const critInput = `${Buffer.from(JSON.stringify({ alg: "ES256", typ: TRUST_LIST_TYP, crit: ["exp"], exp: 1 })).toString("base64url")}.${p}`;
    const critSig = sign("sha256", Buffer.from(critInput), { key: createPrivateKey({ key: root.priv as JsonWebKey, format: "jwk" }), dsaEncoding: "ieee-p1363" });
    const crit = `${critInput}.${critSig.toString("base64url")}`;
    expect((await rejection(verifyTrustList(crit, pinned))).message).toMatch(/unsupported header/);
    const hs = `${Buffer.from(JSON.stringify({ alg: "HS256", typ: TRUST_LIST_TYP })).toString("base64url")}.${p}.${s}`;
    expect((await rejection(verifyTrustList(hs, pinned))).message).toMatch(/alg is not ES256/);
    const badHashes = await new CompactSign(Buffer.from(JSON.stringify({ version: 1, issuedAt: new Date().toISOString(), entries: [], revocations: [{ type: "id-hash", hashes: [1, 2] }] }))).setProtectedHeader({ alg: "ES256", typ: TRUST_LIST_TYP }).sign(key);
    const { payload } = await verifyTrustList(badHashes, pinned);
    await expect(listContent(payload, "t")).rejects.toThrow(/revocation entry 0 is not 32 hex digits/);
  });

  it("refuses to sign invalid content (bad key, bad certificate, bad revocation hash)", async () => {
    const root = await makeKeyPair("r");
    await expect(signTrustList({ version: 1, issuedAt: new Date().toISOString(), entries: [{ kid: "a", issuer: "X", formats: ["pass"], jwk: { kty: "RSA", n: "x", e: "AQAB" } }] }, root.priv)).rejects.toThrow(/entry 0: key must be EC P-256/);
    await expect(signTrustList({ version: 1, issuedAt: new Date().toISOString(), entries: [{ issuer: "X", formats: ["dcc"], certificate: "AAAAAAAAAAAAAAAAAAAA" }] }, root.priv)).rejects.toThrow(/entry 0: not a valid X.509/);
    await expect(signTrustList({ version: 1, issuedAt: new Date().toISOString(), entries: [], revocations: [{ type: "id-hash", hashes: ["nothex"] }] }, root.priv)).rejects.toThrow(/32 hex digits/);
    await expect(signTrustList({ version: 1, issuedAt: new Date().toISOString(), entries: [] }, root.pub)).rejects.toThrow(/no private key/);
  });

  it("keeps only the public part of a private root JWK and refuses non-P-256 roots", async () => {
    const root = await makeKeyPair("r");
    expect(parseRootKey(JSON.stringify(root.priv)).key.type).toBe("public");
    expect(parseRootKey(JSON.stringify(root.pub)).kid).toBe("r");
    expect(() => parseRootKey("{nope")).toThrow(/not valid JSON/);
    expect(() => parseRootKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")).toThrow(/neither a JWK nor a PEM/);
    expect(importEcJwk(root.pub).asymmetricKeyType).toBe("ec");
  });
});

describe("trust-list CLI", () => {
  it("signs a list file that `trust-list verify` and the verifier accept", async () => {
    const root = await makeKeyPair("root-cli");
    const rootPriv = join(tmp.dir, "root-cli.private.jwk.json");
    const rootPub = join(tmp.dir, "root-cli.public.jwk.json");
    writeFileSync(rootPriv, JSON.stringify(root.priv));
    writeFileSync(rootPub, JSON.stringify(root.pub));
    const listIn = join(tmp.dir, "list.json");
    const listOut = join(tmp.dir, "list.jws");
    writeFileSync(listIn, JSON.stringify({ version: 3, issuedAt: new Date().toISOString(), entries: [(await passEntry("cli-k")).entry] }));
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await trustListCommand(["sign", "--root", rootPriv, "--in", listIn, "--out", listOut])).toBe(0);
      expect(await trustListCommand(["verify", "--root", rootPub, "--in", listOut, "--json"])).toBe(0);
      const summary = JSON.parse(String(out.mock.calls.at(-1)![0]));
      expect(summary).toMatchObject({ ok: true, version: 3, keys: 1, revokedHashes: 0 });
    } finally {
      out.mockRestore();
    }
    const { payload } = await verifyTrustList(readFileSync(listOut, "utf8"), parseRootKey(readFileSync(rootPub, "utf8")));
    expect(payload.entries).toHaveLength(1);
  });

  it("exits 64 on usage errors and 2 on a bad list or key, with a stable code", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await trustListCommand([])).toBe(64);
      expect(await trustListCommand(["sign", "--in", "x"])).toBe(64);
      expect(await trustListCommand(["sign", "--bogus"])).toBe(64);
      const bad = join(tmp.dir, "bad.json");
      writeFileSync(bad, "{ not json");
      const root = await makeKeyPair("r");
      const rootPriv = join(tmp.dir, "r.private.jwk.json");
      writeFileSync(rootPriv, JSON.stringify(root.priv));
      expect(await trustListCommand(["sign", "--root", rootPriv, "--in", bad, "--out", join(tmp.dir, "o.jws")])).toBe(2);
      expect(String(err.mock.calls.at(-1)![0])).toMatch(/^GW_TRUST_SIGNATURE: list file is not valid JSON/);
      expect(await trustListCommand(["sign", "--root", join(tmp.dir, "missing.jwk"), "--in", bad, "--out", join(tmp.dir, "o.jws")])).toBe(2);
      expect(String(err.mock.calls.at(-1)![0])).toMatch(/^GW_USAGE: cannot read root key file/);
      const other = await makeKeyPair("o");
      const otherPub = join(tmp.dir, "o.public.jwk.json");
      writeFileSync(otherPub, JSON.stringify(other.pub));
      const good = join(tmp.dir, "good.jws");
      writeFileSync(good, await signedList(root.priv, 1, []));
      expect(await trustListCommand(["verify", "--root", otherPub, "--in", good])).toBe(2);
      expect(String(err.mock.calls.at(-1)![0])).toMatch(/^GW_TRUST_SIGNATURE: JWS kid is not the pinned root.s kid/);
    } finally {
      err.mockRestore();
    }
  });
});
