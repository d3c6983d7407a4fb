/**
 * An SHC revocation entry is `rid` or `rid.TIMESTAMP`, the timestamp seconds since the epoch in
 * digits. Before, the timestamp went through Number(): `R.` (and `R. `, `R.\t`) read as `R.0`, a
 * revocation of no card at all (fail open), and `R.0x10`, `R.1e10` were taken, while `R.abc`
 * refused the whole list. Now anything but 1-12 digits after the dot is a bad entry, and every
 * reader (deny-list JSON, signed list shc-rid blocks, issuer CRLs, deltas) refuses the whole list or
 * delta for it, as for other malformed entries: the old list stays in use (docs/trust.md).
 */
import { CompactSign, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import { listContent, TRUST_LIST_TYP, verifyTrustList } from "../../src/verify/trust/signed-list.js";
import { importEcJwk, parseRootKey } from "../../src/verify/trust/keys.js";
import { deltaCarried, parseRid, RevocationDeltaError, RevocationSet, ridKey } from "../../src/verify/trust/revocations.js";
import { DeltaRefused, REVOCATION_DELTA_TYP, signRevocationDelta, verifyRevocationDelta } from "../../src/verify/trust/signed-delta.js";
import { parseRevocationBody } from "../../src/verify/trust/sources/revocation-source.js";
import { parseCrl } from "../../src/verify/trust/sources/shc-crl.js";
import { listPayload, makeKeyPair, signedList } from "./helpers.js";

const ISS = "https://issuer.example";
const KID = "K1";
/** Before, all but the last four (refused already) were read: the blank ones as R.0, a revocation of no card. */
const BAD = ["R.", "R. ", "R.\t", "R.\n", "R.0x10", "R.1e10", "R. 5", "R.+5", "R.-1", "R.1.5", "R.1_000", "R.1234567890123", "R.١٢", "R.abc"];
const GOOD: Array<[string, number]> = [
  ["R", Infinity],
  ["R.0", 0],
  ["R.1600000000", 1_600_000_000_000],
  ["R.000000000001", 1000],
];

const denyList = (rids: string[]) => Buffer.from(JSON.stringify({ shc: [{ issuer: ISS, kid: KID, rids }] }));
const crl = (rids: string[]) => Buffer.from(JSON.stringify({ kid: KID, method: "rid", ctr: 1, rids }));
const delta = (add: string[], remove: string[] = []) => ({ shc: [{ issuer: ISS, kid: KID, add, remove }] });

describe("SHC rid timestamps: digits only, a malformed one refuses the list", () => {
  it.each(GOOD)("%s is read (before = %d ms)", (entry, before) => {
    expect(parseRid(entry)).toEqual({ rid: "R", before });
    expect(parseRevocationBody(denyList([entry])).shc!.get(ridKey(ISS, KID))!.get("R")).toBe(before);
    expect(parseCrl(crl([entry]), KID, 1).rids.get("R")).toBe(before);
    expect(RevocationSet.empty.withDelta(delta([entry])).shc.get(ridKey(ISS, KID))!.get("R")).toBe(before);
  });

  it.each(BAD)("parseRid(%j) throws", (entry) => {
    expect(() => parseRid(entry)).toThrow(RevocationDeltaError);
  });

  it.each(BAD)("deny-list JSON with %j next to good entries is refused", (entry) => {
    expect(() => parseRevocationBody(denyList(["OTHER", entry, "X.1600000000"]))).toThrow(/rid timestamp/);
  });

  it.each(BAD)("issuer CRL with %j is refused", (entry) => {
    expect(() => parseCrl(crl(["OTHER", entry]), KID, 1)).toThrow(/bad rid entry/);
  });

  it("signed trust list shc-rid block with a malformed timestamp is refused", async () => {
    const root = await makeKeyPair("root-1");
    const pinned = parseRootKey(JSON.stringify(root.pub));
    const key = await importJWK({ ...root.priv, alg: "ES256" }, "ES256");
    for (const entry of BAD) {
      // Signed by hand: signTrustList refuses to sign such a list.
      const revocations = [{ type: "shc-rid", issuer: ISS, kid: KID, rids: ["OTHER", entry] }];
      const body = await listPayload(1, [], { revocations });
      const jws = await new CompactSign(Buffer.from(JSON.stringify(body))).setProtectedHeader({ alg: "ES256", typ: TRUST_LIST_TYP, kid: "root-1" }).sign(key);
      await expect(signedList(root.priv, 1, [], { revocations })).rejects.toThrow(/bad rid entry/);
      const { payload } = await verifyTrustList(jws, pinned);
      await expect((async () => listContent(payload, "test"))(), JSON.stringify(entry)).rejects.toThrow(/bad rid entry/);
    }
    const { payload } = await verifyTrustList(await signedList(root.priv, 2, [], { revocations: [{ type: "shc-rid", issuer: ISS, kid: KID, rids: ["R.1600000000"] }] }), pinned);
    expect((await listContent(payload, "test")).shc.get(ridKey(ISS, KID))?.get("R")).toBe(1_600_000_000_000);
  });

  it.each(BAD)("delta adding or removing %j is refused, and is not signed", async (entry) => {
    expect(() => RevocationSet.empty.withDelta(delta([entry]))).toThrow(RevocationDeltaError);
    expect(() => RevocationSet.empty.withDelta(delta([], [entry]))).toThrow(RevocationDeltaError);
    expect(() => deltaCarried(delta([entry]), RevocationSet.empty.withDelta(delta(["R"])))).toThrow(RevocationDeltaError);
    const signer = await makeKeyPair("rev-1");
    await expect(signRevocationDelta(delta([entry]), signer.priv)).rejects.toThrow(RevocationDeltaError);
    // Signed anyway (by hand): verifying it refuses it as a malformed delta.
    const jws = await new CompactSign(Buffer.from(JSON.stringify({ issuedAt: 1, delta: delta([entry]) })))
      .setProtectedHeader({ alg: "ES256", typ: REVOCATION_DELTA_TYP, kid: "rev-1" })
      .sign(await importJWK({ ...signer.priv, alg: "ES256" }, "ES256"));
    let refused: unknown;
    try {
      verifyRevocationDelta(jws, [{ kid: "rev-1", key: importEcJwk(signer.pub) }]);
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(DeltaRefused);
    expect((refused as DeltaRefused).reason).toBe("schema");
  });
});
