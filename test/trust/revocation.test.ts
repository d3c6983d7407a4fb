import { createHash, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { credentialIdHash, credentialIdHashHex, RevocationIndex } from "../../src/verify/trust/revocation-index.js";
import { deltaCarried, RevocationDeltaError, RevocationSet, ridKey } from "../../src/verify/trust/revocations.js";

const hex = (id: string) => credentialIdHashHex(id);

describe("credential-id hash", () => {
  it("is the first 16 bytes of SHA-256 over the UTF-8 id, as hex (docs/trust.md)", () => {
    const id = "URN:UVCI:01:XA:ÄBC123#7";
    const expected = createHash("sha256").update(Buffer.from(id, "utf8")).digest("hex").slice(0, 32);
    expect(hex(id)).toBe(expected);
    expect(credentialIdHash(id)).toHaveLength(16);
  });
});

describe("RevocationIndex", () => {
  it("finds every entry and nothing else, with duplicates dropped", () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `pass-${i}`);
    const idx = RevocationIndex.fromHex([...ids.map(hex), ...ids.slice(0, 100).map(hex)]);
    expect(idx.size).toBe(5000);
    expect(ids.filter((id) => !idx.has(credentialIdHash(id)))).toEqual([]);
    expect(ids.filter((id) => idx.has(credentialIdHash(`other-${id}`)))).toEqual([]);
  });

  it("agrees with a Set on random content, including hashes that share a bucket prefix", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 300 }), fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 50 }), (entries, probes) => {
        // Force collisions: make half the entries share their first 4 bytes.
        const all = entries.map((e, i) => (i % 2 ? Uint8Array.from([1, 2, 3, 4, ...e.subarray(4)]) : e));
        const set = new Set(all.map((e) => Buffer.from(e).toString("hex")));
        const idx = RevocationIndex.fromBytes(Buffer.concat(all.map((e) => Buffer.from(e))));
        expect(idx.size).toBe(set.size);
        for (const p of [...all, ...probes]) expect(idx.has(p)).toBe(set.has(Buffer.from(p).toString("hex")));
      }),
      { numRuns: 200 },
    );
  });

  it("round-trips through its binary form", () => {
    const hashes = Array.from({ length: 1000 }, () => randomBytes(16).toString("hex"));
    const a = RevocationIndex.fromHex(hashes);
    const b = RevocationIndex.fromBytes(a.toBytes());
    expect(b.size).toBe(1000);
    for (const h of hashes) expect(b.hasHex(h)).toBe(true);
  });

  it("parses a text deny list without a string per line and reports bad lines", () => {
    const good = [hex("a"), hex("b").toUpperCase(), hex("c")];
    const body = Buffer.from(`# deny list v3\r\n${good[0]}\r\n\n  ${good[1]}  \nnot-a-hash\n${good[2]}\n${good[2]!.slice(0, 31)}g\n`);
    const { index, badLines } = RevocationIndex.fromText(body);
    expect(index.size).toBe(3);
    expect(badLines).toEqual([5, 7]);
    for (const id of ["a", "b", "c"]) expect(index.has(credentialIdHash(id))).toBe(true);
  });

  it("rejects malformed hex and short lookups", () => {
    expect(() => RevocationIndex.fromHex(["abc"])).toThrow(/32 hex digits/);
    expect(() => RevocationIndex.fromBytes(new Uint8Array(15))).toThrow(/multiple of 16/);
    expect(RevocationIndex.fromHex([hex("x")]).has(new Uint8Array(8))).toBe(false);
  });
});

