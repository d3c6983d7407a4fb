import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CompactSign, importJWK } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import trustListCommand from "../../src/cli/commands/trust-list.js";
import { credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import { DeltaRefused, REVOCATION_DELTA_TYP, signRevocationDelta, verifyRevocationDelta } from "../../src/verify/trust/signed-delta.js";
import { importEcJwk } from "../../src/verify/trust/keys.js";
import { makeKeyPair, tempDir } from "./helpers.js";

const tmp = tempDir("delta");
afterAll(() => tmp.cleanup());

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DeltaRefused);
    return (e as DeltaRefused).reason;
  }
  throw new Error("not refused");
};

describe("signed revocation deltas", () => {
  it("verify only against the named signers; unsigned, tampered, wrong typ and malformed are refused with a reason", async () => {
    const signer = await makeKeyPair("rev-1");
    const other = await makeKeyPair("rev-2");
    const signers = [{ kid: "rev-1", key: importEcJwk(signer.pub) }];
    const delta = { add: [credentialIdHashHex("A")], shc: [{ issuer: "https://i", kid: "k", add: ["r1.1700000000"] }] };
    const jws = await signRevocationDelta(delta, signer.priv, 1234);
    expect(verifyRevocationDelta(jws, signers)).toEqual({ delta, issuedAt: 1234, kid: "rev-1" });
    expect(refusal(() => verifyRevocationDelta(JSON.stringify(delta), signers))).toBe("unsigned");
    expect(refusal(() => verifyRevocationDelta(jws, []))).toBe("unknown-signer");
    const byOther = await signRevocationDelta(delta, other.priv);
    expect(refusal(() => verifyRevocationDelta(byOther, signers))).toBe("unknown-signer");
    const [h, , s] = jws.split(".") as [string, string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ issuedAt: 1234, delta: { remove: delta.add } })).toString("base64url");
    expect(refusal(() => verifyRevocationDelta(`${h}.${forgedPayload}.${s}`, signers))).toBe("signature");
    const wrongTyp = await new CompactSign(Buffer.from(JSON.stringify({ issuedAt: 1, delta })))
      .setProtectedHeader({ alg: "ES256", typ: "cpgw-trust-list+jws", kid: "rev-1" })
      .sign(await importJWK(signer.priv, "ES256"));
    expect(refusal(() => verifyRevocationDelta(wrongTyp, signers))).toBe("signature");
    const badBody = await new CompactSign(Buffer.from(JSON.stringify({ issuedAt: 1, delta: { add: ["zz"] } })))
      .setProtectedHeader({ alg: "ES256", typ: REVOCATION_DELTA_TYP, kid: "rev-1" })
      .sign(await importJWK(signer.priv, "ES256"));
    expect(refusal(() => verifyRevocationDelta(badBody, signers))).toBe("schema");
    await expect(signRevocationDelta({ add: ["zz"] }, signer.priv)).rejects.toThrow(/32 hex digits/);
    await expect(signRevocationDelta(delta, signer.pub)).rejects.toThrow(/no private key/);
  });

  it("trust-list sign-delta writes a delta the gateways accept", async () => {
    const signer = await makeKeyPair("rev-cli");
    const keyFile = join(tmp.dir, "rev.private.jwk.json");
    const inFile = join(tmp.dir, "delta.json");
    const outFile = join(tmp.dir, "delta.jws");
    writeFileSync(keyFile, JSON.stringify(signer.priv));
    writeFileSync(inFile, JSON.stringify({ add: [credentialIdHashHex("CLI-1")] }));
    expect(await trustListCommand(["sign-delta", "--key", keyFile, "--in", inFile, "--out", outFile])).toBe(0);
    const v = verifyRevocationDelta(readFileSync(outFile, "utf8"), [{ kid: "rev-cli", key: importEcJwk(signer.pub) }]);
    expect(v.delta).toEqual({ add: [credentialIdHashHex("CLI-1")] });
    writeFileSync(inFile, JSON.stringify({ add: ["nothex"] }));
    expect(await trustListCommand(["sign-delta", "--key", keyFile, "--in", inFile, "--out", outFile])).toBe(2);
    expect(await trustListCommand(["sign-delta", "--in", inFile, "--out", outFile])).toBe(64);
  });
});
