/**
 * A bare rid revokes every card with it, `rid.TS` only cards issued before TS; a list naming both
 * revokes every card, whatever the order of the entries and whichever source reads them (deny-list
 * JSON, a signed list's shc-rid blocks, an issuer CRL, signed deltas). Before, the last entry won:
 * `["RIDX", "RIDX.1600000000"]` let a card issued in 2023 with rid RIDX PASS.
 */
import { describe, expect, it } from "vitest";
import { createVerifier, shcKeysFromJwks } from "../../src/verify/index.js";
import { listContent, verifyTrustList } from "../../src/verify/trust/signed-list.js";
import { parseRootKey } from "../../src/verify/trust/keys.js";
import { RevocationSet, ridKey, type RidMap } from "../../src/verify/trust/revocations.js";
import { parseRevocationBody } from "../../src/verify/trust/sources/revocation-source.js";
import { parseCrl } from "../../src/verify/trust/sources/shc-crl.js";
import { buildView, type SourceSnapshot } from "../../src/verify/trust/view.js";
import { readFileSync } from "node:fs";
import { EXAMPLE_KID, examplePayload, SHC_AT, SHC_DIR, SHC_ISSUER, signShc } from "../verify/support/shc.js";
import { makeKeyPair, signedList } from "./helpers.js";

const jwks = JSON.parse(readFileSync(`${SHC_DIR}/examples/issuer/.well-known/jwks.json`, "utf8")) as { keys: unknown[] };
// The spec key announces a CRL; without it here, each case below is the one list it names.
const keys = shcKeysFromJwks(jwks, SHC_ISSUER, "spec jwks").keys.filter((k) => k.kid === EXAMPLE_KID).map(({ crlVersion: _c, ...k }) => k);
const base = examplePayload();
/** nbf 2023-06-22: after the 1600000000 (2020-09-13) cut-off, so only a bare RIDX revokes it. */
const card = signShc({ ...base, vc: { ...(base.vc as object), rid: "RIDX" } });
const ORDERS = [["RIDX", "RIDX.1600000000"], ["RIDX.1600000000", "RIDX"]];

function verdict(src: Partial<SourceSnapshot>, overlay?: RevocationSet) {
  const view = buildView([{ id: "t", ok: true, refreshedAt: SHC_AT, keys, ...src }], { maxAgeMs: 86_400_000, ...(overlay ? { overlay } : {}) });
  return createVerifier({ trust: () => view, salt: "t", clockSkewS: 60 }).verify(card, { nowMs: SHC_AT });
}

describe("SHC rid with and without a cut-off in one list: the wider revocation stays", () => {
  it("the test key has no CRL of its own and the card PASSes with no revocation, and with only RIDX.1600000000", () => {
    expect(keys).toHaveLength(1);
    expect(verdict({})).toMatchObject({ verdict: "PASS", reason: "OK" });
    const cut = parseRevocationBody(Buffer.from(JSON.stringify({ shc: [{ issuer: SHC_ISSUER, kid: EXAMPLE_KID, rids: ["RIDX.1600000000"] }] })));
    expect(verdict({ shc: cut.shc! })).toMatchObject({ verdict: "PASS", reason: "OK" });
  });

  it.each(ORDERS)("deny-list JSON %s, %s: REVOKED", (a, b) => {
    const one = parseRevocationBody(Buffer.from(JSON.stringify({ shc: [{ issuer: SHC_ISSUER, kid: EXAMPLE_KID, rids: [a, b] }] })));
    expect(verdict({ shc: one.shc! })).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
    // Two blocks for the same issuer and kid.
    const two = parseRevocationBody(Buffer.from(JSON.stringify({ shc: [{ issuer: SHC_ISSUER, kid: EXAMPLE_KID, rids: [a] }, { issuer: SHC_ISSUER, kid: EXAMPLE_KID, rids: [b] }] })));
    expect(verdict({ shc: two.shc! })).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
  });

  it.each(ORDERS)("signed trust list shc-rid block(s) %s, %s: REVOKED", async (a, b) => {
    const root = await makeKeyPair("root-1");
    const pinned = parseRootKey(JSON.stringify(root.pub));
    for (const revocations of [
      [{ type: "shc-rid", issuer: SHC_ISSUER, kid: EXAMPLE_KID, rids: [a, b] }],
      [{ type: "shc-rid", issuer: SHC_ISSUER, kid: EXAMPLE_KID, rids: [a] }, { type: "shc-rid", issuer: SHC_ISSUER, kid: EXAMPLE_KID, rids: [b] }],
    ]) {
      const { payload } = await verifyTrustList(await signedList(root.priv, 1, [], { revocations }), pinned);
      const c = await listContent(payload, "test");
      expect(verdict({ shc: c.shc })).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
    }
  });

  it.each(ORDERS)("issuer CRL %s, %s: REVOKED", (a, b) => {
    const { rids } = parseCrl(Buffer.from(JSON.stringify({ kid: EXAMPLE_KID, method: "rid", ctr: 1, rids: [a, b] })), EXAMPLE_KID, 1);
    const crl = { asOf: new Map([[ridKey(SHC_ISSUER, EXAMPLE_KID), SHC_AT]]), rids: new Map<string, RidMap>([[ridKey(SHC_ISSUER, EXAMPLE_KID), rids]]) };
    expect(verdict({ crl })).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
  });

  it.each(ORDERS)("deltas %s then %s, in one delta or two: REVOKED", (a, b) => {
    const shc = (add: string[]) => ({ shc: [{ issuer: SHC_ISSUER, kid: EXAMPLE_KID, add }] });
    expect(verdict({}, RevocationSet.empty.withDelta(shc([a!, b!])))).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
    expect(verdict({}, RevocationSet.empty.withDelta(shc([a!])).withDelta(shc([b!])))).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
  });

  it("a delta narrows an earlier delta's revocation only by removing it: remove RIDX, add RIDX.TS", () => {
    const all = RevocationSet.empty.withDelta({ shc: [{ issuer: SHC_ISSUER, kid: EXAMPLE_KID, add: ["RIDX"] }] });
    const narrowed = all.withDelta({ shc: [{ issuer: SHC_ISSUER, kid: EXAMPLE_KID, remove: ["RIDX"], add: ["RIDX.1600000000"] }] });
    expect(narrowed.shc.get(ridKey(SHC_ISSUER, EXAMPLE_KID))?.get("RIDX")).toBe(1_600_000_000_000);
    expect(verdict({}, narrowed)).toMatchObject({ verdict: "PASS", reason: "OK" });
    // Never what a signed source revokes: the overlay's narrowing does not reach the list's RIDX.
    const list = parseRevocationBody(Buffer.from(JSON.stringify({ shc: [{ issuer: SHC_ISSUER, kid: EXAMPLE_KID, rids: ["RIDX"] }] })));
    expect(verdict({ shc: list.shc! }, narrowed)).toMatchObject({ verdict: "FLAG", reason: "REVOKED" });
  });
});