describe("RevocationSet deltas", () => {
  const base = new RevocationSet([RevocationIndex.fromHex(["p1", "p2", "p3"].map(hex))]);

  it("adds and removes on top of an index without changing the original snapshot", () => {
    const next = base.withDelta({ add: [hex("p4")], remove: [hex("p2")] });
    expect(next.isRevoked({ format: "pass", id: "p4" })).toBe(true);
    expect(next.isRevoked({ format: "pass", id: "p2" })).toBe(false);
    expect(next.isRevoked({ format: "dcc", id: "p1" })).toBe(true);
    // The old snapshot (held by an in-flight verification) is untouched.
    expect(base.isRevoked({ format: "pass", id: "p4" })).toBe(false);
    expect(base.isRevoked({ format: "pass", id: "p2" })).toBe(true);
    const again = next.withDelta({ add: [hex("p2")] });
    expect(again.isRevoked({ format: "pass", id: "p2" })).toBe(true);
  });

  it("compacts the overlay into one index with the same answers", () => {
    const next = base.withDelta({ add: [hex("p4"), hex("p5")], remove: [hex("p1")] }).compact();
    expect(next.overlaySize).toBe(0);
    expect(next.indexes).toHaveLength(1);
    expect(["p1", "p2", "p3", "p4", "p5", "p6"].map((id) => next.isRevoked({ format: "pass", id }))).toEqual([false, true, true, true, true, false]);
  });

  it("checks SHC rids per issuer and kid, honouring rid.TIMESTAMP cut-offs", () => {
    const iss = "https://issuer.example/shc";
    const set = RevocationSet.empty.withDelta({ shc: [{ issuer: iss, kid: "k1", add: ["rid-all", "rid-cut.1700000000"] }] });
    expect(set.isRevoked({ format: "shc", issuer: iss, kid: "k1", id: "rid-all" })).toBe(true);
    expect(set.isRevoked({ format: "shc", issuer: iss, kid: "k2", id: "rid-all" })).toBe(false);
    expect(set.isRevoked({ format: "shc", issuer: "https://other.example", kid: "k1", id: "rid-all" })).toBe(false);
    expect(set.isRevoked({ format: "shc", issuer: iss, kid: "k1", id: "rid-cut", issuedAt: 1_699_999_999_000 })).toBe(true);
    expect(set.isRevoked({ format: "shc", issuer: iss, kid: "k1", id: "rid-cut", issuedAt: 1_700_000_001_000 })).toBe(false);
    expect(set.isRevoked({ format: "shc", issuer: iss, kid: "k1", id: "rid-cut" })).toBe(true);
    const removed = set.withDelta({ shc: [{ issuer: iss, kid: "k1", remove: ["rid-all"] }] });
    expect(removed.isRevoked({ format: "shc", issuer: iss, kid: "k1", id: "rid-all" })).toBe(false);
    expect(removed.shc.get(ridKey(iss, "k1"))?.size).toBe(1);
  });

  it("a delta is carried by a set that already revokes everything it names, for at least as long (deltaCarried)", () => {
    const iss = "https://issuer.example/shc";
    const signed = base.withDelta({ shc: [{ issuer: iss, kid: "k1", add: ["rid-all", "rid-cut.1700000000"] }] }).compact();
    expect(deltaCarried({ add: [hex("p1")], remove: [hex("p2").toUpperCase()] }, signed)).toBe(true);
    expect(deltaCarried({ add: [hex("p1"), hex("p9")] }, signed)).toBe(false);
    // A removal of what the set does not revoke withdraws an earlier delta's addition: it still matters.
    expect(deltaCarried({ remove: [hex("p9")] }, signed)).toBe(false);
    expect(deltaCarried({ shc: [{ issuer: iss, kid: "k1", add: ["rid-all.1800000000", "rid-cut.1600000000"] }] }, signed)).toBe(true);
    expect(deltaCarried({ shc: [{ issuer: iss, kid: "k1", add: ["rid-cut"] }] }, signed)).toBe(false); // revokes longer than the set
    expect(deltaCarried({ shc: [{ issuer: iss, kid: "k2", add: ["rid-all"] }] }, signed)).toBe(false);
    expect(deltaCarried({ shc: [{ issuer: iss, kid: "k1", remove: ["rid-all"] }] }, signed)).toBe(true);
    expect(deltaCarried({ shc: [{ issuer: iss, kid: "k1", remove: ["rid-cut"] }] }, signed)).toBe(false);
  });

  it("rejects a malformed delta with a clear error", () => {
    expect(() => base.withDelta({ add: ["zz"] })).toThrow(RevocationDeltaError);
    expect(() => base.withDelta({ shc: [{ issuer: "https://i", kid: "k", add: ["r.notatime"] }] })).toThrow(RevocationDeltaError);
  });
});
