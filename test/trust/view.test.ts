import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { TrustKey } from "../../src/verify/trust/types.js";
import { buildView, type SourceSnapshot } from "../../src/verify/trust/view.js";
import { RevocationIndex, credentialIdHashHex } from "../../src/verify/trust/revocation-index.js";
import { ridKey } from "../../src/verify/trust/revocations.js";

const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
const k = (kid: string, issuer: string, format: TrustKey["formats"][number]): TrustKey => ({ kid, issuer, formats: [format], key, source: "t" });
const src = (over: Partial<SourceSnapshot>): SourceSnapshot => ({ id: "s", ok: true, keys: [], refreshedAt: 1000, ...over });
const DAY = 86_400_000;

describe("buildView", () => {
  it("keeps several keys per kid, each bound to its issuer and format", () => {
    const v = buildView([src({ keys: [k("dup", "XA", "pass"), k("dup", "XB", "pass"), k("dup", "XA", "dcc")] }), src({ id: "s2", keys: [k("dup", "XC", "pass")] })], { maxAgeMs: DAY });
    expect(v.keysFor("dup", "pass").map((x) => x.issuer)).toEqual(["XA", "XB", "XC"]);
    expect(v.keysFor("dup", "dcc").map((x) => x.issuer)).toEqual(["XA"]);
    expect(v.keysFor("dup", "shc")).toEqual([]);
    expect(v.keysForIssuer!("XA", "pass").map((x) => x.kid)).toEqual(["dup"]);
    expect(Object.isFrozen(v.keysFor("dup", "pass"))).toBe(true);
    expect(Object.isFrozen(v)).toBe(true);
  });

  it("computes staleness from the oldest source, a never-loaded source and an expired list", () => {
    const fresh = buildView([src({ refreshedAt: 10 * DAY }), src({ id: "b", refreshedAt: 11 * DAY })], { maxAgeMs: 2 * DAY });
    expect(fresh.status(11 * DAY)).toMatchObject({ stale: false, refreshedAt: 10 * DAY, ageMs: DAY });
    expect(fresh.status(12 * DAY + 1).stale).toBe(true);
    const never = buildView([src({}), src({ id: "b", refreshedAt: undefined, ok: false, error: "GW_TRUST_FETCH:network" })], { maxAgeMs: 2 * DAY });
    expect(never.status(1000)).toMatchObject({ stale: true });
    expect(never.status(1000).sources[1]).toEqual({ source: "b", ok: false, error: "GW_TRUST_FETCH:network", keys: 0 });
    const expiring = buildView([src({ refreshedAt: 0, expiresAt: 5000 })], { maxAgeMs: DAY });
    expect(expiring.status(4999).stale).toBe(false);
    expect(expiring.status(5000).stale).toBe(true);
    expect(buildView([], { maxAgeMs: DAY }).status(0)).toMatchObject({ stale: false, version: "0" });
  });

  it("reports when the trust data expires: the earliest signed list's expiresAt, absent when no list carries one", () => {
    const two = buildView([src({ expiresAt: 9 * DAY }), src({ id: "b" }), src({ id: "c", expiresAt: 7 * DAY })], { maxAgeMs: 30 * DAY });
    // Known a week ahead while the data is still fresh: monitoring can warn before every lane goes stale.
    expect(two.status(DAY)).toMatchObject({ stale: false, expiresAt: 7 * DAY });
    expect(two.status(7 * DAY)).toMatchObject({ stale: true, expiresAt: 7 * DAY });
    expect(buildView([src({}), src({ id: "b" })], { maxAgeMs: DAY }).status(1000)).not.toHaveProperty("expiresAt");
  });

  it("combines revocation indexes of all sources with the site overlay", () => {
    const v = buildView([src({ hashes: RevocationIndex.fromHex([credentialIdHashHex("A")]) }), src({ id: "b", hashes: RevocationIndex.fromHex([credentialIdHashHex("B")]) })], { maxAgeMs: DAY });
    expect(["A", "B", "C"].map((id) => v.isRevoked({ format: "pass", id }))).toEqual([true, true, false]);
  });

  it("an SHC key announcing a CRL that no source reports loading leaves its cards stale (fail safe), other keys not (audit #1)", () => {
    const announcing: TrustKey = { ...k("k1", "https://i", "shc"), crlVersion: 1 };
    const q = (kid: string) => ({ format: "shc" as const, issuer: "https://i", kid, id: "rid" });
    const bare = buildView([src({ keys: [announcing, k("k2", "https://i", "shc")] })], { maxAgeMs: DAY });
    expect([bare.revocationsStale!(q("k1"), 2000), bare.revocationsStale!(q("k2"), 2000)]).toEqual([true, false]);
    // Once a source reports that CRL (here from another source holding the same key), its age decides.
    const loaded = buildView([src({ keys: [announcing] }), src({ id: "b", keys: [], crl: { asOf: new Map([[ridKey("https://i", "k1"), 1000]]) } })], { maxAgeMs: DAY });
    expect(loaded.revocationsStale!(q("k1"), 2000)).toBe(false);
  });
});
