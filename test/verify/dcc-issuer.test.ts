/** Issue #11.7: the DCC issuer check is normalised, not only an exact two-letter upper-case `iss`. */
import { describe, expect, it } from "vitest";
import { encodeCbor } from "../../src/verify/pass/issue-pass.js";
import { deResigned } from "./support/de-resigned.js";
import { signedCoseText } from "../../bench/lib/fuzz-targets.js";

const { vec, cwt, privateKey, kid, verifier } = deResigned();

/** The DE vector's claims re-signed by a key trusted for DE, with `iss` replaced. */
function withIss(iss: unknown): string {
  const m = new Map(cwt);
  m.set(1, iss);
  return signedCoseText("HC1:", encodeCbor(m), kid, privateKey, true);
}

describe("DCC issuer binding", () => {
  it("a DE key vouches for iss DE in any case or padding", () => {
    expect(cwt.get(1)).toBe("DE");
    for (const iss of ["DE", "de", " De ", "DE\n"]) expect([iss, verifier.verify(withIss(iss), { nowMs: vec.clockMs! }).reason]).toEqual([iss, "OK"]);
  });

  it("a DE key does not vouch for another country however it is written", () => {
    for (const iss of ["FR", "fr", " Fr", "fr\t", "\nfR"]) {
      const v = verifier.verify(withIss(iss), { nowMs: vec.clockMs! });
      expect([iss, v.verdict, v.reason]).toEqual([iss, "FLAG", "ISSUER_UNTRUSTED"]);
    }
  });
});
